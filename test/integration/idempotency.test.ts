import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const OTHER_CUSTOMER = '7d0e2f4a-6b8c-4d1e-8f2a-3b5c7d9e1f30';
const ORDERS = `/customers/${CUSTOMER}/orders`;
const order = { lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5 }] };
const cart = { lineItems: [{ catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, billingCycle: 'monthly' }] };

captureLogs();

let counter = 0;
const newKey = () => `key-${Date.now()}-${counter++}`;

describe('Idempotency-Key over HTTP (Powertools + DynamoDB on dynalite, Partner Center simulator)', () => {
  let stack: Stack;
  const posts = () => stack.simulator.requests.filter((r) => r.method === 'POST' && r.path.includes('/v1/')).length;
  const orders = () => stack.simulator.ledger.orders.length;

  beforeAll(async () => {
    stack = await startStack({ idempotency: {}, env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '1000' } });
  });
  afterAll(() => stack.stop());
  beforeEach(() => stack.simulator.clearFaults());

  it('replays the first response for the same key and request, sending nothing upstream', async () => {
    const key = newKey();
    const first = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    const sentAfterFirst = posts();
    const again = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(posts()).toBe(sentAfterFirst);
  });

  it('treats the same request written differently (key order, spelling of enums) as the same request', async () => {
    const key = newKey();
    const first = await stack.request(
      'POST',
      ORDERS,
      { ...order, billingCycle: 'monthly' },
      { 'Idempotency-Key': `"${key}"` },
    );
    const again = await stack.request(
      'POST',
      ORDERS,
      { billingCycle: 'Monthly', ...order },
      { 'Idempotency-Key': key },
    );
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.id).toBe(first.json.id);
  });

  it('refuses the same key with a different request (422) and keeps the first result', async () => {
    const key = newKey();
    const first = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    const before = orders();
    const changed = await stack.request(
      'POST',
      ORDERS,
      { lineItems: [{ ...order.lineItems[0], quantity: 6 }] },
      { 'Idempotency-Key': key },
    );
    expect(changed.status).toBe(422);
    expect(changed.json.type).toBe('urn:partner-orders:problem:idempotency-mismatch');
    // powertools-lambda-typescript#5675: the middleware would now have deleted the record and bought again.
    const retried = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.json.id).toBe(first.json.id);
    expect(orders()).toBe(before);
  });

  it('places one order for 20 concurrent requests with the same key; the others get 409 or the replay', async () => {
    const key = newKey();
    const before = orders();
    stack.simulator.injectFault({
      kind: 'delay',
      delayMs: 400,
      times: 1,
      match: { method: 'POST', path: '/checkout' },
    });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => stack.request('POST', ORDERS, order, { 'Idempotency-Key': key })),
    );
    expect(orders() - before).toBe(1);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    for (const conflict of results.filter((r) => r.status === 409)) {
      expect(conflict.headers.get('retry-after')).toBe('2');
      expect(conflict.json.type).toBe('urn:partner-orders:problem:idempotency-in-progress');
    }
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.json.id));
    expect(ids.size).toBe(1);
    // After the first finished, every retry gets its result.
    const later = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(later.json.id).toEqual([...ids][0]);
  });

  it('does not store transient failures: a retry with the key checks out the same cart again and gets one order', async () => {
    const key = newKey();
    const before = orders();
    const cartsBefore = stack.simulator.ledger.carts.length;
    // Every checkout of this request fails: its outcome is unknown (502), and nothing is stored under the key.
    stack.simulator.injectFault({ kind: 'unavailable', match: { method: 'POST', path: '/checkout' } });
    const failed = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(failed.status).toBe(502);
    expect(failed.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
    stack.simulator.clearFaults();
    const retried = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(retried.headers.get('idempotent-reconciled')).toBe('true');
    expect(orders() - before).toBe(1);
    expect(stack.simulator.ledger.carts.length - cartsBefore).toBe(1);
  });

  it('checks out the same cart again when the first checkout placed the order but its answer was lost: one order', async () => {
    const key = newKey();
    const before = orders();
    const sentBefore = stack.simulator.requests.length;
    // The checkout is committed, then its answer is lost: the same cart is checked out again, and Partner Center
    // reiterates what the first checkout placed.
    stack.simulator.injectFault({ kind: 'commit-then-drop', times: 1, match: { method: 'POST', path: '/checkout' } });
    const found = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(found.status).toBe(201);
    expect(found.headers.get('idempotent-reconciled')).toBe('true');
    expect(found.json.id).toBe(stack.simulator.ledger.orders.at(-1)?.id);
    expect(orders() - before).toBe(1);
    const sent = stack.simulator.requests
      .slice(sentBefore)
      .filter((r) => r.method === 'POST' && r.path.includes('/v1/'));
    expect(sent.filter((r) => r.path.endsWith('/carts'))).toHaveLength(1);
    expect(sent.filter((r) => r.path.endsWith('/checkout'))).toHaveLength(2);
    expect(sent.some((r) => r.path.endsWith('/orders'))).toBe(false);
    const again = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.id).toBe(found.json.id);
  });

  it('stores a caller error and replays it', async () => {
    const key = newKey();
    const bad = { lineItems: [{ offerId: 'INVALID:0001:X', quantity: 1 }] };
    const first = await stack.request('POST', ORDERS, bad, { 'Idempotency-Key': key });
    const sent = posts();
    const again = await stack.request('POST', ORDERS, bad, { 'Idempotency-Key': key });
    expect(first.status).toBe(400);
    expect(again.status).toBe(400);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(posts()).toBe(sent);
  });

  it('scopes keys per route and customer', async () => {
    const key = newKey();
    const order1 = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    const cart1 = await stack.request('POST', `/customers/${CUSTOMER}/carts`, cart, { 'Idempotency-Key': key });
    const other = await stack.request('POST', `/customers/${OTHER_CUSTOMER}/orders`, order, { 'Idempotency-Key': key });
    expect([order1.status, cart1.status, other.status]).toEqual([201, 201, 201]);
    expect(other.json.id).not.toBe(order1.json.id);
  });

  it('a dry run with a key shows the MS-RequestId the real call will use, and records nothing', async () => {
    const key = newKey();
    const dry = await stack.request('POST', `${ORDERS}?dryRun=true`, order, { 'Idempotency-Key': key });
    const real = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(real.status).toBe(201);
    expect(real.headers.get('idempotent-replayed')).toBeNull();
    // The order is placed through a cart: the create-cart and the checkout each have theirs.
    const posted = (suffix: string) =>
      stack.simulator.requests.filter((r) => r.method === 'POST' && r.path.endsWith(suffix)).at(-1);
    expect(dry.json.requests[0].url).toMatch(/\/carts$/);
    expect(dry.json.requests[0].headers['MS-RequestId']).toBe(
      posted(`/customers/${CUSTOMER}/carts`)?.headers['ms-requestid'],
    );
    expect(dry.json.requests[1].headers['MS-RequestId']).toBe(posted('/checkout')?.headers['ms-requestid']);
  });

  it('refuses a purchase without a key (400 idempotency-key-required naming the header) and sends nothing', async () => {
    const sent = stack.simulator.requests.length;
    for (const [method, path, body] of [
      ['POST', ORDERS, order],
      ['POST', `/customers/${CUSTOMER}/carts`, cart],
    ] as const) {
      const result = await stack.request(method, path, body, { 'Idempotency-Key': undefined });
      expect(result.status).toBe(400);
      expect(result.json.type).toBe('urn:partner-orders:problem:idempotency-key-required');
      expect(result.json.errors).toEqual([{ path: '/headers/idempotency-key', message: 'is required for a purchase' }]);
    }
    expect(stack.simulator.requests.length).toBe(sent);
    // A dry run needs no key.
    const dry = await stack.request('POST', `${ORDERS}?dryRun=true`, order, { 'Idempotency-Key': undefined });
    expect(dry.status).toBe(200);
    expect(stack.simulator.requests.length).toBe(sent);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['not printable', 'key\u00e9'],
  ])('refuses an invalid key (%s) with 400 before anything is sent', async (_, key) => {
    const sent = posts();
    const result = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(result.status).toBe(400);
    expect(result.json.errors.map((e: { path: string }) => e.path)).toContain('/headers/idempotency-key');
    expect(posts()).toBe(sent);
  });
});

