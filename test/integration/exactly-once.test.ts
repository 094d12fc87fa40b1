// The nine ways the service could buy twice, lose an order or misreport one (issue "Exactly once against the real
// Partner Center"), each against a Partner Center simulator that does NOT deduplicate MS-RequestId: what happened
// before is in each test's first comment, what must happen now in its assertions.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { readConfig } from '../../functions/shared/config.js';
import { IdempotencyConflictError } from '../../functions/shared/errors.js';
import type { Outcome } from '../../functions/shared/idempotency.js';
import { PurchasePolicy } from '../../functions/shared/policy/check.js';
import { CedarEngine } from '../../functions/shared/policy/local.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { policyFiles } from '../support/policy.js';
import { NCE, orderOf, unique } from '../support/purchases.js';
import { scaledSleep } from '../support/reliability.js';
import { eventBridgeEvent, recordingEventsHandler, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';
import { until } from '../support/timing.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const SETTLE_SECONDS = 0.5;
captureLogs();

const cartOf = (tag: string, catalogItemIds = [NCE]) => ({
  lineItems: catalogItemIds.map((catalogItemId, id) => ({
    id,
    catalogItemId,
    quantity: 2,
    billingCycle: 'monthly',
    termDuration: 'P1Y',
    friendlyName: tag,
  })),
  checkout: true,
});

describe('exactly once, against a Partner Center that does not deduplicate MS-RequestId', () => {
  let stack: Stack;
  const ordersTagged = (tag: string) =>
    stack.simulator.ledger.orders.filter((o) => o.lineItems.some((l) => l.friendlyName === tag));
  const cartsTagged = (tag: string) =>
    stack.simulator.ledger.carts.filter((c) => c.lineItems.some((l) => l.friendlyName === tag));
  const sent = (method: string, suffix: RegExp) =>
    stack.simulator.requests.filter((r) => r.method === method && suffix.test(r.path)).length;

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { dedupe: 'off' },
      env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '250', RECONCILE_SETTLE_SECONDS: String(SETTLE_SECONDS) },
      client: { sleep: scaledSleep(20) },
    });
  });
  afterAll(() => stack.stop());
  beforeEach(() => stack.simulator.clearFaults());

  describe('1. a retry from a new STS session of the same role', () => {
    const post = (userArn: string, key: string, tag: string) => {
      const event = httpEvent('POST /customers/{customerId}/orders', {
        pathParameters: { customerId: CUSTOMER },
        headers: { 'idempotency-key': key },
        body: orderOf(tag),
      });
      return createOrderHandler(stack.deps)(
        { ...event, requestContext: { ...event.requestContext, authorizer: { iam: { userArn } } } } as typeof event,
        lambdaContext(),
      );
    };
    const role = (name: string, session: string) => `arn:aws:sts::123456789012:assumed-role/${name}/${session}`;

    it('is a replay: one upstream order (before: a new scope per session, two orders)', async () => {
      const [key, tag] = [unique('sts'), unique('sts')];
      const first = await post(role('Buyer', 'botocore-session-1700000000'), key, tag);
      const second = await post(role('Buyer', 'ecs-task-0b1c2d3e'), key, tag);
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.headers?.['Idempotent-Replayed']).toBe('true');
      expect(JSON.parse(String(second.body)).id).toBe(JSON.parse(String(first.body)).id);
      expect(ordersTagged(tag)).toHaveLength(1);
    });

    it('two keys buying identical lines, both losing their answers one after the other: each finds its own order at once', async () => {
      const tag = unique('twins');
      const path = `/customers/${CUSTOMER}/orders`;
      for (const key of [unique('twin-a'), unique('twin-b')]) {
        stack.simulator.injectFault({
          kind: 'commit-then-drop',
          times: 1,
          match: { method: 'POST', path: /\/orders$/ },
        });
        const answer = await stack.request('POST', path, orderOf(tag), { 'Idempotency-Key': key });
        // The first key's purchase was found and announced done, so the second is not kept waiting for it.
        expect(answer.status).toBe(201);
        expect(answer.headers.get('idempotent-reconciled')).toBe('true');
      }
      expect(ordersTagged(tag)).toHaveLength(2);
    });

    it('another role with the same key is another caller: its own purchase', async () => {
      const [key, tag] = [unique('sts'), unique('sts')];
      await post(role('Buyer', 's1'), key, tag);
      const other = await post(role('OtherBuyer', 's1'), key, tag);
      expect(other.headers?.['Idempotent-Replayed']).toBeUndefined();
      expect(ordersTagged(tag)).toHaveLength(2);
    });
  });

  describe('2. cart + checkout whose checkout answer is lost', () => {
    it('a retry with the key checks out the recorded cart and creates no second one (before: a new cart, bought again)', async () => {
      const [key, tag] = [unique('cart'), unique('cart')];
      const carts = `/customers/${CUSTOMER}/carts`;
      const cartPosts = () => sent('POST', /\/carts$/);
      // The checkout never reaches Partner Center and no answer comes back.
      stack.simulator.injectFault({ kind: 'drop', times: 1, match: { method: 'POST', path: /\/checkout$/ } });
      const before = cartPosts();
      const first = await stack.request('POST', carts, cartOf(tag), { 'Idempotency-Key': key });
      expect(first.status).toBe(502);
      expect(first.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
      const cartId = first.json.cartId;
      expect(cartsTagged(tag).map((c) => c.id)).toEqual([cartId]);
      // One instruction, the same whatever went wrong: retry with the key.
      expect(first.json.detail).toContain(`Retry with the same Idempotency-Key: it checks out cart ${cartId}`);
      expect(first.json.detail).not.toContain('/checkout');

      await sleep(SETTLE_SECONDS * 1000);
      const retry = await stack.request('POST', carts, cartOf(tag), { 'Idempotency-Key': key });
      expect(retry.status).toBe(201);
      expect(retry.json.cart.id).toBe(cartId);
      expect(cartPosts() - before).toBe(1);
      expect(cartsTagged(tag)).toHaveLength(1);
      expect(ordersTagged(tag).map((o) => o.id)).toEqual([retry.json.checkout.orders[0].id]);
    });

    it('the same for an event: the redelivery checks out the recorded cart', async () => {
      const tag = unique('event-cart');
      stack.simulator.injectFault({ kind: 'drop', times: 1, match: { method: 'POST', path: /\/checkout$/ } });
      const { handler, published } = recordingEventsHandler(stack.deps);
      const record = sqsRecord(eventBridgeEvent('CreateCart', { customerId: CUSTOMER, ...cartOf(tag) }));
      await expect(handler(sqsEvent([record]), lambdaContext(60_000))).rejects.toThrow(/All records failed/);
      await sleep(SETTLE_SECONDS * 1000);
      expect((await handler(sqsEvent([record]), lambdaContext(60_000))).batchItemFailures).toEqual([]);
      expect(published.map((e) => e.detailType)).toEqual(['CartCheckedOut']);
      expect(cartsTagged(tag)).toHaveLength(1);
      expect(ordersTagged(tag)).toHaveLength(1);
    });
  });

  describe('3. a refusal after an attempt whose outcome was unknown', () => {
    it('a placed order is found before the retry can be refused (before: 429 "nothing was purchased", one order)', async () => {
      const tag = unique('then-429');
      stack.simulator.injectFault({ kind: 'commit-then-drop', times: 1, match: { method: 'POST', path: /\/orders$/ } });
      stack.simulator.injectFault({
        kind: 'throttle',
        retryAfterSeconds: 600,
        match: { method: 'POST', path: /\/orders$/ },
      });
      const result = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(tag));
      expect(result.status).toBe(201);
      expect(result.headers.get('idempotent-reconciled')).toBe('true');
      expect(ordersTagged(tag).map((o) => o.id)).toEqual([result.json.id]);
    });

    it('a 500 leaves the outcome unknown, never "nothing was purchased"; after it settles, the retry reads first', async () => {
      const [key, tag] = [unique('500-then-429'), unique('500-then-429')];
      // A 500 (nothing placed, but nothing proves it), then throttling longer than the request may wait.
      stack.simulator.injectFault({ kind: 'server-error', times: 1, match: { method: 'POST', path: /\/orders$/ } });
      stack.simulator.injectFault({
        kind: 'throttle',
        retryAfterSeconds: 600,
        times: 1,
        match: { method: 'POST', path: /\/orders$/ },
      });
      const first = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(tag), {
        'Idempotency-Key': key,
      });
      expect(first.status).toBe(502);
      expect(first.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
      await sleep(SETTLE_SECONDS * 1000);
      const reads = sent('GET', /\/orders$/);
      const throttled = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(tag), {
        'Idempotency-Key': key,
      });
      // Read first (nothing there), sent, throttled: still "unknown", since an earlier attempt may have placed it.
      expect(sent('GET', /\/orders$/) - reads).toBe(1);
      expect(throttled.status).toBe(502);
      expect(throttled.json.detail).not.toContain('nothing was purchased');
      expect(throttled.headers.get('retry-after')).toBe('600');
      const bought = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(tag), {
        'Idempotency-Key': key,
      });
      expect(bought.status).toBe(201);
      expect(ordersTagged(tag).map((o) => o.id)).toEqual([bought.json.id]);
    });
  });

  describe('3b. a policy changed while the outcome is unknown', () => {
    it('the retry of a purchase that was placed is answered with it, not refused by the new policy', async () => {
      const [key, tag] = [unique('policy-changed'), unique('policy-changed')];
      // Placed 500 ms after it arrived; the client gave up after 250 ms.
      stack.simulator.injectFault({
        kind: 'delay',
        delayMs: 500,
        times: 1,
        match: { method: 'POST', path: /\/orders$/ },
      });
      const first = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(tag), {
        'Idempotency-Key': key,
      });
      expect(first.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
      await sleep(SETTLE_SECONDS * 1000);
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
      expect(retry.headers?.['Idempotent-Reconciled']).toBe('true');
      expect(ordersTagged(tag)).toHaveLength(1);
      // A new purchase is judged by the new policy.
      const fresh = await createOrderHandler({ ...stack.deps, policy: denyAll })(
        httpEvent('POST /customers/{customerId}/orders', {
          pathParameters: { customerId: CUSTOMER },
          headers: { 'idempotency-key': unique('policy-new') },
          body: orderOf(unique('policy-new')),
        }),
        lambdaContext(),
      );
      expect(fresh.statusCode).toBe(403);
    });
  });

  describe('4. a checkout in which every order group failed', () => {
    it('is a 422 checkout-failed with the reasons, stored and replayed (before: 201 with orders: [])', async () => {
      const [key, tag] = [unique('failed'), unique('failed')];
      const body = cartOf(tag, ['CFQ7TTC0LH18:0001:PARTIALFAIL']);
      const first = await stack.request('POST', `/customers/${CUSTOMER}/carts`, body, { 'Idempotency-Key': key });
      expect(first.status).toBe(422);
      expect(first.json).toMatchObject({
        type: 'urn:partner-orders:problem:checkout-failed',
        orderErrors: [{ orderGroupId: '1', code: 800005 }],
        cartId: expect.any(String),
      });
      const again = await stack.request('POST', `/customers/${CUSTOMER}/carts`, body, { 'Idempotency-Key': key });
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.status).toBe(422);
      expect(ordersTagged(tag)).toHaveLength(0);
    });

    it('events: OrderRejected when every group failed, CartPartiallyCheckedOut when some did (before: CartCheckedOut)', async () => {
      const { handler, published } = recordingEventsHandler(stack.deps);
      const failed = sqsRecord(
        eventBridgeEvent('CreateCart', {
          customerId: CUSTOMER,
          ...cartOf(unique('e-failed'), ['CFQ7TTC0LH18:0001:PARTIALFAIL']),
        }),
      );
      const partial = sqsRecord(
        eventBridgeEvent('CreateCart', {
          customerId: CUSTOMER,
          ...cartOf(unique('e-partial'), [NCE, 'CFQ7TTC0LH18:0001:PARTIALFAIL']),
        }),
      );
      await handler(sqsEvent([failed, partial]), lambdaContext(60_000));
      const typeOf = (record: typeof failed) =>
        published.find((e) => e.detail.commandId === JSON.parse(record.body).id)?.detailType;
      expect(typeOf(failed)).toBe('OrderRejected');
      expect(typeOf(partial)).toBe('CartPartiallyCheckedOut');
      const result = published.find((e) => e.detailType === 'CartPartiallyCheckedOut')?.detail.result as {
        checkout: { partial: boolean; orders: unknown[]; orderErrors: unknown[] };
      };
      expect(result.checkout).toMatchObject({
        partial: true,
        orders: [expect.anything()],
        orderErrors: [expect.anything()],
      });
    });
  });

  describe('5. a DLQ redrive long after the first delivery', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('records live as long as the queue and the DLQ keep a message, plus a day (before: 24 h)', () => {
      expect(readConfig({}).idempotencyTtlSeconds).toBeGreaterThanOrEqual((14 + 14 + 1) * 86_400);
    });

    it('a command redriven 20 days later is a replay, not a second order', async () => {
      const tag = unique('redrive');
      const { handler, published } = recordingEventsHandler(stack.deps);
      const record = sqsRecord(eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...orderOf(tag) }));
      await handler(sqsEvent([record]), lambdaContext(60_000));
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 20 * 86_400_000 });
      await handler(sqsEvent([record]), lambdaContext(60_000));
      expect(published.map((e) => e.detailType)).toEqual(['OrderCreated', 'OrderCreated']);
      expect(published[1]?.detail.result).toEqual(published[0]?.detail.result);
      expect(ordersTagged(tag)).toHaveLength(1);
    });
  });

  describe('6. purchases without a key', () => {
    it('direct invocation without idempotencyKey is refused naming it, nothing sent (before: a new purchase each time)', async () => {
      const before = stack.simulator.requests.length;
      const invoke = createOrderHandler(stack.deps);
      const answer = (await invoke({ customerId: CUSTOMER, ...orderOf('no-key') }, lambdaContext())) as {
        status: number;
        type: string;
        errors: { path: string }[];
      };
      expect(answer).toMatchObject({
        status: 400,
        type: 'urn:partner-orders:problem:idempotency-key-required',
        errors: [{ path: '/idempotencyKey' }],
      });
      expect(stack.simulator.requests.length).toBe(before);
      // A dry run needs none.
      const dry = await invoke({ customerId: CUSTOMER, ...orderOf('no-key'), dryRun: true }, lambdaContext());
      expect(dry).toMatchObject({ dryRun: true });
    });

    it('a deployment may make keys optional again (IDEMPOTENCY_KEY_REQUIRED=false)', () => {
      expect(readConfig({ IDEMPOTENCY_KEY_REQUIRED: 'false' }).requireIdempotencyKey).toBe(false);
      expect(readConfig({}).requireIdempotencyKey).toBe(true);
      expect(() => readConfig({ IDEMPOTENCY_KEY_REQUIRED: 'no' })).toThrow(/true or false/);
    });
  });

  describe('7. a request that resumes after its deadline', () => {
    it('never removes the lock of the retry that took over, so a third request cannot run beside it (before: it did)', async () => {
      const store = stack.deps.idempotency;
      if (!store) throw new Error('the stack has a store');
      const call = { scope: unique('late'), fingerprint: { operation: 'createOrder', input: 1 } };
      const running = new Set<string>();
      const ran: string[] = [];
      const work =
        (name: string, gate: Promise<void>, fail = false) =>
        async (): Promise<Outcome> => {
          running.add(name);
          ran.push(name);
          await gate;
          running.delete(name);
          if (fail) throw new Error(`${name}: outcome unknown`);
          return { status: 201, body: { id: name } };
        };
      let releaseFirst!: () => void;
      let releaseRetry!: () => void;
      const first = store.run(call, work('first', new Promise((r) => (releaseFirst = r)), true), lambdaContext(200));
      await until(() => running.has('first'), 'the first request holding the lock');
      await sleep(300); // the first request's deadline, and so its lock, has passed: it is frozen, not dead
      const retry = store.run(call, work('retry', new Promise((r) => (releaseRetry = r))), lambdaContext(20_000));
      await until(() => running.has('retry'), 'the retry holding the lock');
      releaseFirst(); // the late request resumes and fails: Powertools deletes "its" record
      await first.catch(() => undefined);
      const third = await store
        .run(call, work('third', Promise.resolve()), lambdaContext(20_000))
        .catch((error: unknown) => error);
      expect(third).toBeInstanceOf(IdempotencyConflictError);
      expect(ran).toEqual(['first', 'retry']);
      releaseRetry();
      expect(await retry).toMatchObject({ body: { id: 'retry' }, replayed: false });
      expect(await store.run(call, work('fourth', Promise.resolve()), lambdaContext())).toMatchObject({
        body: { id: 'retry' },
        replayed: true,
      });
    });

    it('a late request that succeeds leaves the record of the retry that took over alone', async () => {
      const store = stack.deps.idempotency;
      if (!store) throw new Error('the stack has a store');
      const call = { scope: unique('late-success'), fingerprint: { operation: 'createOrder', input: 2 } };
      let releaseFirst!: () => void;
      let releaseRetry!: () => void;
      const first = store.run(
        call,
        async () => {
          await new Promise<void>((r) => (releaseFirst = r));
          return { status: 201, body: { id: 'first' } };
        },
        lambdaContext(200),
      );
      await until(() => releaseFirst !== undefined, 'the first request holding the lock');
      await sleep(300);
      const retry = store.run(
        call,
        async () => {
          await new Promise<void>((r) => (releaseRetry = r));
          return { status: 201, body: { id: 'retry' } };
        },
        lambdaContext(20_000),
      );
      await until(() => releaseRetry !== undefined, 'the retry holding the lock');
      releaseFirst();
      expect(await first).toMatchObject({ body: { id: 'first' } }); // its own answer, not stored
      const during = await store.run(call, async () => ({ status: 201, body: { id: 'third' } })).catch((e) => e);
      expect(during).toBeInstanceOf(IdempotencyConflictError);
      releaseRetry();
      await retry;
      expect(await store.run(call, async () => ({ status: 201, body: { id: 'fourth' } }))).toMatchObject({
        body: { id: 'retry' },
        replayed: true,
      });
    });
  });

  describe('8. ambiguous input', () => {
    const ORDERS = `/customers/${CUSTOMER}/orders`;

    it('a key twice in one object is refused naming it, nothing sent (before: the last value, 9999 seats)', async () => {
      const before = stack.simulator.requests.length;
      const raw = `{"lineItems":[{"offerId":"${NCE}","quantity":1,"quantity":9999}]}`;
      const result = await stack.request('POST', ORDERS, raw);
      expect(result.status).toBe(400);
      expect(result.json.errors).toEqual([
        {
          path: '/body/lineItems/0/quantity',
          message: 'appears twice in the same object: which one was meant is ambiguous',
        },
      ]);
      expect(stack.simulator.requests.length).toBe(before);
    });

    it('a body that is not UTF-8 is refused (before: bytes replaced with U+FFFD and sent)', async () => {
      const before = stack.simulator.requests.length;
      const bytes = Buffer.concat([
        Buffer.from(`{"lineItems":[{"offerId":"${NCE}","quantity":1,"friendlyName":"caf`),
        Buffer.from([0xe9]), // Latin-1 é: not UTF-8
        Buffer.from('"}]}'),
      ]);
      const response = await fetch(`${stack.url}${ORDERS}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': unique('utf8') },
        body: bytes,
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: unknown }).errors).toEqual([
        { path: '/body', message: 'is not valid UTF-8' },
      ]);
      const replaced = await stack.request(
        'POST',
        ORDERS,
        `{"lineItems":[{"offerId":"${NCE}","quantity":1,"friendlyName":"caf\uFFFD"}]}`,
      );
      expect(replaced.status).toBe(400);
      expect(stack.simulator.requests.length).toBe(before);
    });

    it('an event detail with a key twice is rejected naming it, nothing sent', async () => {
      const { handler, published } = recordingEventsHandler(stack.deps);
      const record = sqsRecord(eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...orderOf('dup') }));
      const body = record.body.replace('"quantity":3', '"quantity":3,"quantity":3000');
      const before = stack.simulator.requests.length;
      await handler(sqsEvent([{ ...record, body }]), lambdaContext(60_000));
      expect(published[0]?.detailType).toBe('OrderRejected');
      expect(published[0]?.detail.problem?.errors).toEqual([
        {
          path: '/detail/lineItems/0/quantity',
          message: 'appears twice in the same object: which one was meant is ambiguous',
        },
      ]);
      expect(stack.simulator.requests.length).toBe(before);
    });
  });

  describe('9. a dry run with a key', () => {
    const ORDERS = `/customers/${CUSTOMER}/orders`;
    const dryRun = (key: string, body: unknown) =>
      stack.request('POST', `${ORDERS}?dryRun=true`, body, { 'Idempotency-Key': key });

    it('tells what the real request would do: new, replay (with the stored status), mismatch (before: the key was ignored)', async () => {
      const [key, tag] = [unique('dry'), unique('dry')];
      expect((await dryRun(key, orderOf(tag))).json).toMatchObject({ dryRun: true, idempotency: 'new' });
      const bought = await stack.request('POST', ORDERS, orderOf(tag), { 'Idempotency-Key': key });
      expect(bought.status).toBe(201);
      const sentBefore = stack.simulator.requests.length;
      expect((await dryRun(key, orderOf(tag))).json).toMatchObject({ idempotency: 'replay', storedStatus: 201 });
      expect((await dryRun(key, orderOf(tag, 7))).json).toMatchObject({ idempotency: 'mismatch' });
      expect(stack.simulator.requests.length).toBe(sentBefore);
    });

    it('and in-progress while the purchase with the key is running', async () => {
      const [key, tag] = [unique('dry-busy'), unique('dry-busy')];
      stack.simulator.injectFault({
        kind: 'delay',
        delayMs: 2_000,
        times: 1,
        match: { method: 'POST', path: /\/orders$/ },
      });
      const sent = () => stack.simulator.requests.filter((r) => r.method === 'POST' && /\/orders$/.test(r.path));
      const before = sent().length;
      const purchase = stack.request('POST', ORDERS, orderOf(tag), {
        'Idempotency-Key': key,
      });
      await until(() => sent().length > before, 'the purchase upstream'); // held there 2 s
      expect((await dryRun(key, orderOf(tag))).json).toMatchObject({ idempotency: 'in-progress' });
      await purchase;
    });
  });
});
