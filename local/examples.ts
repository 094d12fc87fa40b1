// Ready-to-paste requests against the local server: printed by `npm start`, quoted in the README, and run by the
// integration tests, so the three never disagree.

export const EXAMPLE_CUSTOMER_ID = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';

export interface Example {
  title: string;
  command: (baseUrl: string) => string;
}

const json = (value: unknown) => `'${JSON.stringify(value)}'`;
// URLs in double quotes: `?` is a glob in zsh, and `$ORDER_ID` must still expand.
// Every purchase carries an Idempotency-Key (required): run an example twice and the second answer is the first.
const post = (baseUrl: string, path: string, body?: unknown, key?: string) =>
  `curl -s -X POST "${baseUrl}${path}"` +
  (key === undefined ? '' : ` -H 'Idempotency-Key: ${key}'`) +
  (body === undefined ? '' : ` -H 'Content-Type: application/json' -d ${json(body)}`);

// Each purchase example buys its own number of seats: the same lines bought again under another key within 24 hours
// are refused as a possible duplicate (409), as they would be for anyone pasting these one after the other.
const order = (quantity: number) => ({
  lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity, termDuration: 'P1Y' }],
  billingCycle: 'monthly',
});
const cart = (quantity: number) => ({
  lineItems: [
    { catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity, billingCycle: 'monthly', termDuration: 'P1Y' },
  ],
});

export const examples: Example[] = [
  {
    title: 'Find what to buy: catalog ids by name, for this customer (read-only)',
    command: (base) =>
      `curl -s "${base}/customers/${EXAMPLE_CUSTOMER_ID}/catalog?search=Microsoft%20365%20E3&targetView=OnlineServices"`,
  },
  {
    title: 'Create an order (New-PartnerCustomerOrder)',
    command: (base) => post(base, `/customers/${EXAMPLE_CUSTOMER_ID}/orders`, order(5), 'example-order-0001'),
  },
  {
    title: 'See what would be sent and what the catalog says about it, send nothing (-WhatIf; no key needed)',
    command: (base) => post(base, `/customers/${EXAMPLE_CUSTOMER_ID}/orders?dryRun=true`, order(1)),
  },
  {
    title: 'Add an add-on to the subscription of a new order (New-PartnerCustomerOrder -OrderId)',
    command: (base) =>
      `read ORDER_ID SUBSCRIPTION_ID < <(${post(base, `/customers/${EXAMPLE_CUSTOMER_ID}/orders`, order(2), 'example-order-0002')} | node -pe 'const o = JSON.parse(require("fs").readFileSync(0)); o.id + " " + o.lineItems[0].subscriptionId') && ` +
      `curl -s -X PATCH "${base}/customers/${EXAMPLE_CUSTOMER_ID}/orders/$ORDER_ID" -H 'Idempotency-Key: example-addon-0001' -H 'Content-Type: application/json' ` +
      `-d '{"lineItems":[{"offerId":"CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ","quantity":5,"termDuration":"P1Y","parentSubscriptionId":"'$SUBSCRIPTION_ID'"}]}'`,
  },
  {
    title: 'Create a cart and check it out in one call (New-PartnerCustomerCart + Submit-PartnerCustomerCart)',
    command: (base) =>
      post(base, `/customers/${EXAMPLE_CUSTOMER_ID}/carts`, { ...cart(3), checkout: true }, 'example-cart-0001'),
  },
  {
    title: 'Create a cart, then check it out by id',
    command: (base) =>
      `CART_ID=$(${post(base, `/customers/${EXAMPLE_CUSTOMER_ID}/carts`, cart(3), 'example-cart-0002')} | node -pe 'JSON.parse(require("fs").readFileSync(0)).id') && ` +
      post(base, `/customers/${EXAMPLE_CUSTOMER_ID}/carts/$CART_ID/checkout`, undefined, 'example-checkout-0001'),
  },
  {
    title:
      'Safe to retry: run it twice, the second answer is the first one replayed (header Idempotent-Replayed: true)',
    command: (base) => post(base, `/customers/${EXAMPLE_CUSTOMER_ID}/orders`, order(4), 'order-2026-0001'),
  },
  {
    title: 'Order through the event path: an EventBridge PutEvents entry, as a producer would put it on the bus',
    command: (base) =>
      post(base, '/events', {
        Source: 'com.example.billing',
        DetailType: 'CreateOrder',
        Detail: JSON.stringify({ customerId: EXAMPLE_CUSTOMER_ID, ...order(6), idempotencyKey: 'invoice-2026-0001' }),
      }),
  },
  {
    title: 'The same from the command line (New-PartnerCustomerOrder style), retry-safe with a key',
    command: (base) =>
      `npx partner-orders order create --endpoint ${base} --customer-id ${EXAMPLE_CUSTOMER_ID} ` +
      `--line-item offerId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=7,termDuration=P1Y --idempotency-key order-2026-0002 --yes`,
  },
  {
    title: 'Are the Partner Center credentials alive? (redeems a token now; no secret values)',
    command: (base) => `curl -s "${base}/health/credentials"`,
  },
  {
    title: 'A bad request: answered 400 with every problem, nothing sent upstream',
    command: (base) =>
      post(
        base,
        `/customers/not-a-guid/orders`,
        { lineItems: [{ offerId: 'x', quantity: 0, quantiy: 1 }] },
        'example-bad-0001',
      ),
  },
];
