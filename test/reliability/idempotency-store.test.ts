// Suite 4 — idempotency store faults. The store (dynalite, behind a TCP proxy that can cut, blackhole or slow the
// connection) fails in the middle of a run. Requests must fail closed — nothing is sent to Partner Center unless its
// in-progress record is in the store at that moment, checked on every upstream call — with a clear, quick 503, and
// every purchase must go through once the store is back. The store's DynamoDB client is built with the production
// settings (IDEMPOTENCY_CLIENT_CONFIG).
import { createHash } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createCartHandler } from '../../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { createHandler as createEventsHandler } from '../../functions/order-events/handler.js';
import { readConfig } from '../../functions/shared/config.js';
import { createDependencies } from '../../functions/shared/dependencies.js';
import type { OutcomeEvent } from '../../functions/shared/events.js';
import type { HttpDependencies } from '../../functions/shared/http.js';
import { dynamoDBIdempotency, IDEMPOTENCY_CLIENT_CONFIG } from '../../functions/shared/idempotency.js';
import { iamIdentity } from '../../functions/shared/identity/http.js';
import { uuidv5 } from '../../functions/shared/uuid.js';
import { createIdempotencyTable, type LocalDynamoDB, startDynamoDB } from '../../local/dynamodb.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from '../../local/simulator/index.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { invokeOrder } from '../support/invoke.js';
import { leakWatch } from '../support/leaks.js';
import { ALLOW_ALL_POLICY } from '../support/policy.js';
import { count, Histogram, pool, report, sleep, timeout } from '../support/reliability.js';
import { eventBridgeEvent, localQueueProvenance, sqsEvent, sqsRecord } from '../support/sqs.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { BUSY_SLACK_MS } from '../support/timing.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ORDERS = 'POST /customers/{customerId}/orders';
const CARTS = 'POST /customers/{customerId}/carts';
const OTHER_CUSTOMER = '7d0e2f4a-6b8c-4d1e-8f2a-3b5c7d9e1f30';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
/**
 * The Lambda's remaining time per request: the in-progress lock of an invocation whose record could not be completed
 * expires after it (so retries wait that long). Where the store hangs, it must be longer than the store client's own
 * timeouts (≤ ~4.8 s), as it is in production (29 s); where it fails fast, shorter keeps the suite quick.
 */
const INVOCATION_MS = 4_000;
const HANGING_INVOCATION_MS = 9_000;
/**
 * Where the store is not the fault under test: time for a purchase's store and Partner Center round trips even on a
 * busy machine (a 2.5 s invocation left 1.5 s after the deadline margin, which a loaded 2-core machine overran).
 */
const ROOMY_INVOCATION_MS = 6_000;

const leaks = leakWatch('idempotency-store');
const figures: Record<string, unknown> = {};

/** The id Powertools gives the record of a keyed HTTP purchase (scope as in functions/shared/commands.ts). */
const scopeOf = (operation: string, customer: string, key: string, caller = 'http:anonymous') =>
  JSON.stringify([caller, operation, customer, key]);
const recordIdOf = (scope: string) =>
  `partner-orders#${createHash('md5').update(JSON.stringify(scope)).digest('base64')}`;

