// The reconciler against a Partner Center that does not deduplicate MS-RequestId: purchases left outcome-unknown
// (every checkout of the request lost its answer, and the caller never retried) are resolved by their recorded cart:
// Ordered → its checkout asked again → PurchaseReconciled (tracked); Active → PurchaseNotPlaced (never checked out
// here); gone → PurchaseNeedsAttention. Nothing is ever bought by the reconciler, and the orders list is never read.
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
    ...overrides,
  });
  const run = (overrides: Partial<ReconcilerDependencies> = {}) =>
    reconcileUnknownPurchases(deps(overrides), { correlationId: crypto.randomUUID(), deadline: Date.now() + 20_000 });
  const ordersTagged = (tag: string) =>
    stack.simulator.ledger.orders.filter((o) => o.lineItems.some((l) => l.friendlyName === tag));
  /** What the reconciler may send: reads, and the checkout of an Ordered cart asked again (places nothing). */
  const purchasesSent = () =>
    stack.simulator.requests.filter((r) => r.method !== 'GET' && !/\/checkout$/.test(r.path)).length;
  const listReads = () => stack.simulator.requests.filter((r) => r.method === 'GET' && /\/orders$/.test(r.path)).length;
  const eventFor = (key: string) => published.find((e) => e.detail.idempotencyKey === key);

  /**
   * A purchase left outcome-unknown: every checkout of the request reaches Partner Center (placing the order with
   * `placed`, or never arriving) and its answer is lost, so the caller is told 502 outcome-unknown.
   */
  const lose = async (key: string, placed: boolean, body: unknown = orderOf(key)) => {
    stack.simulator.injectFault({
      kind: placed ? 'commit-then-drop' : 'drop',
      times: 4,
      match: { method: 'POST', path: /\/checkout$/ },
    });
    const answer = await stack.request('POST', ORDERS, body, { 'Idempotency-Key': key });
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

  it('an Ordered cart: its checkout result asked again, recorded, PurchaseReconciled (never buying)', async () => {
    const key = unique('found');
    await lose(key, true);
    expect(ordersTagged(key)).toHaveLength(1);
    const [before, reads] = [purchasesSent(), listReads()];
    const report = await run();
    expect(report).toMatchObject({ looked: 1, reconciled: 1, needsAttention: 0 });
    expect(purchasesSent()).toBe(before);
    expect(listReads()).toBe(reads);
    expect(ordersTagged(key)).toHaveLength(1);
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
          cartId: expect.any(String),
          result: expect.objectContaining({ orders: [expect.objectContaining({ id: order?.id })] }),
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

  it('an Active cart: PurchaseNotPlaced, never checked out here; a retry with the key buys it once', async () => {
    const key = unique('not-placed');
    await lose(key, false);
    const checkouts = () => stack.simulator.requests.filter((r) => /\/checkout$/.test(r.path)).length;
    const [before, checkedOut] = [purchasesSent(), checkouts()];
    const report = await run();
    expect(report).toMatchObject({ reconciled: 0, notPlaced: 1, needsAttention: 0 });
    expect([purchasesSent(), checkouts()]).toEqual([before, checkedOut]);
    expect(ordersTagged(key)).toHaveLength(0);
    expect(eventFor(key)).toEqual({
      detailType: 'PurchaseNotPlaced',
      detail: expect.objectContaining({ operation: 'createOrder', idempotencyKey: key, cartId: expect.any(String) }),
    });
    const shown = await stack.request('GET', `/purchases/${encodeURIComponent(key)}`);
    expect(shown.json.purchases[0]).toMatchObject({ state: 'not-placed', reconciliation: { outcome: 'not-placed' } });
    expect(queue.sent).toEqual([]);
    const retry = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
    expect(retry.status).toBe(201);
    expect(ordersTagged(key)).toHaveLength(1);
  });

  it('a cart that can no longer be read: PurchaseNeedsAttention (unreadable) once, nothing bought', async () => {
    const key = unique('gone');
    await lose(key, true);
    const [journal] = await journals().ofKey('http:anonymous', key);
    expect(stack.simulator.forgetCart(journal?.entry.cart?.id ?? '')).toBe(true);
    expect(await run()).toMatchObject({ needsAttention: 1 });
    expect(eventFor(key)?.detail).toMatchObject({ reason: 'unreadable', operation: 'createOrder' });
    expect(ordersTagged(key)).toHaveLength(1);
    expect((await run()).looked).toBe(0);
  });

  it('a purchase too large for its journal to keep its input is still resolved by its cart', async () => {
    const key = unique('too-big');
    const big = {
      lineItems: Array.from({ length: 100 }, (_, i) => ({
        offerId: NCE,
        quantity: 1 + i,
        friendlyName: `${key}-${i}-${'x'.repeat(180)}`,
        provisioningContext: { note: Buffer.alloc(1_100, i).toString('base64') },
      })),
    };
    await lose(key, true, big);
    expect(await run()).toMatchObject({ reconciled: 1 });
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
    // The caller retried: the same cart checked out again, answered and stored (the index was told).
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
      expect(report).toMatchObject({ notPlaced: 1 });
    } finally {
      process.stdout.write = write;
    }
    const emf = lines.map((l) => JSON.parse(l)).find((l) => l._aws?.CloudWatchMetrics);
    expect(emf).toMatchObject({ PurchasesNeedingAttention: 0, PurchasesReconciled: 0, PurchasesNotPlaced: 1 });
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('partner-orders');
  });
});
