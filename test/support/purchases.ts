// Purchases the exactly-once suites make: each tagged (the line's friendlyName) so the simulator's ledger tells
// which orders one purchase placed.

export const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';

let counter = 0;
/** A name no other test of the run uses (keys, tags). */
export const unique = (name: string) => `${name}-${Date.now()}-${counter++}`;

/** A one-line new-commerce order tagged `tag`. */
export const orderOf = (tag: string, quantity = 3) => ({
  lineItems: [{ offerId: NCE, quantity, termDuration: 'P1Y', friendlyName: tag }],
  billingCycle: 'monthly',
});
