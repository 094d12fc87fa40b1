// The reconciler against a Partner Center that does not deduplicate MS-RequestId: purchases left outcome-unknown
// (the answer lost, and Partner Center could not be read to find out) are looked for with the same reconcile code a
// retry uses, and end as PurchaseReconciled (found, claimed, tracked), or PurchaseNeedsAttention (nothing found, or
// two candidate orders). Nothing is ever bought by the reconciler.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createReconcilerHandler } from '../../functions/reconcile-purchases/handler.js';
import type { PurchaseJournals } from '../../functions/shared/exactly-once/journals.js';
import { dynamoDBPollBudget, type PollBudget } from '../../functions/shared/lifecycle/budget.js';
import type { LifecycleEvent } from '../../functions/shared/lifecycle/events.js';
import { type ReconcilerDependencies, reconcileUnknownPurchases } from '../../functions/shared/lifecycle/reconciler.js';
import { provisioningTracking } from '../../functions/shared/lifecycle/tracking.js';
import { MemoryTrackingQueue } from '../../local/tracking-queue.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const ORDERS = `/customers/${CUSTOMER}/orders`;
captureLogs();

let counter = 0;
const unique = (name: string) => `${name}-${Date.now()}-${counter++}`;
const orderOf = (tag: string) => ({
  lineItems: [{ offerId: NCE, quantity: 7, termDuration: 'P1Y', friendlyName: tag }],
  billingCycle: 'monthly',
});

