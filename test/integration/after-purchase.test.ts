// The read routes after a purchase, end to end (local server → status function → Partner Center simulator on its own
// clock): an order's state as its lines are provisioned, a cart's status and expiry, and GET /purchases/{key} in each
// of its states, scoped to the caller like the key itself.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { ReadPolicy } from '../../functions/shared/policy/read.js';
import { createHandler as createStatusHandler } from '../../functions/status/handler.js';
import { STALLED_MARKER } from '../../local/simulator/index.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';
import { until } from '../support/timing.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const STALLED = `CFQ7TTC0LH18:0002:${STALLED_MARKER}`;
const ORDERS = `/customers/${CUSTOMER}/orders`;
const PROVISIONING_MS = 10 * 60_000;
const DAY_MS = 86_400_000;
captureLogs();

let counter = 0;
const unique = (name: string) => `${name}-${Date.now()}-${counter++}`;
const orderOf = (tag: string, offers = [NCE]) => ({
  lineItems: offers.map((offerId, i) => ({ offerId, quantity: 3 + i, termDuration: 'P1Y', friendlyName: tag })),
  billingCycle: 'monthly',
});

describe('after the purchase: read routes', () => {
  let stack: Stack;
  let clock = Date.now();
  const purchase = (path: string, key: string) => stack.request('GET', `/purchases/${encodeURIComponent(key)}${path}`);

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { now: () => clock, provisioningDelayMs: PROVISIONING_MS, tokenLifetimeSeconds: 30 * 86_400 },
      client: { baseDelayMs: 5 },
    });
  });
  afterAll(() => stack.stop());
  beforeEach(() => stack.simulator.clearFaults());

  describe('GET /customers/{customerId}/orders/{orderId}', () => {
    it('follows an order from pending to provisioned, with each line’s provisioning status merged in', async () => {
      const placed = await stack.request('POST', ORDERS, orderOf(unique('status'), [NCE, NCE.replace('0001', '0003')]));
      expect(placed.status).toBe(201);
      const read = () => stack.request('GET', `${ORDERS}/${placed.json.id}`);

      const pending = await read();
      expect(pending.status).toBe(200);
      expect(pending.headers.get('cache-control')).toBe('no-store');
      expect(pending.json).toMatchObject({ id: placed.json.id, status: 'pending', state: 'pending' });
      expect(pending.json.provisioningStatusAvailable).toBe(true);
      expect(pending.json.lineItems.map((l: { provisioningStatus: string }) => l.provisioningStatus)).toEqual([
        'Unfulfilled',
        'Unfulfilled',
      ]);
      // Two reads of Partner Center, with the documented paths.
      const paths = stack.simulator.requests.slice(-2).map((r) => `${r.method} ${r.path}`);
      expect(paths.sort()).toEqual(
        [
          `GET /v1/customers/${CUSTOMER}/orders/${placed.json.id}`,
          `GET /v1/customers/${CUSTOMER}/orders/${placed.json.id}/provisioningstatus`,
        ].sort(),
      );

      clock += PROVISIONING_MS;
      const done = await read();
      expect(done.json).toMatchObject({ status: 'completed', state: 'provisioned' });
      expect(done.json.lineItems).toEqual([
        expect.objectContaining({
          lineItemNumber: 0,
          subscriptionId: placed.json.lineItems[0].subscriptionId,
          provisioningStatus: 'Fulfilled',
          quantityProvisioningInformation: [{ quantity: 3, status: 'Fulfilled' }],
        }),
        expect.objectContaining({ lineItemNumber: 1, provisioningStatus: 'Fulfilled' }),
      ]);
    });

    it('is provisioning while a line is not provisioned, cancelled, or unknown for a status it does not know', async () => {
      const placed = await stack.request('POST', ORDERS, orderOf(unique('stalled'), [NCE, STALLED]));
      clock += PROVISIONING_MS;
      const read = () => stack.request('GET', `${ORDERS}/${placed.json.id}`);
      const partly = await read();
      expect(partly.json).toMatchObject({ status: 'completed', state: 'provisioning' });
      expect(partly.json.lineItems.map((l: { provisioningStatus: string }) => l.provisioningStatus)).toEqual([
        'Fulfilled',
        'Unfulfilled',
      ]);
      // A value Partner Center added after this code was written is tolerated: `unknown`, not an error.
      expect(stack.simulator.setOrderStatus(placed.json.id, 'po_upload_complete')).toBe(true);
      expect((await read()).json).toMatchObject({ status: 'po_upload_complete', state: 'unknown' });
      stack.simulator.setOrderStatus(placed.json.id, 'cancelled');
      expect((await read()).json).toMatchObject({ status: 'cancelled', state: 'cancelled' });
    });

    it('passes Partner Center’s 404 on, and refuses bad ids and unknown query parameters before sending anything', async () => {
      const missing = await stack.request('GET', `${ORDERS}/Cs_doesnotexist`);
      expect(missing.status).toBe(404);
      expect(missing.json).toMatchObject({ type: 'urn:partner-orders:problem:partner-center-rejected', status: 404 });
      const before = stack.simulator.requests.length;
      const bad = await stack.request('GET', '/customers/not-a-guid/orders/a.b?verbose=true');
      expect(bad.status).toBe(400);
      expect(bad.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        '/path/customerId',
        '/path/orderId',
        '/query/verbose',
      ]);
      expect(stack.simulator.requests.length).toBe(before);
    });

    it('retries a 5xx on the provisioning status read like any read (faults apply to the new endpoints)', async () => {
      const placed = await stack.request('POST', ORDERS, orderOf(unique('app-only')));
      stack.simulator.injectFault({ kind: 'server-error', times: 1, match: { path: /provisioningstatus/ } });
      // A 5xx on the provisioning read is retried by the client like any read (faults apply to the new endpoints).
      const retried = await stack.request('GET', `${ORDERS}/${placed.json.id}`);
      expect(retried.json.provisioningStatusAvailable).toBe(true);
      expect(
        stack.simulator.requests.filter((r) => r.fault === 'server-error' && /provisioningstatus/.test(r.path)),
      ).toHaveLength(1);
    });
  });

  describe('GET /customers/{customerId}/carts/{cartId}', () => {
    it('shows a cart’s status and expiry: Active with 7 days to go, Ordered once checked out, 404 once expired', async () => {
      const carts = `/customers/${CUSTOMER}/carts`;
      const line = { catalogItemId: NCE, quantity: 2, billingCycle: 'monthly', termDuration: 'P1Y' };
      const created = await stack.request('POST', carts, { lineItems: [line] });
      const cart = await stack.request('GET', `${carts}/${created.json.id}`);
      expect(cart.status).toBe(200);
      expect(cart.json).toMatchObject({ id: created.json.id, status: 'Active', expired: false });
      expect(Date.parse(cart.json.expiresAt) - Date.parse(cart.json.creationTimestamp)).toBe(7 * DAY_MS);

      const checkedOut = await stack.request('POST', carts, { lineItems: [line], checkout: true });
      const ordered = await stack.request('GET', `${carts}/${checkedOut.json.cart.id}`);
      expect(ordered.json).toMatchObject({ status: 'Ordered', expired: false });

      clock += 7 * DAY_MS + 1_000;
      const expired = await stack.request('GET', `${carts}/${created.json.id}`);
      expect(expired.status).toBe(404);
      expect(expired.json.upstream.code).toBe('800008');
      // An Ordered cart does not expire.
      expect((await stack.request('GET', `${carts}/${checkedOut.json.cart.id}`)).json.expired).toBe(false);
    });
  });

  describe('GET /purchases/{idempotencyKey}', () => {
    it('succeeded: the order ids and the stored answer', async () => {
      const key = unique('show ok');
      const placed = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
      const shown = await purchase('', key);
      expect(shown.status).toBe(200);
      expect(shown.json).toEqual({
        idempotencyKey: key,
        purchases: [
          expect.objectContaining({
            operation: 'createOrder',
            customerId: CUSTOMER,
            state: 'succeeded',
            orderIds: [placed.json.id],
            status: 201,
            result: placed.json,
            requestIds: [expect.stringMatching(/^[0-9a-f-]{36}$/)],
          }),
        ],
      });
      // Nothing is read from Partner Center for it.
      expect(stack.simulator.requests.at(-1)?.method).toBe('POST');
    });

    it('refused: the problem, as a retry would replay it', async () => {
      const key = unique('show refused');
      // The cart is created and recorded; its checkout places nothing (every order group fails): a final refusal.
      const refused = await stack.request(
        'POST',
        ORDERS,
        { lineItems: [{ offerId: 'PARTIALFAIL:0001:X', quantity: 1 }] },
        { 'Idempotency-Key': key },
      );
      expect(refused.status).toBe(422);
      expect(refused.json.type).toBe('urn:partner-orders:problem:checkout-failed');
      const shown = await purchase('', key);
      expect(shown.json.purchases).toEqual([
        expect.objectContaining({ state: 'refused', status: 422, problem: refused.json, cartId: refused.json.cartId }),
      ]);
    });

    it('unknown: an attempt whose answer was lost, until the outcome is known', async () => {
      const key = unique('show unknown');
      // Partner Center takes the checkout and its answer is lost; every checkout of it this request sends fails too.
      stack.simulator.injectFault({ kind: 'commit-then-drop', times: 1, match: { method: 'POST', path: '/checkout' } });
      stack.simulator.injectFault({ kind: 'server-error', match: { method: 'POST', path: '/checkout' } });
      const lost = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
      expect(lost.status).toBe(502);
      const shown = await purchase('', key);
      expect(shown.json.purchases).toEqual([
        expect.objectContaining({ state: 'unknown', operation: 'createOrder', cartId: expect.any(String) }),
      ]);
      expect(shown.json.purchases[0].detail).toMatch(/Retry with the same key/);
    });

    it('not-placed: refused for the moment (throttled) with nothing stored', async () => {
      const key = unique('show throttled');
      // The cart is created and recorded; its checkout is throttled before any checkout could place it.
      stack.simulator.injectFault({
        kind: 'throttle',
        retryAfterSeconds: 600,
        match: { method: 'POST', path: '/checkout' },
      });
      const throttled = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
      expect(throttled.status).toBe(429);
      const shown = await purchase('', key);
      expect(shown.json.purchases).toEqual([expect.objectContaining({ state: 'not-placed' })]);
    });

    it('in-progress while the purchase with the key is running', async () => {
      const key = unique('show running');
      stack.simulator.injectFault({
        kind: 'delay',
        delayMs: 3_000,
        times: 1,
        match: { method: 'POST', path: '/checkout' },
      });
      const upstream = () =>
        stack.simulator.requests.filter((r) => r.method === 'POST' && r.path.includes('/checkout'));
      const posted = upstream().length;
      const running = stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
      // Once the checkout is upstream (held there 3 s), not after a guess at how long it takes to get there.
      await until(() => upstream().length > posted, 'the checkout');
      const shown = await purchase('', key);
      expect(shown.json.purchases).toEqual([expect.objectContaining({ state: 'in-progress' })]);
      expect((await running).status).toBe(201);
      expect((await purchase('', key)).json.purchases[0].state).toBe('succeeded');
    });

    it('is scoped to the caller like the key: another caller with the same key finds nothing (404)', async () => {
      const key = unique('show scope');
      const as = (userArn: string) => (event: ReturnType<typeof httpEvent>) =>
        ({ ...event, requestContext: { ...event.requestContext, authorizer: { iam: { userArn } } } }) as typeof event;
      const buyer = as('arn:aws:sts::123456789012:assumed-role/Buyer/session-1');
      const sameRoleNewSession = as('arn:aws:sts::123456789012:assumed-role/Buyer/session-2');
      const other = as('arn:aws:sts::123456789012:assumed-role/Other/session-1');
      const placed = await createOrderHandler(stack.deps)(
        buyer(
          httpEvent('POST /customers/{customerId}/orders', {
            pathParameters: { customerId: CUSTOMER },
            headers: { 'idempotency-key': key },
            body: orderOf(key),
          }),
        ),
        lambdaContext(),
      );
      expect(placed.statusCode).toBe(201);
      const status = createStatusHandler({
        ...stack.deps,
        journals: stack.deps.idempotency?.journals,
        readPolicy: new ReadPolicy(stack.deps.policy.engine),
      });
      const show = (who: typeof buyer) =>
        status(
          who(httpEvent('GET /purchases/{idempotencyKey}', { pathParameters: { idempotencyKey: key } })),
          lambdaContext(),
        );
      const mine = await show(sameRoleNewSession);
      expect(mine.statusCode).toBe(200);
      expect(JSON.parse(String(mine.body)).purchases[0].orderIds).toEqual([JSON.parse(String(placed.body)).id]);
      const theirs = await show(other);
      expect(theirs.statusCode).toBe(404);
      expect(JSON.parse(String(theirs.body))).toMatchObject({ type: 'urn:partner-orders:problem:not-found' });
      // Over HTTP without an authorizer (the local server) the caller is anonymous: not the buyer either.
      expect((await purchase('', key)).status).toBe(404);
    });

    it('answers for a purchase too large for its journal to keep its input (recorded by digest)', async () => {
      const key = unique('show big');
      // Random text does not compress: ~230 KB of lines, more than a journal keeps beside a cart (records.ts).
      const big = {
        lineItems: Array.from({ length: 100 }, (_, i) => ({
          offerId: NCE,
          quantity: 1 + i,
          friendlyName: randomBytes(192).toString('base64'),
          provisioningContext: { note: randomBytes(1_500).toString('base64') },
        })),
      };
      const placed = await stack.request('POST', ORDERS, big, { 'Idempotency-Key': key });
      expect(placed.status).toBe(201);
      const again = await stack.request('POST', ORDERS, big, { 'Idempotency-Key': key });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      // Another request with the key is still told apart (the digest), and refused.
      const other = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
      expect(other.status).toBe(422);
      const shown = await purchase('', key);
      expect(shown.json.purchases).toEqual([
        expect.objectContaining({ state: 'succeeded', orderIds: [placed.json.id], status: 201 }),
      ]);
    });

    it('lists one purchase per operation and customer used with the key, and refuses a bad key', async () => {
      const key = unique('show two');
      await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
      const checkout = await stack.request(
        'POST',
        `/customers/${CUSTOMER}/carts`,
        { lineItems: [{ catalogItemId: NCE, quantity: 1, billingCycle: 'monthly' }], checkout: true },
        { 'Idempotency-Key': key },
      );
      const shown = await purchase('', key);
      expect(shown.json.purchases.map((p: { operation: string; state: string }) => [p.operation, p.state])).toEqual([
        ['createOrder', 'succeeded'],
        ['createCart', 'succeeded'],
      ]);
      expect(shown.json.purchases[1]).toMatchObject({
        cartId: checkout.json.cart.id,
        orderIds: [checkout.json.checkout.orders[0].id],
      });
      const bad = await stack.request('GET', `/purchases/${encodeURIComponent('a,b')}`);
      expect(bad.status).toBe(400);
      expect(bad.json.errors[0].path).toBe('/path/idempotencyKey');
      expect((await purchase('', unique('never used'))).status).toBe(404);
    });
  });
});

describe('GET /purchases/{idempotencyKey} without an idempotency store', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  it('answers 503 idempotency-unavailable, as a purchase with a key would', async () => {
    const answer = await stack.request('GET', '/purchases/some-key');
    expect(answer.status).toBe(503);
    expect(answer.json.type).toBe('urn:partner-orders:problem:idempotency-unavailable');
  });
});