// Each scenario has its own connection to the one store (its own proxy and client). They run one after the other:
// at the same time, on one event loop with the in-process store, they ran out of their invocations' time on a busy
// machine (`npm run test:busy`), which is not what they test.
describe('the idempotency store fails in the middle of a run', () => {
  let dynamodb: LocalDynamoDB;
  let simulator: PartnerCenterSimulator;
  let base: ReturnType<typeof createDependencies> & { identity: typeof iamIdentity };
  const proxies: TcpProxy[] = [];
  /** MS-RequestId → the record that must be in progress when it is sent. */
  const expectedRecord = new Map<string, string>();
  const violations: string[] = [];

  beforeAll(async () => {
    dynamodb = await startDynamoDB();
    await createIdempotencyTable(dynamodb.client, 'idempotency');
    simulator = new PartnerCenterSimulator();
    const url = await simulator.start();
    base = {
      ...createDependencies(
        readConfig({
          PARTNER_CENTER_URL: url,
          PARTNER_CENTER_AUTHORITY_URL: url,
          PARTNER_CENTER_CREDENTIALS: JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS),
          UPSTREAM_ATTEMPT_TIMEOUT_MS: '1000',
          // About the store: no catalog pre-flight (test/integration/catalog.test.ts has it).
          PREFLIGHT: 'off',
        }),
      ),
      identity: iamIdentity,
      policy: ALLOW_ALL_POLICY,
    };
  });
  afterAll(async () => {
    leaks.fromSimulator(simulator);
    for (const proxy of proxies) await proxy.stop();
    await simulator.stop();
    await dynamodb.stop();
  });

  /**
   * The handlers' dependencies with a store reached through a proxy of its own, built as in production
   * (IDEMPOTENCY_CLIENT_CONFIG). Every purchase call checks, at the moment it goes out, that its record is in the
   * store (read directly, past the proxy) and in progress.
   */
  async function storeBehindProxy() {
    const proxy = await startTcpProxy(dynamodb.endpoint);
    proxies.push(proxy);
    const client = new DynamoDBClient({
      ...IDEMPOTENCY_CLIENT_CONFIG,
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const hooks: { afterSend?: (request: { method: string; path: string }) => void; sends: number } = { sends: 0 };
    const deps: HttpDependencies = {
      ...base,
      idempotency: dynamoDBIdempotency({ tableName: 'idempotency', expiresAfterSeconds: 3600, client }),
      partnerCenter: {
        describe: base.partnerCenter.describe.bind(base.partnerCenter),
        send: async (request, call) => {
          // Reads (looking for what an earlier attempt placed) buy nothing and carry a new MS-RequestId each time.
          if (request.method === 'GET') return base.partnerCenter.send(request, call);
          hooks.sends++;
          const recordId = call.requestId && expectedRecord.get(call.requestId);
          if (!recordId) violations.push(`a call with an unknown MS-RequestId ${call.requestId}`);
          else {
            const { Item } = await dynamodb.client.send(
              new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: recordId } }, ConsistentRead: true }),
            );
            if (Item?.status?.S !== 'INPROGRESS') {
              violations.push(`${request.method} ${request.path} sent with its record ${Item?.status?.S ?? 'missing'}`);
            }
            // The lock must end with the invocation: without it, a function that dies mid-purchase leaves the key
            // "in progress" for the record's whole lifetime (24 h), and every retry gets 409 meanwhile.
            const until = Number(Item?.in_progress_expiration?.N ?? Number.NaN);
            if (!(until > Date.now() && until < Date.now() + 61_000)) {
              violations.push(`${request.method} ${request.path} sent with no in-progress expiry on its record`);
            }
          }
          try {
            return await base.partnerCenter.send(request, call);
          } finally {
            hooks.afterSend?.(request);
          }
        },
      },
    };
    return { proxy, deps, hooks };
  }
  type Store = Awaited<ReturnType<typeof storeBehindProxy>>;

  /** Registers a purchase's MS-RequestIds, so the check above knows which record each call needs. */
  const expect_ = (operation: string, customer: string, key: string, steps: string[]) => {
    const scope = scopeOf(operation, customer, key);
    for (const step of steps) expectedRecord.set(uuidv5(`${scope}|${step}`), recordIdOf(scope));
  };

  const order = (tag: string) => ({ lineItems: [{ offerId: NCE, quantity: 1, friendlyName: tag }] });
  const ordersTagged = (tag: string) =>
    simulator.ledger.orders.filter((o) => o.lineItems.some((l) => l.friendlyName === tag));

  /** One keyed order, sent again (same key) until a final answer; every answer is kept. */
  async function buy(
    store: Store,
    key: string,
    answers: Histogram,
    slow: number[],
    invocationMs = INVOCATION_MS,
    customer = CUSTOMER,
  ) {
    // An order is placed through a cart: its creation and its checkout (services/orders.ts).
    expect_('createOrder', customer, key, ['create-cart', 'checkout']);
    const handler = createOrderHandler(store.deps);
    for (let attempt = 1; attempt <= 200; attempt++) {
      const started = performance.now();
      const result = await handler(
        httpEvent(ORDERS, {
          pathParameters: { customerId: customer },
          headers: { 'idempotency-key': key },
          body: order(key),
        }),
        lambdaContext(invocationMs),
      );
      const ms = performance.now() - started;
      const body = JSON.parse(result.body ?? '{}');
      leaks.response(result.body);
      const label = `${result.statusCode}${result.statusCode === 201 ? '' : ` ${String(body.type).split(':').at(-1)}`}`;
      answers.add(label);
      if (result.statusCode === 503) {
        slow.push(ms);
        expect(result.headers?.['Retry-After']).toBe('5');
        expect(body.type).toBe('urn:partner-orders:problem:idempotency-unavailable');
      }
      if (result.statusCode === 201) return body as { id: string };
      // 409 in flight; 503 store down, nothing sent; 502 outcome-unknown (an attempt went out and its record could
      // not be finished), 504 out of time: each retried with the key, which looks before it sends again.
      expect([409, 502, 503, 504], `${label}: ${result.body}`).toContain(result.statusCode);
      if (result.statusCode === 502) expect(body.type).toBe('urn:partner-orders:problem:outcome-unknown');
      // Middy answers 504 at the invocation's deadline (invocationMs − 5 ms), so the bound is that timer's: on a busy
      // machine it fires late by the time the event loop waits for a core; a hang would last the test's timeout.
      expect(ms, 'an answer by the end of the invocation').toBeLessThan(invocationMs + BUSY_SLACK_MS);
      await sleep(result.statusCode === 409 ? 200 : result.statusCode === 502 ? 1_000 : 50);
    }
    throw new Error(`${key}: no final answer`);
  }

  async function run(
    name: string,
    n: number,
    fault: Parameters<TcpProxy['set']>[0],
    outageMs: number,
    invocationMs = INVOCATION_MS,
  ) {
    const store = await storeBehindProxy();
    const answers = new Histogram();
    const slow: number[] = [];
    const placed = new Map<string, string>();
    let done = 0;
    let outage: Promise<void> | undefined;
    await pool(
      6,
      Array.from({ length: n }, (_, i) => async () => {
        const key = `${name}-${i}`;
        placed.set(key, (await buy(store, key, answers, slow, invocationMs)).id);
        if (++done === Math.floor(n / 3)) {
          store.proxy.set(fault);
          outage = sleep(outageMs).then(() => store.proxy.set({ kind: 'up' }));
        }
      }),
    );
    await outage;
    for (const [key, id] of placed)
      expect(
        ordersTagged(key).map((o) => o.id),
        key,
      ).toEqual([id]);
    figures[name] = {
      purchases: n,
      answers: answers.toJSON(),
      'slowest 503 (ms)': slow.length ? Math.round(Math.max(...slow)) : '-',
      'Partner Center calls': store.hooks.sends,
      'orders in the ledger': [...placed.keys()].reduce((sum, key) => sum + ordersTagged(key).length, 0),
    };
    return { answers, slow };
  }

  it(
    'store down for a while: 503 idempotency-unavailable, quickly, nothing sent without a record; all placed once after',
    async () => {
      const { answers, slow } = await run('store down', count(36, 150), { kind: 'down' }, 1_500);
      // A refused connection fails at once: a 503, not middy's 504 at the deadline (INVOCATION_MS).
      expect(answers.get('503 idempotency-unavailable')).toBeGreaterThan(0);
      expect(Math.max(...slow)).toBeLessThan(INVOCATION_MS + BUSY_SLACK_MS);
      expect(violations).toEqual([]);
    },
    timeout(60_000, 240_000),
  );

  it(
    'store not answering (blackhole): 503 within the client timeouts, not a hang; all placed once after',
    async () => {
      const { answers, slow } = await run(
        'store not answering',
        count(12, 60),
        { kind: 'blackhole' },
        5_500,
        HANGING_INVOCATION_MS,
      );
      // The client gives up by itself before the invocation ends: checked on its configuration (a blackhole accepts
      // the connection, so each attempt ends at requestTimeout; the SDK's backoff between 3 attempts is ≤ 100 + 200 ms),
      // and seen as 503s, which only the store client's own timeouts produce here (a hang would be middy's 504). The
      // wall clock bounds it only against a hang: on a busy machine each of the chained timers fires late.
      const { maxAttempts, requestHandler } = IDEMPOTENCY_CLIENT_CONFIG;
      expect(maxAttempts * requestHandler.requestTimeout + 300).toBeLessThan(HANGING_INVOCATION_MS);
      expect(answers.get('503 idempotency-unavailable')).toBeGreaterThan(0);
      expect(Math.max(...slow)).toBeLessThan(HANGING_INVOCATION_MS + BUSY_SLACK_MS);
      expect(violations).toEqual([]);
    },
    timeout(90_000, 240_000),
  );

  it(
    'store slow (answers after 2.5 s): 503 or 409, never an order without a record; all placed once after',
    async () => {
      await run('store slow', count(12, 60), { kind: 'slow', delayMs: 2_500 }, 3_000, HANGING_INVOCATION_MS);
      expect(violations).toEqual([]);
    },
    timeout(90_000, 240_000),
  );

  it('store a little slow (100 ms): every purchase succeeds at the first try', async () => {
    const store = await storeBehindProxy();
    store.proxy.set({ kind: 'slow', delayMs: 100 });
    const answers = new Histogram();
    await pool(
      4,
      // Every purchase is now a cart and its checkout, each step on record first: a dozen store round trips of
      // 100 ms or more, so the invocation gets the production-like room of the hanging scenarios.
      Array.from(
        { length: 8 },
        (_, i) => () => buy(store, `store a little slow-${i}`, answers, [], HANGING_INVOCATION_MS),
      ),
    );
    expect(answers.toJSON()).toEqual({ 201: 8 });
    expect(violations).toEqual([]);
  });

  it('store dies after the order went out: the caller gets the order, not a false "nothing was sent"', async () => {
    const key = 'dies-after-send';
    const store = await storeBehindProxy();
    expect_('createOrder', CUSTOMER, key, ['create-cart', 'checkout']);
    const handler = createOrderHandler(store.deps);
    const event = httpEvent(ORDERS, {
      pathParameters: { customerId: CUSTOMER },
      headers: { 'idempotency-key': key },
      body: order(key),
    });
    const logged = leaks.mark();
    // The order goes out with the checkout of its cart: the store dies right after it.
    store.hooks.afterSend = (request) => {
      if (request.path.endsWith('/checkout')) store.proxy.set({ kind: 'down' });
    };
    const first = await handler(event, lambdaContext(ROOMY_INVOCATION_MS));
    store.hooks.afterSend = undefined;
    leaks.response(first.body);
    expect(first.statusCode).toBe(201);
    const placed = JSON.parse(first.body ?? '{}').id;
    expect(ordersTagged(key).map((o) => o.id)).toEqual([placed]);
    expect(logged().some((line) => line.includes('idempotency record not updated after the purchase ran'))).toBe(true);

    // The record could not be completed: a retry is told "in progress" until the invocation's deadline, then checks
    // out the cart on record under the key again, which Partner Center answers with the same order.
    store.proxy.set({ kind: 'up' });
    const answers = new Histogram();
    const again = await buy(store, key, answers, []);
    expect(again.id).toBe(placed);
    expect(ordersTagged(key)).toHaveLength(1);
    figures['store dies after the order went out'] = { first: 201, 'the retry': answers.toJSON(), orders: 1 };
  });

  it('store dies while a failed attempt is cleared: the answer is the real failure, not "nothing was sent"', async () => {
    const key = 'dies-after-failure';
    const store = await storeBehindProxy();
    expect_('createOrder', OTHER_CUSTOMER, key, ['create-cart', 'checkout']);
    // Only this customer's checkouts fail: the other scenarios run at the same time.
    simulator.injectFault({
      kind: 'unavailable',
      match: { path: new RegExp(`/customers/${OTHER_CUSTOMER}/carts/[^/]+/checkout$`) },
    });
    const handler = createOrderHandler(store.deps);
    const event = httpEvent(ORDERS, {
      pathParameters: { customerId: OTHER_CUSTOMER },
      headers: { 'idempotency-key': key },
      body: order(key),
    });
    // The checkout goes out and fails (503): the store dies right after it, while the attempt is being cleared.
    store.hooks.afterSend = (request) => {
      if (request.path.endsWith('/checkout')) store.proxy.set({ kind: 'down' });
    };
    const sent = store.hooks.sends;
    const first = await handler(event, lambdaContext(ROOMY_INVOCATION_MS));
    store.hooks.afterSend = undefined;
    leaks.response(first.body);
    expect(store.hooks.sends).toBeGreaterThan(sent); // it did go out
    expect(first.statusCode).toBe(502);
    // A 5xx leaves the outcome unknown (the orders list may lag): said as it is, never "nothing was sent".
    expect(JSON.parse(first.body ?? '{}').type).toBe('urn:partner-orders:problem:outcome-unknown');
    simulator.clearFaults();
    store.proxy.set({ kind: 'up' });
    const answers = new Histogram();
    const again = await buy(store, key, answers, [], INVOCATION_MS, OTHER_CUSTOMER);
    expect(ordersTagged(key).map((o) => o.id)).toEqual([again.id]);
    figures['store dies while a failure is cleared'] = { first: '502 outcome-unknown', 'the retry': answers.toJSON() };
  });

  it('the Lambda runs out of time while the store hangs: 504 "outcome unknown" (HTTP), a retryable error (invoke)', async () => {
    const store = await storeBehindProxy();
    store.proxy.set({ kind: 'blackhole' });
    const key = 'out-of-time';
    expect_('createOrder', CUSTOMER, key, ['create-cart', 'checkout']);
    const handler = createOrderHandler(store.deps);
    const sent = store.hooks.sends;
    const http = await handler(
      httpEvent(ORDERS, {
        pathParameters: { customerId: CUSTOMER },
        headers: { 'idempotency-key': key },
        body: order(key),
      }),
      lambdaContext(1_200),
    );
    leaks.response(http.body);
    // middy answers just before Lambda would kill the function: not the 500 "a bug" it used to be.
    expect(http.statusCode).toBe(504);
    expect(JSON.parse(http.body ?? '{}')).toMatchObject({
      type: 'urn:partner-orders:problem:upstream-timeout',
      title: 'The request did not finish in time',
    });
    const invoked = await invokeOrder(store.deps)(
      { customerId: CUSTOMER, ...order(key), idempotencyKey: key },
      lambdaContext(1_200),
    ).catch((error: Error) => error);
    // Step Functions retries PartnerOrdersRetryableError; middy's own TimeoutError it would not.
    expect(invoked).toMatchObject({ name: 'PartnerOrdersRetryableError', problem: { status: 504 } });
    expect(store.hooks.sends).toBe(sent);
    store.proxy.set({ kind: 'down' });
    figures['out of time while the store hangs'] = { http: 504, invoke: 'PartnerOrdersRetryableError (504)' };
  });

  it('an event command: its in-progress record expires with the consumer invocation, not a day later', async () => {
    const store = await storeBehindProxy();
    const key = 'event-lock';
    const scope = scopeOf('createOrder', CUSTOMER, key, 'events:com.example.billing');
    for (const step of ['create-cart', 'checkout']) expectedRecord.set(uuidv5(`${scope}|${step}`), recordIdOf(scope));
    const published: OutcomeEvent[] = [];
    const events = createEventsHandler({
      ...store.deps,
      publish: async (outcomes) => {
        published.push(...outcomes);
      },
      proveOrigin: localQueueProvenance,
      delay: async () => undefined,
    });
    const before = violations.length;
    const record = sqsRecord(
      eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, ...order(key), idempotencyKey: key }),
    );
    const response = await events(sqsEvent([record]), lambdaContext(60_000));
    expect(response.batchItemFailures).toEqual([]);
    expect(published.map((e) => e.detailType)).toEqual(['OrderCreated']);
    expect(violations.slice(before)).toEqual([]);
  });

  it('an outcome too big for a DynamoDB item (400 KB): the caller gets it, and a retry buys nothing twice', async () => {
    const key = 'too-big';
    const store = await storeBehindProxy();
    expect_('createCart', CUSTOMER, key, ['create-cart', 'checkout']);
    const handler = createCartHandler(store.deps);
    const cart = {
      checkout: true,
      lineItems: Array.from({ length: 100 }, (_, i) => ({
        catalogItemId: `BIG${i}:0001:X`,
        quantity: 1,
        billingCycle: 'monthly',
        friendlyName: `${key}-${i}-${'n'.repeat(240)}`,
        provisioningContext: { k: 'v'.repeat(2000) },
      })),
    };
    const event = () =>
      httpEvent(CARTS, { pathParameters: { customerId: CUSTOMER }, headers: { 'idempotency-key': key }, body: cart });
    const first = await handler(event(), lambdaContext(ROOMY_INVOCATION_MS));
    expect(first.statusCode).toBe(201);
    const body = JSON.parse(first.body ?? '{}');
    expect(Buffer.byteLength(first.body ?? '')).toBeGreaterThan(400 * 1024);
    let again = first;
    // 409 while the first request's lock lasts (its invocation's time); then the retry finds what it bought.
    for (let attempt = 0; attempt < 60; attempt++) {
      again = await handler(event(), lambdaContext(ROOMY_INVOCATION_MS));
      if (again.statusCode !== 409) break;
      await sleep(200);
    }
    expect(again.statusCode).toBe(201);
    const retried = JSON.parse(again.body ?? '{}');
    expect(retried.cart.id).toBe(body.cart.id);
    expect(retried.checkout.orders[0].id).toBe(body.checkout.orders[0].id);
    expect(simulator.ledger.carts.filter((c) => c.id === body.cart.id)).toHaveLength(1);
    expect(simulator.ledger.orders.filter((o) => o.id === body.checkout.orders[0].id)).toHaveLength(1);
    figures['outcome over 400 KB'] = {
      bytes: Buffer.byteLength(first.body ?? ''),
      first: 201,
      retry: 'same cart and order',
    };
  }, 40_000);
});

describe('idempotency store: figures and leaks', () => {
  it('prints the figures and leaks no secret', () => {
    report('idempotency-store', figures);
    expect(leaks.check()).toEqual([]);
  });
});
