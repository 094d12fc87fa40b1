// Issue 21: an unknown or unrelated customer is 404 customer-not-found at its field from every entry point (dry run
// included), never a catalog mismatch; and the possible-duplicate guard: the same lines bought again for the customer
// under another key are refused 409 possible-duplicate naming the earlier key, unless the caller says so.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATOR_NO_COMMERCE_CUSTOMER_ID, SIMULATOR_UNKNOWN_CUSTOMER_ID } from '../../local/simulator/index.js';
import { lambdaContext } from '../support/events.js';
import { invokeOrder } from '../support/invoke.js';
import { AS_NPM_START, type Stack, startStack } from '../support/stack.js';

const PROBLEM = 'urn:partner-orders:problem:';
const BASIC = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const E3 = 'CFQ7TTC0LFLZ:0001:CFQ7TTC0K4RX';
const order = (quantity = 5, lines: { offerId: string; quantity: number }[] = []) => ({
  lineItems: [{ offerId: BASIC, quantity, termDuration: 'P1Y' }, ...lines.map((l) => ({ ...l, termDuration: 'P1Y' }))],
  billingCycle: 'monthly',
});
const customer = () => randomUUID();
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers of every shape
const invoke = (stack: Stack, payload: Record<string, unknown>): Promise<any> =>
  invokeOrder(stack.deps)(payload, lambdaContext(20_000)) as Promise<unknown>;

describe('an unknown or unrelated customer', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(AS_NPM_START);
  });
  afterAll(() => stack.stop());

  const cases = [
    ['unknown (404/60003 Tenant not found)', SIMULATOR_UNKNOWN_CUSTOMER_ID, '60003'],
    ['not this partner’s (403/20002 no commerce relationship)', SIMULATOR_NO_COMMERCE_CUSTOMER_ID, '20002'],
  ] as const;

  it.each(cases)('%s: 404 customer-not-found at /path/customerId over HTTP, dry run included', async (_, id, code) => {
    for (const query of ['', '?dryRun=true']) {
      const answer = await stack.request('POST', `/customers/${id}/orders${query}`, order());
      expect(answer.status, query).toBe(404);
      expect(answer.json).toMatchObject({
        type: `${PROBLEM}customer-not-found`,
        errors: [{ path: '/path/customerId' }],
        upstream: { code },
      });
      expect(JSON.stringify(answer.json)).not.toContain('catalog-mismatch');
    }
    const cart = await stack.request('POST', `/customers/${id}/carts`, {
      lineItems: [{ catalogItemId: BASIC, quantity: 5, billingCycle: 'monthly', termDuration: 'P1Y' }],
      checkout: true,
    });
    expect(cart.json).toMatchObject({ status: 404, type: `${PROBLEM}customer-not-found` });
    // Nothing that buys reached Partner Center.
    expect(stack.simulator.requests.filter((r) => r.method !== 'GET' && r.path.includes(id))).toEqual([]);
  });

  it('with the pre-flight off, the purchase itself finds out: the same 404', async () => {
    const off = await startStack({ idempotency: {}, env: { PREFLIGHT: 'off' } });
    try {
      const answer = await off.request('POST', `/customers/${SIMULATOR_UNKNOWN_CUSTOMER_ID}/orders`, order());
      expect(answer.json).toMatchObject({ status: 404, type: `${PROBLEM}customer-not-found` });
    } finally {
      await off.stop();
    }
  });

  it('events: OrderRejected with the problem at /detail/customerId', async () => {
    const result = await stack.request('POST', '/events', {
      Source: 'com.example.billing',
      DetailType: 'CreateOrder',
      Detail: JSON.stringify({ customerId: SIMULATOR_UNKNOWN_CUSTOMER_ID, ...order(), idempotencyKey: randomUUID() }),
    });
    expect(result.json.outcomes).toMatchObject([
      {
        detailType: 'OrderRejected',
        detail: {
          problem: { status: 404, type: `${PROBLEM}customer-not-found`, errors: [{ path: '/detail/customerId' }] },
        },
      },
    ]);
  });

  it('direct invoke: the problem at /customerId, dry run included', async () => {
    for (const dryRun of [false, true]) {
      const answer = await invoke(stack, {
        customerId: SIMULATOR_NO_COMMERCE_CUSTOMER_ID,
        ...order(),
        ...(dryRun ? { dryRun } : { idempotencyKey: randomUUID() }),
      });
      expect(answer, String(dryRun)).toMatchObject({
        status: 404,
        type: `${PROBLEM}customer-not-found`,
        errors: [{ path: '/customerId' }],
      });
    }
  });

  it('GET /customers/{customerId} checks a customer with one read', async () => {
    const known = customer();
    const ok = await stack.request('GET', `/customers/${known}`);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ customerId: known, relationshipToPartner: 'reseller' });
    const missing = await stack.request('GET', `/customers/${SIMULATOR_UNKNOWN_CUSTOMER_ID}`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      type: `${PROBLEM}customer-not-found`,
      errors: [{ path: '/path/customerId' }],
    });
  });
});

