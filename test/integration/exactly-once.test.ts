// Exactly once by construction (issue "one cart per key, checked out until Partner Center answers"), against a Partner
// Center simulator that does NOT deduplicate MS-RequestId. Every keyed purchase is one cart on record under its key;
// every attempt checks out that cart, which Partner Center documents as idempotent per cart. The fifteen sequences an
// independent review reproduced on the design before (matching Partner Center's orders list to keys) are each a test
// here: where a sequence can no longer arise, the test shows why (each key checks out its own cart; the orders list is
// never read).
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { createHandler as createEventsHandler } from '../../functions/order-events/handler.js';
import type { OutcomeEvent } from '../../functions/shared/events.js';
import type { PurchaseJournals } from '../../functions/shared/exactly-once/journals.js';
import { JOURNAL_PREFIX, KEY_POINTER_PREFIX } from '../../functions/shared/exactly-once/records.js';
import { dynamoDBPollBudget } from '../../functions/shared/lifecycle/budget.js';
import type { LifecycleEvent } from '../../functions/shared/lifecycle/events.js';
import { reconcileUnknownPurchases } from '../../functions/shared/lifecycle/reconciler.js';
import type { TokenSource } from '../../functions/shared/partner-center/client.js';
import { PurchasePolicy } from '../../functions/shared/policy/check.js';
import { CedarEngine } from '../../functions/shared/policy/local.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { policyFiles } from '../support/policy.js';
import { NCE, orderOf, unique } from '../support/purchases.js';
import { eventBridgeEvent, localQueueProvenance, recordingEventsHandler, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ORDERS = `/customers/${CUSTOMER}/orders`;
const CARTS = `/customers/${CUSTOMER}/carts`;
const ADD_ON = 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ';
const CHECKOUT = /\/carts\/[^/]+\/checkout$/;
const CREATE_CART = /\/carts$/;
captureLogs();

/** Every checkout of one request reaches Partner Center and places what it places, and no answer comes back. */
const ALL_CHECKOUT_ANSWERS_LOST = 4;

const cartOf = (tag: string, catalogItemIds = [NCE], billingCycle = 'monthly') => ({
  lineItems: catalogItemIds.map((catalogItemId, id) => ({
    id,
    catalogItemId,
    quantity: 2,
    billingCycle,
    termDuration: 'P1Y',
    friendlyName: tag,
  })),
  checkout: true,
});

const addOnOf = (parentSubscriptionId: string, tag?: string, lines = 1) => ({
  lineItems: Array.from({ length: lines }, (_, i) => ({
    offerId: ADD_ON,
    quantity: 2 + i,
    termDuration: 'P1Y',
    parentSubscriptionId,
    ...(tag === undefined ? {} : { friendlyName: tag }),
  })),
});

describe('exactly once by construction: one cart per key, checked out until Partner Center answers', () => {
  let stack: Stack;
  const ordersTagged = (tag: string) =>
    stack.simulator.ledger.orders.filter((o) => o.lineItems.some((l) => l.friendlyName === tag));
  const cartsTagged = (tag: string) =>
    stack.simulator.ledger.carts.filter((c) => c.lineItems.some((l) => l.friendlyName === tag));
  const requestsSince = (from: number) => stack.simulator.requests.slice(from);
  const count = (from: number, method: string, path: RegExp) =>
    requestsSince(from).filter((r) => r.method === method && path.test(r.path)).length;
  const post = (path: string, body: unknown, key: string) =>
    stack.request('POST', path, body, { 'Idempotency-Key': key });
  /** Drops the answers of the next `times` matching requests after Partner Center committed them. */
  const loseAnswers = (times: number, path: RegExp, method = 'POST') =>
    stack.simulator.injectFault({ kind: 'commit-then-drop', times, match: { method, path } });
  /** The next `times` matching requests never arrive: nothing is committed. */
  const neverArrive = (times: number, path: RegExp, method = 'POST') =>
    stack.simulator.injectFault({ kind: 'drop', times, match: { method, path } });
  /** A base subscription to add add-ons to: a fresh order's. */
  const baseOrder = async () => {
    const placed = await post(ORDERS, orderOf(unique('base')), unique('base'));
    expect(placed.status).toBe(201);
    return { orderId: placed.json.id as string, subscriptionId: placed.json.lineItems[0].subscriptionId as string };
  };

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { dedupe: 'off' },
      env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '1000' },
      client: { baseDelayMs: 5 },
    });
  });
  afterAll(() => stack.stop());
  beforeEach(() => stack.simulator.clearFaults());

  describe('the design', () => {
    it('an order is a cart, created once and checked out; the orders API and the orders list are never called', async () => {
      const [key, tag] = [unique('order'), unique('order')];
      const from = stack.simulator.requests.length;
      const placed = await post(ORDERS, orderOf(tag), key);
      expect(placed.status).toBe(201);
      expect(placed.json).toMatchObject({ id: ordersTagged(tag)[0]?.id, billingCycle: 'monthly' });
      const partnerCenter = requestsSince(from).filter((r) => r.path.startsWith('/v1/'));
      expect(partnerCenter.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, '{id}')}`)).toEqual([
        'POST /v1/customers/{id}/carts',
        'POST /v1/customers/{id}/carts/{id}/checkout',
      ]);
    });

    it('a lost checkout answer is recovered within the request: the same cart checked out again, 201, one order', async () => {
      const [key, tag] = [unique('lost-once'), unique('lost-once')];
      const from = stack.simulator.requests.length;
      loseAnswers(1, CHECKOUT);
      const placed = await post(ORDERS, orderOf(tag), key);
      expect(placed.status).toBe(201);
      expect(placed.headers.get('idempotent-reconciled')).toBe('true');
      expect(ordersTagged(tag)).toHaveLength(1);
      expect(placed.json.id).toBe(ordersTagged(tag)[0]?.id);
      expect(cartsTagged(tag)).toHaveLength(1);
      expect(count(from, 'POST', CHECKOUT)).toBe(2);
    });

    it('an upstream 500 followed by a 201 in one request', async () => {
      const [key, tag] = [unique('500'), unique('500')];
      stack.simulator.injectFault({ kind: 'server-error', times: 1, match: { method: 'POST', path: CHECKOUT } });
      const placed = await post(ORDERS, orderOf(tag), key);
      expect(placed.status).toBe(201);
      expect(ordersTagged(tag)).toHaveLength(1);
    });

    it('every checkout of a request lost: 502 outcome-unknown, and the retry checks out the same cart: one order', async () => {
      const [key, tag] = [unique('lost-all'), unique('lost-all')];
      const from = stack.simulator.requests.length;
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      const lost = await post(ORDERS, orderOf(tag), key);
      expect(lost.status).toBe(502);
      expect(lost.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
      expect(ordersTagged(tag)).toHaveLength(1);
      const retry = await post(ORDERS, orderOf(tag), key);
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-reconciled')).toBe('true');
      expect(retry.json.id).toBe(ordersTagged(tag)[0]?.id);
      expect(ordersTagged(tag)).toHaveLength(1);
      expect(count(from, 'POST', CREATE_CART)).toBe(1);
      expect(cartsTagged(tag)).toHaveLength(1);
    });

    it('a lost create-cart answer leaves an extra Active cart, never checked out; one order', async () => {
      const [key, tag] = [unique('lost-cart'), unique('lost-cart')];
      loseAnswers(1, CREATE_CART);
      const placed = await post(ORDERS, orderOf(tag), key);
      expect(placed.status).toBe(201);
      expect(ordersTagged(tag)).toHaveLength(1);
      const carts = cartsTagged(tag);
      expect(carts).toHaveLength(2);
      expect(carts.map((c) => c.status).sort()).toEqual(['Active', 'Ordered']);
    });

    it('a cart + checkout and a standalone checkout work the same way: the recorded cart, checked out again', async () => {
      const [key, tag] = [unique('cart'), unique('cart')];
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      const lost = await post(CARTS, cartOf(tag), key);
      expect(lost.status).toBe(502);
      expect(lost.json.cartId).toBe(cartsTagged(tag)[0]?.id);
      const retry = await post(CARTS, cartOf(tag), key);
      expect(retry.status).toBe(201);
      expect(retry.json.checkout.orders[0].id).toBe(ordersTagged(tag)[0]?.id);
      expect(ordersTagged(tag)).toHaveLength(1);

      const [cartKey, cartTag] = [unique('standalone'), unique('standalone')];
      const created = await post(CARTS, { ...cartOf(cartTag), checkout: false }, unique('create'));
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      const path = `${CARTS}/${created.json.id}/checkout`;
      expect((await post(path, undefined, cartKey)).status).toBe(502);
      const again = await post(path, undefined, cartKey);
      expect(again.status).toBe(200);
      expect(ordersTagged(cartTag)).toHaveLength(1);
    });

    it('an event redelivered after its answer was lost checks out the recorded cart', async () => {
      const [key, tag] = [unique('event'), unique('event')];
      const events = recordingEventsHandler(stack.deps);
      const run = (record: SQSRecord) => events.handler(sqsEvent([record]), lambdaContext());
      const record = sqsRecord(
        eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...orderOf(tag), idempotencyKey: key }),
      );
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      // The only record of the batch failed: Powertools reports the whole batch as failed, SQS delivers it again.
      await expect(run(record)).rejects.toThrow(/All records failed/);
      expect(ordersTagged(tag)).toHaveLength(1);
      const redelivered = await run(record);
      expect(redelivered.batchItemFailures).toEqual([]);
      expect(events.published.at(-1)).toMatchObject({ detailType: 'OrderCreated', detail: { reconciled: true } });
      expect(ordersTagged(tag)).toHaveLength(1);
    });

    it('an event put longer ago than the key lifetime (less a day) is refused: a redrive cannot outlive its key', async () => {
      const published: OutcomeEvent[] = [];
      const consumer = createEventsHandler({
        ...stack.deps,
        publish: async (events) => {
          published.push(...events);
        },
        delay: async () => undefined,
        proveOrigin: localQueueProvenance,
        maxCommandAgeMs: 28 * 86_400_000,
      });
      const from = stack.simulator.requests.length;
      const detail = { customerId: CUSTOMER, ...orderOf(unique('old')), idempotencyKey: unique('old') };
      const old = sqsRecord({
        ...eventBridgeEvent('CreateOrder', detail),
        time: new Date(Date.now() - 29 * 86_400_000).toISOString(),
      });
      await consumer(sqsEvent([old]), lambdaContext());
      expect(published[0]).toMatchObject({
        detailType: 'OrderRejected',
        detail: { problem: { status: 400, errors: [{ path: '/time' }] } },
      });
      expect(stack.simulator.requests.slice(from)).toEqual([]);
      const fresh = sqsRecord(eventBridgeEvent('CreateOrder', { ...detail, idempotencyKey: unique('fresh') }));
      await consumer(sqsEvent([fresh]), lambdaContext());
      expect(published[1]?.detailType).toBe('OrderCreated');
    });

    it('an event without detail.idempotencyKey is refused: OrderRejected idempotency-key-required, nothing sent', async () => {
      const events = recordingEventsHandler(stack.deps);
      const from = stack.simulator.requests.length;
      const record = sqsRecord(eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...orderOf('no-key') }));
      await events.handler(sqsEvent([record]), lambdaContext());
      expect(events.published[0]).toMatchObject({
        detailType: 'OrderRejected',
        detail: { problem: { status: 400, errors: [{ path: '/detail/idempotencyKey' }] } },
      });
      expect(requestsSince(from)).toEqual([]);
    });
  });

  describe('the sequences that bought twice, lost or misreported an order before', () => {
    it('1. a lost checkout next to another key’s identical order: each key gets its own order, nothing taken', async () => {
      const tag = unique('seq1');
      const [a, b] = [unique('seq1-a'), unique('seq1-b')];
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await post(ORDERS, orderOf(tag), a)).status).toBe(502);
      const bPlaced = await post(ORDERS, orderOf(tag), b);
      expect(bPlaced.status).toBe(201);
      const aRetry = await post(ORDERS, orderOf(tag), a);
      expect(aRetry.status).toBe(201);
      expect(aRetry.json.id).not.toBe(bPlaced.json.id);
      const bRetry = await post(ORDERS, orderOf(tag), b);
      expect(bRetry.json.id).toBe(bPlaced.json.id);
      expect(
        ordersTagged(tag)
          .map((o) => o.id)
          .sort(),
      ).toEqual([aRetry.json.id, bPlaced.json.id].sort());
    });

    it('2. a lost two-line add-on next to another key’s matching line: each key its own lines, no second purchase', async () => {
      const base = await baseOrder();
      const tag = unique('seq2');
      const [a, b] = [unique('seq2-a'), unique('seq2-b')];
      const path = `${ORDERS}/${base.orderId}`;
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect(
        (await stack.request('PATCH', path, addOnOf(base.subscriptionId, tag, 2), { 'Idempotency-Key': a })).status,
      ).toBe(502);
      const bPlaced = await stack.request('PATCH', path, addOnOf(base.subscriptionId, tag, 1), {
        'Idempotency-Key': b,
      });
      expect(bPlaced.status).toBe(200);
      const aRetry = await stack.request('PATCH', path, addOnOf(base.subscriptionId, tag, 2), { 'Idempotency-Key': a });
      expect(aRetry.status).toBe(200);
      expect(aRetry.json.lineItems).toHaveLength(2);
      expect(
        aRetry.json.lineItems.every(
          (l: { parentSubscriptionId?: string }) => l.parentSubscriptionId === base.subscriptionId,
        ),
      ).toBe(true);
      expect(
        (await stack.request('PATCH', path, addOnOf(base.subscriptionId, tag, 1), { 'Idempotency-Key': b })).json.id,
      ).toBe(bPlaced.json.id);
      expect(ordersTagged(tag)).toHaveLength(2);
    });

    it('3. a lost partial checkout is answered as the partial checkout it was, never completed with another key’s order', async () => {
      const tag = unique('seq3');
      const [a, b] = [unique('seq3-a'), unique('seq3-b')];
      const partial = cartOf(tag, [NCE, 'CFQ7TTC0LH18:0001:PARTIALFAIL']);
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await post(CARTS, partial, a)).status).toBe(502);
      const bPlaced = await post(CARTS, cartOf(tag), b);
      expect(bPlaced.status).toBe(201);
      const aRetry = await post(CARTS, partial, a);
      expect(aRetry.status).toBe(201);
      expect(aRetry.json.checkout).toMatchObject({
        partial: true,
        orderErrors: [expect.objectContaining({ code: 800005 })],
      });
      expect(aRetry.json.checkout.orders[0].id).not.toBe(bPlaced.json.checkout.orders[0].id);
      expect(ordersTagged(tag)).toHaveLength(2);
      expect((await post(CARTS, cartOf(tag), b)).json.checkout.orders[0].id).toBe(bPlaced.json.checkout.orders[0].id);
      expect(ordersTagged(tag)).toHaveLength(2);
    });

    it('4. three keys add the same add-on (answered, lost, never arrived): three add-ons, one per key', async () => {
      const base = await baseOrder();
      const tag = unique('seq4');
      const [a, b, c] = [unique('seq4-a'), unique('seq4-b'), unique('seq4-c')];
      const path = `${ORDERS}/${base.orderId}`;
      const patch = (key: string) =>
        stack.request('PATCH', path, addOnOf(base.subscriptionId, tag), { 'Idempotency-Key': key });
      expect((await patch(a)).status).toBe(200);
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await patch(b)).status).toBe(502);
      neverArrive(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await patch(c)).status).toBe(502);
      expect(ordersTagged(tag)).toHaveLength(2);
      const answers = await Promise.all([patch(a), patch(b), patch(c)]);
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(new Set(answers.map((r) => r.json.id)).size).toBe(3);
      expect(ordersTagged(tag)).toHaveLength(3);
    });

    describe('the reconciler reads the recorded cart, never the orders list', () => {
      let published: LifecycleEvent[];
      const reconcile = () =>
        reconcileUnknownPurchases(
          {
            partnerCenter: stack.deps.partnerCenter,
            journals: stack.deps.idempotency?.journals as PurchaseJournals,
            idempotency: stack.deps.idempotency as NonNullable<Stack['deps']['idempotency']>,
            publish: async (events) => {
              published.push(...events);
            },
            budget: dynamoDBPollBudget({
              tableName: 'idempotency',
              client: stack.dynamodb?.client as never,
              perMinute: 500,
            }),
            reconcileAfterMs: 0,
            batch: 100,
          },
          { correlationId: crypto.randomUUID(), deadline: Date.now() + 20_000 },
        );
      const eventFor = (key: string) => published.find((e) => e.detail.idempotencyKey === key);
      beforeEach(async () => {
        await reconcile();
        published = [];
      });

      it('5. a key whose checkout never arrived is not given another key’s identical order: PurchaseNotPlaced', async () => {
        const tag = unique('seq5');
        const [a, b] = [unique('seq5-a'), unique('seq5-b')];
        neverArrive(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
        expect((await post(ORDERS, orderOf(tag), a)).status).toBe(502);
        loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
        expect((await post(ORDERS, orderOf(tag), b)).status).toBe(502);
        const from = stack.simulator.requests.length;
        await reconcile();
        expect(eventFor(a)).toMatchObject({ detailType: 'PurchaseNotPlaced' });
        expect(eventFor(b)).toMatchObject({
          detailType: 'PurchaseReconciled',
          detail: { orderIds: [ordersTagged(tag)[0]?.id] },
        });
        expect(ordersTagged(tag)).toHaveLength(1);
        expect(count(from, 'GET', /\/orders$/)).toBe(0);
        // The reconciler never checks out an Active cart: a retry with the key does.
        expect(count(from, 'POST', CHECKOUT)).toBe(1);
        const retry = await post(ORDERS, orderOf(tag), a);
        expect(retry.status).toBe(201);
        expect(ordersTagged(tag)).toHaveLength(2);
      });

      it('6. an identical order placed outside the service just before is never adopted', async () => {
        const [key, tag] = [unique('seq6'), unique('seq6')];
        const outside = await fetch(`${stack.simulator.url}/v1/customers/${CUSTOMER}/orders`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${(await (stack.deps as unknown as { tokens: TokenSource }).tokens.get()).value}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            ...orderOf(tag),
            lineItems: orderOf(tag).lineItems.map((l, i) => ({ ...l, lineItemNumber: i })),
          }),
        });
        expect(outside.status).toBe(201);
        neverArrive(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
        expect((await post(ORDERS, orderOf(tag), key)).status).toBe(502);
        await reconcile();
        expect(eventFor(key)).toMatchObject({ detailType: 'PurchaseNotPlaced' });
        const shown = await stack.request('GET', `/purchases/${encodeURIComponent(key)}`);
        expect(shown.json.purchases[0]).toMatchObject({ state: 'not-placed' });
      });

      it('7. a lost checkout whose cart can no longer be read: the retry and the reconciler both say so, neither buys', async () => {
        const [key, tag] = [unique('seq7'), unique('seq7')];
        loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
        const lost = await post(CARTS, cartOf(tag), key);
        expect(lost.status).toBe(502);
        expect(stack.simulator.forgetCart(lost.json.cartId)).toBe(true);
        const retry = await post(CARTS, cartOf(tag), key);
        expect(retry.status).toBe(502);
        expect(retry.json).toMatchObject({
          type: 'urn:partner-orders:problem:outcome-unknown',
          cartId: lost.json.cartId,
        });
        await reconcile();
        expect(eventFor(key)).toMatchObject({ detailType: 'PurchaseNeedsAttention', detail: { reason: 'unreadable' } });
        published = [];
        await reconcile();
        expect(eventFor(key)).toBeUndefined();
        expect(ordersTagged(tag)).toHaveLength(1);
      });
    });

    it('8. A (no friendlyName) lost; B (the same line with a friendlyName) placed: A’s retry places A’s own order', async () => {
      const tag = unique('seq8');
      const [a, b] = [unique('seq8-a'), unique('seq8-b')];
      const plain = { lineItems: [{ offerId: NCE, quantity: 9, termDuration: 'P1Y' }], billingCycle: 'monthly' };
      const named = { lineItems: [{ ...plain.lineItems[0], friendlyName: tag }], billingCycle: 'monthly' };
      neverArrive(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await post(ORDERS, plain, a)).status).toBe(502);
      const bPlaced = await post(ORDERS, named, b);
      const aRetry = await post(ORDERS, plain, a);
      expect(aRetry.status).toBe(201);
      expect(aRetry.json.id).not.toBe(bPlaced.json.id);
      expect(aRetry.json.lineItems[0].friendlyName).toBeUndefined();
      expect(ordersTagged(tag)).toHaveLength(1);
    });

    it('9. A’s add-on never arrived, B’s identical add-on placed: two add-ons, each key told its own', async () => {
      const base = await baseOrder();
      const tag = unique('seq9');
      const [a, b] = [unique('seq9-a'), unique('seq9-b')];
      const patch = (key: string) =>
        stack.request('PATCH', `${ORDERS}/${base.orderId}`, addOnOf(base.subscriptionId, tag), {
          'Idempotency-Key': key,
        });
      neverArrive(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await patch(a)).status).toBe(502);
      const bPlaced = await patch(b);
      const aRetry = await patch(a);
      expect([bPlaced.status, aRetry.status]).toEqual([200, 200]);
      expect(aRetry.json.lineItems[0].subscriptionId).not.toBe(bPlaced.json.lineItems[0].subscriptionId);
      expect(ordersTagged(tag)).toHaveLength(2);
    });

    it('10. B’s add-on answered; A’s never arrived: A never takes B’s line, whatever B’s answer named', async () => {
      const base = await baseOrder();
      const tag = unique('seq10');
      const [a, b] = [unique('seq10-a'), unique('seq10-b')];
      const patch = (key: string) =>
        stack.request('PATCH', `${ORDERS}/${base.orderId}`, addOnOf(base.subscriptionId, tag), {
          'Idempotency-Key': key,
        });
      const bPlaced = await patch(b);
      neverArrive(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await patch(a)).status).toBe(502);
      const aRetry = await patch(a);
      expect(aRetry.json.id).not.toBe(bPlaced.json.id);
      expect(ordersTagged(tag)).toHaveLength(2);
    });

    it('11. A monthly, B annual, same lines, both answers lost: A’s order is monthly, B’s annual', async () => {
      const tag = unique('seq11');
      const [a, b] = [unique('seq11-a'), unique('seq11-b')];
      const billed = (billingCycle: string) => ({ ...orderOf(tag), billingCycle });
      loseAnswers(2 * ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await post(ORDERS, billed('monthly'), a)).status).toBe(502);
      expect((await post(ORDERS, billed('annual'), b)).status).toBe(502);
      const [aRetry, bRetry] = [await post(ORDERS, billed('monthly'), a), await post(ORDERS, billed('annual'), b)];
      expect(aRetry.json.billingCycle).toBe('monthly');
      expect(bRetry.json.billingCycle).toBe('annual');
      expect(
        ordersTagged(tag)
          .map((o) => o.billingCycle)
          .sort(),
      ).toEqual(['annual', 'monthly']);
    });

    it('12. Partner Center’s clock 3 s behind ours: a key’s retry gets its own order (no clock is compared)', async () => {
      const behind = await startStack({
        idempotency: {},
        simulator: { dedupe: 'off', now: () => Date.now() - 3_000 },
        client: { baseDelayMs: 5 },
      });
      try {
        const [key, tag] = [unique('seq12'), unique('seq12')];
        behind.simulator.injectFault({
          kind: 'commit-then-drop',
          times: ALL_CHECKOUT_ANSWERS_LOST,
          match: { method: 'POST', path: CHECKOUT },
        });
        expect((await behind.request('POST', ORDERS, orderOf(tag), { 'Idempotency-Key': key })).status).toBe(502);
        const retry = await behind.request('POST', ORDERS, orderOf(tag), { 'Idempotency-Key': key });
        expect(retry.status).toBe(201);
        expect(behind.simulator.ledger.orders.filter((o) => o.lineItems[0]?.friendlyName === tag)).toHaveLength(1);
      } finally {
        await behind.stop();
      }
    });

    it('13. the same key with another body after an unknown outcome: the dry run says mismatch, the request 422', async () => {
      const [key, tag] = [unique('seq13'), unique('seq13')];
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await post(ORDERS, orderOf(tag), key)).status).toBe(502);
      const other = orderOf(tag, 4);
      const dry = await post(`${ORDERS}?dryRun=true`, other, key);
      expect(dry.status).toBe(200);
      expect(dry.json.idempotency).toBe('mismatch');
      expect((await post(`${ORDERS}?dryRun=true`, orderOf(tag), key)).json.idempotency).toBe('resume');
      const real = await post(ORDERS, other, key);
      expect(real.status).toBe(422);
      expect(real.json.type).toBe('urn:partner-orders:problem:idempotency-mismatch');
      expect(ordersTagged(tag)).toHaveLength(1);
    });

    it('14. a first checkout throttled (proven not placed), the permission revoked: the retry is judged again, 403', async () => {
      const [key, tag] = [unique('seq14'), unique('seq14')];
      stack.simulator.injectFault({
        kind: 'throttle',
        retryAfterSeconds: 60,
        match: { method: 'POST', path: CHECKOUT },
      });
      const throttled = await post(ORDERS, orderOf(tag), key);
      expect(throttled.status).toBe(429);
      stack.simulator.clearFaults();
      const denyAll = new PurchasePolicy(
        new CedarEngine(policyFiles({ 'test-deny-all': 'forbid (principal, action, resource);' }, [])),
      );
      const from = stack.simulator.requests.length;
      const retry = await createOrderHandler({ ...stack.deps, policy: denyAll })(
        httpEvent('POST /customers/{customerId}/orders', {
          pathParameters: { customerId: CUSTOMER },
          headers: { 'idempotency-key': key },
          body: orderOf(tag),
        }),
        lambdaContext(),
      );
      expect(retry.statusCode).toBe(403);
      expect(requestsSince(from)).toEqual([]);
      expect(ordersTagged(tag)).toHaveLength(0);
    });

    it('14b. a purchase that may have been placed is not judged again: the retry is answered, not refused', async () => {
      const [key, tag] = [unique('seq14b'), unique('seq14b')];
      loseAnswers(ALL_CHECKOUT_ANSWERS_LOST, CHECKOUT);
      expect((await post(ORDERS, orderOf(tag), key)).status).toBe(502);
      const denyAll = new PurchasePolicy(
        new CedarEngine(policyFiles({ 'test-deny-all': 'forbid (principal, action, resource);' }, [])),
      );
      const retry = await createOrderHandler({ ...stack.deps, policy: denyAll })(
        httpEvent('POST /customers/{customerId}/orders', {
          pathParameters: { customerId: CUSTOMER },
          headers: { 'idempotency-key': key },
          body: orderOf(tag),
        }),
        lambdaContext(),
      );
      expect(retry.statusCode).toBe(201);
      expect(ordersTagged(tag)).toHaveLength(1);
    });

    it('15. an order committed, its answer lost, no deduplication, the orders list lagging 150 s: one order', async () => {
      const lagging = await startStack({
        idempotency: {},
        simulator: { dedupe: 'off', listLagMs: 150_000 },
        client: { baseDelayMs: 5 },
      });
      try {
        const [key, tag] = [unique('seq15'), unique('seq15')];
        lagging.simulator.injectFault({
          kind: 'commit-then-drop',
          times: ALL_CHECKOUT_ANSWERS_LOST,
          match: { method: 'POST', path: CHECKOUT },
        });
        expect((await lagging.request('POST', ORDERS, orderOf(tag), { 'Idempotency-Key': key })).status).toBe(502);
        const retry = await lagging.request('POST', ORDERS, orderOf(tag), { 'Idempotency-Key': key });
        expect(retry.status).toBe(201);
        const placed = lagging.simulator.ledger.orders.filter((o) => o.lineItems[0]?.friendlyName === tag);
        expect(placed).toHaveLength(1);
        expect(retry.json.id).toBe(placed[0]?.id);
        expect(lagging.simulator.requests.filter((r) => r.method === 'GET' && /\/orders$/.test(r.path))).toEqual([]);
      } finally {
        await lagging.stop();
      }
    });
  });

  describe('the smaller truths', () => {
    it('a purchase whose cart Partner Center refused is on the key’s record: GET /purchases/{key} says refused', async () => {
      const key = unique('cart-refused');
      const refused = await post(
        ORDERS,
        { lineItems: [{ offerId: 'INVALID:0001:CFQ7TTC0K59S', quantity: 1, termDuration: 'P1Y' }] },
        key,
      );
      expect(refused.status).toBe(400);
      const shown = await stack.request('GET', `/purchases/${encodeURIComponent(key)}`);
      expect(shown.status).toBe(200);
      expect(shown.json.purchases[0]).toMatchObject({ state: 'refused', status: 400 });
    });

    it('every record of a key lives at least as long as the key’s stored outcome', async () => {
      const [key, tag] = [unique('lifetime'), unique('lifetime')];
      loseAnswers(1, CHECKOUT);
      const placed = await post(ORDERS, orderOf(tag), key);
      expect(placed.status).toBe(201);
      const items = (
        (await stack.dynamodb?.client.send(new ScanCommand({ TableName: 'idempotency' })))?.Items ?? []
      ).map((item) => unmarshall(item) as { id: string; expiration: number; status?: string; data?: string });
      // The stored outcome (Powertools' record, under a hash of the scope): the one that holds this order.
      const outcome = items.find(
        (item) => item.status === 'COMPLETED' && JSON.stringify(item.data ?? '').includes(placed.json.id),
      );
      expect(outcome).toBeDefined();
      const mine = items.filter((item) => item.id.startsWith(JOURNAL_PREFIX) || item.id.startsWith(KEY_POINTER_PREFIX));
      const store = stack.deps.idempotency?.journals as PurchaseJournals;
      const journals = await store.ofKey('http:anonymous', key);
      expect(journals).toHaveLength(1);
      const journal = mine.find((item) => item.id === `${JOURNAL_PREFIX}${journals[0]?.owner}`);
      expect(journal?.expiration).toBeGreaterThanOrEqual(outcome?.expiration ?? Number.POSITIVE_INFINITY);
      const pointers = mine.filter((item) => item.id.startsWith(KEY_POINTER_PREFIX));
      expect(Math.max(...pointers.map((p) => p.expiration))).toBeGreaterThanOrEqual(outcome?.expiration ?? 0);
    });
  });
});