describe('the reconciler of purchases whose outcome is unknown', () => {
  let stack: Stack;
  let published: LifecycleEvent[] = [];
  let queue: MemoryTrackingQueue;
  let budget: PollBudget;
  const journals = () => stack.deps.idempotency?.journals as PurchaseJournals;
  const deps = (overrides: Partial<ReconcilerDependencies> = {}): ReconcilerDependencies => ({
    partnerCenter: stack.deps.partnerCenter,
    journals: journals(),
    idempotency: stack.deps.idempotency as NonNullable<Stack['deps']['idempotency']>,
    publish: async (events) => {
      published.push(...events);
    },
    budget,
    tracking: provisioningTracking(queue, { delays: [60] }),
    reconcileAfterMs: 0,
    batch: 25,
    skewMs: 60_000,
    ...overrides,
  });
  const run = (overrides: Partial<ReconcilerDependencies> = {}) =>
    reconcileUnknownPurchases(deps(overrides), { correlationId: crypto.randomUUID(), deadline: Date.now() + 20_000 });
  const ordersTagged = (tag: string) =>
    stack.simulator.ledger.orders.filter((o) => o.lineItems.some((l) => l.friendlyName === tag));
  const posts = () => stack.simulator.requests.filter((r) => r.method !== 'GET').length;
  const eventFor = (key: string) => published.find((e) => e.detail.idempotencyKey === key);

  /**
   * A purchase left outcome-unknown: the attempt reaches Partner Center (placing the order with `placed`, or not) and
   * its answer is lost, and the orders list cannot be read to find out, so the caller is told 502 outcome-unknown.
   */
  const lose = async (key: string, placed: boolean) => {
    stack.simulator.injectFault({
      kind: placed ? 'commit-then-drop' : 'drop',
      times: 1,
      match: { method: 'POST', path: /\/orders$/ },
    });
    stack.simulator.injectFault({ kind: 'server-error', match: { method: 'GET', path: /\/orders$/ } });
    const answer = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
    stack.simulator.clearFaults();
    expect(answer.status).toBe(502);
    expect(answer.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
  };

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { dedupe: 'off' },
      env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '500' },
      client: { baseDelayMs: 5 },
    });
    budget = dynamoDBPollBudget({ tableName: 'idempotency', client: stack.dynamodb?.client as never, perMinute: 500 });
  });
  afterAll(() => stack.stop());
  beforeEach(async () => {
    published = [];
    queue = new MemoryTrackingQueue();
    stack.simulator.clearFaults();
    // Every earlier test's leftovers are resolved first, so each test sees only its own purchases.
    await run();
    published = [];
  });

  it('finds a placed purchase, claims it for its key, records it and publishes PurchaseReconciled (never buying)', async () => {
    const key = unique('found');
    await lose(key, true);
    expect(ordersTagged(key)).toHaveLength(1);
    const before = posts();
    const report = await run();
    expect(report).toMatchObject({ looked: 1, reconciled: 1, needsAttention: 0 });
    expect(posts()).toBe(before);
    const [order] = ordersTagged(key);
    expect(published).toEqual([
      {
        detailType: 'PurchaseReconciled',
        detail: expect.objectContaining({
          operation: 'createOrder',
          customerId: CUSTOMER,
          idempotencyKey: key,
          caller: 'http:anonymous',
          orderIds: [order?.id],
          result: expect.objectContaining({ id: order?.id }),
          requestIds: [expect.any(String)],
        }),
      },
    ]);
    // Followed from here on, like any purchase.
    expect(queue.sent.map((m) => m.message.orderId)).toEqual([order?.id]);
    // What the caller who lost the answer now sees, and what a retry with the key answers: the same order.
    const shown = await stack.request('GET', `/purchases/${encodeURIComponent(key)}`);
    expect(shown.json.purchases[0]).toMatchObject({
      state: 'succeeded',
      reconciled: true,
      orderIds: [order?.id],
      reconciliation: { outcome: 'found' },
    });
    const retry = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
    expect(retry.status).toBe(201);
    expect(retry.json.id).toBe(order?.id);
    expect(ordersTagged(key)).toHaveLength(1);
    // Resolved: the next run does not look at it again.
    expect((await run()).looked).toBe(0);
  });

  it('finds nothing where nothing was placed: PurchaseNeedsAttention (not-found), alarmed, and still no purchase', async () => {
    const key = unique('not-found');
    await lose(key, false);
    const before = posts();
    const report = await run();
    expect(report).toMatchObject({ reconciled: 0, needsAttention: 1 });
    expect(posts()).toBe(before);
    expect(ordersTagged(key)).toHaveLength(0);
    expect(eventFor(key)).toEqual({
      detailType: 'PurchaseNeedsAttention',
      detail: expect.objectContaining({ reason: 'not-found', operation: 'createOrder', idempotencyKey: key }),
    });
    const shown = await stack.request('GET', `/purchases/${encodeURIComponent(key)}`);
    expect(shown.json.purchases[0]).toMatchObject({ state: 'unknown', reconciliation: { outcome: 'not-found' } });
    expect(queue.sent).toEqual([]);
  });

  it('will not guess between two candidate orders: PurchaseNeedsAttention (ambiguous) with both, neither claimed', async () => {
    const key = unique('ambiguous');
    await lose(key, true);
    const [placed] = ordersTagged(key);
    // The same lines bought once more outside this service (the portal, another tool): no key holds either order.
    stack.simulator.ledger.orders.push({
      ...(placed as NonNullable<typeof placed>),
      id: 'Cs_portalTwinOrder000000000000',
    });
    const report = await run();
    expect(report).toMatchObject({ reconciled: 0, needsAttention: 1 });
    expect(eventFor(key)?.detail).toMatchObject({
      reason: 'ambiguous',
      candidates: [placed?.id, 'Cs_portalTwinOrder000000000000'],
    });
    expect(await journals().claimOwner(CUSTOMER, placed?.id ?? '')).toBeUndefined();
    expect(queue.sent).toEqual([]);
  });

  it('cannot match an order too large for its journal to keep its lines: PurchaseNeedsAttention (unreadable)', async () => {
    const key = unique('too-big');
    const big = {
      lineItems: Array.from({ length: 100 }, (_, i) => ({
        offerId: NCE,
        quantity: 1 + i,
        friendlyName: randomBytes(192).toString('base64'),
        provisioningContext: { note: randomBytes(1_500).toString('base64') },
      })),
    };
    stack.simulator.injectFault({ kind: 'commit-then-drop', times: 1, match: { method: 'POST', path: /\/orders$/ } });
    stack.simulator.injectFault({ kind: 'server-error', match: { method: 'GET', path: /\/orders$/ } });
    const lost = await stack.request('POST', ORDERS, big, { 'Idempotency-Key': key });
    stack.simulator.clearFaults();
    expect(lost.status).toBe(502);
    expect(await run()).toMatchObject({ needsAttention: 1 });
    expect(eventFor(key)?.detail).toMatchObject({ reason: 'unreadable', operation: 'createOrder' });
  });

  it('leaves alone what is too recent, what a retry is running, and what ran out of budget', async () => {
    const key = unique('recent');
    await lose(key, true);
    // Younger than RECONCILE_AFTER_MINUTES: a caller's retry may still settle it.
    expect(await run({ reconcileAfterMs: 15 * 60_000 })).toMatchObject({ looked: 0 });
    // Out of polling budget: the next run looks.
    expect(await run({ budget: { take: async () => false } })).toMatchObject({ looked: 1, deferred: 1, reconciled: 0 });
    expect(published).toEqual([]);
    expect((await run()).reconciled).toBe(1);
  });

  it('drops from its index a purchase whose outcome was stored after all, without an event', async () => {
    const key = unique('stored');
    await lose(key, true);
    // The caller retried after Partner Center could be read again: found, answered and stored (the index was told).
    const retry = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
    expect(retry.headers.get('idempotent-reconciled')).toBe('true');
    expect((await run()).looked).toBe(0);
    expect(published).toEqual([]);
  });

  it('runs on a schedule as its own function, reporting the metric that is alarmed', async () => {
    const key = unique('scheduled');
    await lose(key, false);
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const report = await createReconcilerHandler(deps())({}, lambdaContext(60_000));
      expect(report).toMatchObject({ needsAttention: 1 });
    } finally {
      process.stdout.write = write;
    }
    const emf = lines.map((l) => JSON.parse(l)).find((l) => l._aws?.CloudWatchMetrics);
    expect(emf).toMatchObject({ PurchasesNeedingAttention: 1, PurchasesReconciled: 0 });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('partner-orders');
  });
});
