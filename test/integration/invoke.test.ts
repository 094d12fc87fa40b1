import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createCartHandler } from '../../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const lineItems = [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 2 }];
const cartLines = [{ catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 2, billingCycle: 'monthly' }];
captureLogs();

describe('direct invocation (Step Functions, another Lambda, aws lambda invoke)', () => {
  let stack: Stack;
  let order: ReturnType<typeof createOrderHandler>;
  let cart: ReturnType<typeof createCartHandler>;
  // Keys are required for purchases: each call gets a fresh one unless the payload names its own.
  const invoke = (handler: typeof order, payload: unknown) =>
    handler(
      typeof payload === 'object' && payload !== null
        ? { idempotencyKey: `invoke-${randomUUID()}`, ...payload }
        : payload,
      lambdaContext(20_000),
      // biome-ignore lint/suspicious/noExplicitAny: the tests read answers of every shape
    ) as Promise<any>;

  beforeAll(async () => {
    stack = await startStack({ idempotency: {}, env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '1000' } });
    order = createOrderHandler(stack.deps);
    cart = createCartHandler(stack.deps);
  });
  afterAll(() => stack.stop());
  beforeEach(() => stack.simulator.clearFaults());

  it('creates an order and returns the same JSON the HTTP route returns', async () => {
    const result = await invoke(order, { customerId: CUSTOMER, lineItems });
    expect(result).toMatchObject({ id: expect.stringMatching(/^Cs_/), referenceCustomerId: CUSTOMER });
    const http = await stack.request('POST', `/customers/${CUSTOMER}/orders`, { lineItems });
    expect(Object.keys(result).sort()).toEqual(Object.keys(http.json).sort());
  });

  it('adds add-ons when the payload names the order', async () => {
    const created = await invoke(order, { customerId: CUSTOMER, lineItems });
    const parentSubscriptionId = created.lineItems[0].subscriptionId;
    const patched = await invoke(order, {
      customerId: CUSTOMER,
      orderId: created.id,
      lineItems: [{ offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ', quantity: 1, parentSubscriptionId }],
    });
    // Placed through a cart whose line extends the subscription: Partner Center answers the new order it placed.
    expect(patched.id).toMatch(/^Cs_/);
    expect(patched.id).not.toBe(created.id);
    expect(patched.lineItems).toMatchObject([{ offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ', quantity: 1 }]);
  });

  it('creates and checks out a cart, and checks out a cart by id', async () => {
    const both = await invoke(cart, { customerId: CUSTOMER, lineItems: cartLines, checkout: true });
    expect(both.checkout.orders).toHaveLength(1);
    const created = await invoke(cart, { customerId: CUSTOMER, lineItems: cartLines });
    const checkedOut = await invoke(cart, { customerId: CUSTOMER, cartId: created.id });
    expect(checkedOut.orders).toHaveLength(1);
  });

  it('honours dryRun and idempotencyKey', async () => {
    const sent = stack.simulator.requests.length;
    const dry = await invoke(order, { customerId: CUSTOMER, lineItems, dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      requests: [
        { method: 'POST', url: expect.stringMatching(/\/carts$/) },
        { method: 'POST', url: expect.stringMatching(/\/carts\/\{cartId\}\/checkout$/) },
      ],
    });
    expect(stack.simulator.requests.length).toBe(sent);

    const before = stack.simulator.ledger.orders.length;
    const key = `invoke-${Date.now()}`;
    const first = await invoke(order, { customerId: CUSTOMER, lineItems, idempotencyKey: key });
    const again = await invoke(order, { customerId: CUSTOMER, lineItems, idempotencyKey: key });
    expect(again).toEqual(first);
    expect(stack.simulator.ledger.orders.length - before).toBe(1);
  });

  it('returns caller errors as problem details, naming every bad field, and sends nothing', async () => {
    const sent = stack.simulator.requests.length;
    const problem = await invoke(order, {
      customerId: 'contoso',
      lineItems: [{ offerId: 'x', quantity: 0 }],
      dryRun: 'yes',
      extra: 1,
    });
    expect(problem).toMatchObject({ status: 400, type: 'urn:partner-orders:problem:validation' });
    expect(problem.errors.map((e: { path: string }) => e.path).sort()).toEqual(
      ['/customerId', '/dryRun', '/extra', '/lineItems/0/offerId', '/lineItems/0/quantity'].sort(),
    );
    expect(await invoke(order, 'not an object')).toMatchObject({ status: 400 });
    expect(await invoke(cart, { customerId: CUSTOMER, cartId: 'nope' })).toMatchObject({
      status: 400,
      errors: [{ path: '/cartId' }],
    });
    expect(stack.simulator.requests.length).toBe(sent);
    const refused = await invoke(order, {
      customerId: CUSTOMER,
      lineItems: [{ offerId: 'INVALID:0001:X', quantity: 1 }],
    });
    expect(refused).toMatchObject({ status: 400, upstream: { code: '800004' } });
  });

  it('throws on transient failures so the caller’s retry policy applies', async () => {
    stack.simulator.injectFault({ kind: 'unavailable' });
    await expect(invoke(order, { customerId: CUSTOMER, lineItems })).rejects.toMatchObject({
      name: 'PartnerOrdersRetryableError',
      problem: { status: 502 },
    });
  });
});