describe('the possible-duplicate guard', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ ...AS_NPM_START, duplicates: { windowHours: 24 } });
  });
  afterAll(() => stack.stop());
  const buy = (id: string, key: string, body: unknown, headers: Record<string, string> = {}) =>
    stack.request('POST', `/customers/${id}/orders`, body, { 'Idempotency-Key': key, ...headers });

  it('refuses a retry under a NEW key with 409 naming the first key, its orders and when; Allow-Duplicate buys it', async () => {
    const id = customer();
    const first = await buy(id, 'first-key', order());
    expect(first.status).toBe(201);
    const again = await buy(id, 'second-key', order());
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({
      type: `${PROBLEM}possible-duplicate`,
      errors: [{ path: '/headers/allow-duplicate' }],
      earlier: { idempotencyKey: 'first-key', orderIds: [first.json.id], at: expect.any(String) },
    });
    expect(again.json.detail).toContain('first-key');
    expect(stack.simulator.ledger.orders.filter((o) => o.referenceCustomerId === id)).toHaveLength(1);
    // Not stored under the key: the same key with Allow-Duplicate buys.
    const meant = await buy(id, 'second-key', order(), { 'Allow-Duplicate': 'true' });
    expect(meant.status).toBe(201);
    expect(meant.json.id).not.toBe(first.json.id);
    expect(stack.simulator.ledger.orders.filter((o) => o.referenceCustomerId === id)).toHaveLength(2);
    // The same key again is a replay, not a duplicate.
    const replay = await buy(id, 'first-key', order());
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('a dry run reports it, and sends nothing', async () => {
    const id = customer();
    const first = await buy(id, 'dry-first', order(7));
    const dry = await stack.request('POST', `/customers/${id}/orders?dryRun=true`, order(7));
    expect(dry.status).toBe(200);
    expect(dry.json.duplicate).toMatchObject({
      verdict: 'possible-duplicate',
      earlier: { idempotencyKey: 'dry-first', orderIds: [first.json.id] },
    });
    const clean = await stack.request('POST', `/customers/${id}/orders?dryRun=true`, order(8));
    expect(clean.json.duplicate).toBeUndefined();
  });

  it('is not fooled by line order, and a different quantity, customer or term is not a duplicate', async () => {
    const id = customer();
    expect((await buy(id, 'o-1', order(3, [{ offerId: E3, quantity: 2 }]))).status).toBe(201);
    const reordered = {
      lineItems: [...order(3, [{ offerId: E3, quantity: 2 }]).lineItems].reverse(),
      billingCycle: 'Monthly',
    };
    expect((await buy(id, 'o-2', reordered)).status).toBe(409);
    expect((await buy(id, 'o-3', order(4, [{ offerId: E3, quantity: 2 }]))).status).toBe(201);
    expect((await buy(customer(), 'o-4', order(3, [{ offerId: E3, quantity: 2 }]))).status).toBe(201);
    const monthly = { ...order(3, [{ offerId: E3, quantity: 2 }]), billingCycle: 'annual' };
    expect((await buy(id, 'o-5', monthly)).status).toBe(201);
  });

  it('any caller counts: an order and a cart checkout of the same lines, over events and invoke', async () => {
    const id = customer();
    await buy(id, 'http-key', order(9));
    const cart = await stack.request(
      'POST',
      `/customers/${id}/carts`,
      {
        lineItems: [{ catalogItemId: BASIC, quantity: 9, billingCycle: 'monthly', termDuration: 'P1Y' }],
        checkout: true,
      },
      { 'Idempotency-Key': 'cart-key' },
    );
    expect(cart.json).toMatchObject({ status: 409, earlier: { idempotencyKey: 'http-key' } });
    const event = (extra: Record<string, unknown>) =>
      stack.request('POST', '/events', {
        Source: 'com.example.billing',
        DetailType: 'CreateOrder',
        Detail: JSON.stringify({ customerId: id, ...order(9), idempotencyKey: 'event-key', ...extra }),
      });
    expect((await event({})).json.outcomes).toMatchObject([
      {
        detailType: 'OrderRejected',
        detail: { problem: { status: 409, errors: [{ path: '/detail/allowDuplicate' }] } },
      },
    ]);
    expect((await event({ allowDuplicate: true })).json.outcomes).toMatchObject([{ detailType: 'OrderCreated' }]);
    const refused = await invoke(stack, { customerId: id, ...order(9), idempotencyKey: 'invoke-key' });
    expect(refused).toMatchObject({ status: 409, earlier: { idempotencyKey: 'event-key' } });
    const bought = await invoke(stack, {
      customerId: id,
      ...order(9),
      idempotencyKey: 'invoke-key',
      allowDuplicate: true,
    });
    expect(bought.id).toEqual(expect.any(String));
  });

  it('forgets a purchase after the window', async () => {
    let now = Date.now();
    const windowed = await startStack({ ...AS_NPM_START, duplicates: { windowHours: 1, now: () => now } });
    try {
      const id = customer();
      const at = (key: string) =>
        windowed.request('POST', `/customers/${id}/orders`, order(), { 'Idempotency-Key': key });
      expect((await at('w-1')).status).toBe(201);
      now += 30 * 60_000;
      expect((await at('w-2')).status).toBe(409);
      now += 31 * 60_000;
      expect((await at('w-3')).status).toBe(201);
    } finally {
      await windowed.stop();
    }
  });
});