describe('Idempotency-Key expiry and store failures', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ idempotency: { expiresAfterSeconds: 1 } });
  });
  afterAll(() => stack.stop());

  it('forgets a key after its lifetime: the request runs again (Partner Center may still replay its MS-RequestId)', async () => {
    const key = newKey();
    await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    const sent = stack.simulator.requests.length;
    await new Promise((r) => setTimeout(r, 2100));
    const again = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': key });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(stack.simulator.requests.length).toBeGreaterThan(sent);
  });

  it('fails closed with 503 when the store is down: nothing is sent upstream', async () => {
    await stack.dynamodb?.stop();
    const sent = stack.simulator.requests.length;
    const result = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': newKey() });
    expect(result.status).toBe(503);
    expect(result.headers.get('retry-after')).toBe('5');
    expect(result.json.type).toBe('urn:partner-orders:problem:idempotency-unavailable');
    expect(stack.simulator.requests.length).toBe(sent);
    // Without a key it is refused before the store is needed: keys are required for purchases.
    const keyless = await stack.request('POST', ORDERS, order, { 'Idempotency-Key': undefined });
    expect(keyless.status).toBe(400);
    expect(keyless.json.type).toBe('urn:partner-orders:problem:idempotency-key-required');
    expect(stack.simulator.requests.length).toBe(sent);
  });
});
