// What the benchmarks send and what the instant upstream answers: Partner Center's own documented samples
// (test/fixtures/partner-center), and orders of any size built from them.
import { readFileSync } from 'node:fs';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../test/fixtures/partner-center/${name}.json`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

/** The documented samples, compacted once: the bodies every answer sends. */
export const SAMPLE = {
  order: fixture('create-an-order-response'),
  addOn: fixture('purchase-an-add-on-to-a-subscription-response'),
  cart: fixture('create-a-cart-response'),
  checkout: fixture('checkout-a-cart-response'),
};

/** A customer id that makes the upstream answer an Order with `lines` line items (1 ≤ lines ≤ 100). */
export const customerWithLines = (lines: number) => `00000000-0000-0000-0000-${String(lines).padStart(12, '0')}`;

/** The Order Partner Center would answer for `lines` line items: the sample's line, numbered, one subscription each. */
export function orderWithLines(lines: number): Record<string, unknown> {
  const [line] = SAMPLE.order.lineItems as Record<string, unknown>[];
  return {
    ...SAMPLE.order,
    referenceCustomerId: customerWithLines(lines),
    lineItems: Array.from({ length: lines }, (_, i) => ({
      ...line,
      lineItemNumber: i,
      subscriptionId: `5a0c1d2e-3f40-4b5c-8d6e-${String(i).padStart(12, '0')}`,
    })),
  };
}

const orderLine = (i: number) => ({
  offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
  quantity: 5 + (i % 7),
  termDuration: 'P1Y',
  friendlyName: `seat block ${i}`,
});
/** A `POST orders` request body with `lines` line items. */
export const orderBody = (lines: number) => ({
  lineItems: Array.from({ length: lines }, (_, i) => orderLine(i)),
  billingCycle: 'monthly',
});