describe("a customer's orders and subscriptions, a page at a time", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ ...AS_NPM_START, simulator: { catalogChecks: true, listPageSize: 2 } });
  });
  afterAll(() => stack.stop());

  it('pages through every order and subscription with continuation tokens', async () => {
    const id = customer();
    const placed: string[] = [];
    for (const quantity of [1, 2, 3]) {
      const answer = await stack.request(
        'POST',
        `/customers/${id}/orders`,
        order(quantity, [{ offerId: E3, quantity }]),
      );
      placed.push(answer.json.id);
    }
    const all = async (path: string) => {
      const items: { id: string }[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const page = await stack.request(
          'GET',
          `${path}${token ? `${sep}continuationToken=${encodeURIComponent(token)}` : ''}`,
        );
        expect(page.status, JSON.stringify(page.json)).toBe(200);
        items.push(...page.json.items);
        token = page.json.continuationToken;
        pages++;
      } while (token);
      return { items, pages };
    };
    const orders = await all(`/customers/${id}/orders`);
    expect(orders.pages).toBe(2);
    expect(orders.items.map((o) => o.id).sort()).toEqual([...placed].sort());
    const subscriptions = await all(`/customers/${id}/subscriptions`);
    expect(subscriptions.pages).toBe(3);
    expect(subscriptions.items).toHaveLength(6);
    const ofOne = await all(`/customers/${id}/subscriptions?orderId=${placed[0]}`);
    expect(ofOne.items.every((s) => (s as { orderId?: string }).orderId === placed[0])).toBe(true);
    const monthly = await all(`/customers/${id}/orders?billingType=Monthly`);
    expect(monthly.items).toHaveLength(3);
  });

  it("refuses another list's token, and a customer unknown to Partner Center is 404", async () => {
    const a = customer();
    for (const quantity of [1, 2, 3]) await stack.request('POST', `/customers/${a}/orders`, order(quantity));
    const first = await stack.request('GET', `/customers/${a}/orders`);
    const token = first.json.continuationToken as string;
    const other = await stack.request('GET', `/customers/${customer()}/orders?continuationToken=${token}`);
    expect(other.status).toBe(400);
    expect(other.json.errors[0].path).toBe('/query/continuationToken');
    const forged = Buffer.from(JSON.stringify(['/v1/customers/x/../../secrets', null])).toString('base64url');
    expect((await stack.request('GET', `/customers/${a}/orders?continuationToken=${forged}`)).status).toBe(400);
    const unknown = await stack.request('GET', `/customers/${SIMULATOR_UNKNOWN_CUSTOMER_ID}/subscriptions`);
    expect(unknown.json).toMatchObject({ status: 404, type: `${PROBLEM}customer-not-found` });
  });
});
