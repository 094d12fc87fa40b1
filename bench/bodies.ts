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

/** The base subscription the benchmarks' add-on extends: the upstream's `GET order` answers an order that has it. */
export const PARENT_SUBSCRIPTION = '1c2b75c1-74a5-472a-a729-7f8cefc477f9';

/** The subscription the benchmarks change (`GET …/subscriptions/{id}` answers it): active, renewing, NCE. */
export const BENCH_SUBSCRIPTION = '5a0c1d2e-3f40-4b5c-8d6e-000000000001';
export const benchSubscription = () => ({
  id: BENCH_SUBSCRIPTION,
  offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
  friendlyName: 'Microsoft 365 Business Basic',
  quantity: 5,
  status: 'active',
  autoRenewEnabled: true,
  termDuration: 'P1Y',
  billingCycle: 'monthly',
  scheduledNextTermInstructions: null,
});

/** The order an add-on is bought for, as `GET …/orders/{orderId}` answers it. */
export const parentOrder = () => {
  const [line] = SAMPLE.order.lineItems as Record<string, unknown>[];
  return { ...SAMPLE.order, lineItems: [{ ...line, subscriptionId: PARENT_SUBSCRIPTION }] };
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

/**
 * The catalog the benchmarks buy from, for the pre-flight's reads: each SKU with the availability the bench lines
 * name, in the documented shapes (product-resources.md). Any other SKU is not in the catalog (404).
 */
const CATALOG: Record<string, { title: string; availability: string; terms: [string, string][]; max: number }> = {
  'CFQ7TTC0LH18:0001': {
    title: 'Microsoft 365 Business Basic',
    availability: 'CFQ7TTC0K59S',
    terms: [
      ['P1M', 'monthly'],
      ['P1Y', 'monthly'],
      ['P1Y', 'annual'],
    ],
    max: 300,
  },
  'CFQ7TTC0LDPB:0001': {
    title: 'Microsoft 365 Audio Conferencing',
    availability: 'CFQ7TTC0K5DJ',
    terms: [
      ['P1M', 'monthly'],
      ['P1Y', 'monthly'],
      ['P1Y', 'annual'],
    ],
    max: 300,
  },
  'DZH318Z0BQ36:004G': {
    title: 'Windows Server 2022 Standard - 16 Core License Pack',
    availability: 'DZH318Z08C0S',
    terms: [['P1Y', 'one_time']],
    max: 10000,
  },
};

/** `GET …/products/{productId}/skus/{skuId}`, or undefined when the SKU is not in the bench catalog. */
export function catalogSku(productId: string, skuId: string): Record<string, unknown> | undefined {
  const entry = CATALOG[`${productId}:${skuId}`];
  if (!entry) return undefined;
  return {
    id: skuId,
    productId,
    title: entry.title,
    description: entry.title,
    minimumQuantity: 1,
    maximumQuantity: entry.max,
    isTrial: false,
    supportedBillingCycles: [...new Set(entry.terms.map(([, cycle]) => cycle))],
    purchasePrerequisites: [],
    inventoryVariables: [],
    provisioningVariables: [],
    attributes: { objectType: 'Sku' },
  };
}

/** `GET …/products/{productId}/skus/{skuId}/availabilities`, or undefined when the SKU is not in the bench catalog. */
export function catalogAvailabilities(productId: string, skuId: string): Record<string, unknown> | undefined {
  const entry = CATALOG[`${productId}:${skuId}`];
  if (!entry) return undefined;
  const availability = {
    id: entry.availability,
    productId,
    skuId,
    catalogItemId: `${productId}:${skuId}:${entry.availability}`,
    segment: 'commercial',
    country: 'US',
    isPurchasable: true,
    isRenewable: true,
    terms: entry.terms.map(([duration, billingCycle]) => ({ duration, description: duration, billingCycle })),
    product: { id: productId, title: entry.title },
    attributes: { objectType: 'Availability' },
  };
  return { totalCount: 1, items: [availability], attributes: { objectType: 'Collection' } };
}
