// Provisioning tracking end to end, on one clock the test moves: a purchase (HTTP, event, direct invoke) puts its
// orders on the delay queue; the track-provisioning function polls each order as its messages come due, until
// OrderProvisioned or OrderProvisioningStalled; the polls back off (1, 2, 5, 10, 15 minutes…), stop at the window's
// end, and never exceed the shared polling budget.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { dynamoDBPollBudget, POLL_REQUESTS, pollingCost } from '../../functions/shared/lifecycle/budget.js';
import { DEFAULT_POLL_DELAYS_SECONDS } from '../../functions/shared/lifecycle/config.js';
import type { LifecycleEvent } from '../../functions/shared/lifecycle/events.js';
import type { TrackerDependencies } from '../../functions/shared/lifecycle/tracking.js';
import { createHandler as createTrackerHandler } from '../../functions/track-provisioning/handler.js';
import { STALLED_MARKER } from '../../local/simulator/index.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { eventBridgeEvent, recordingEventsHandler, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const ORDERS = `/customers/${CUSTOMER}/orders`;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const PROVISIONING_MS = 12 * MINUTE;
const logs = captureLogs();

let counter = 0;
const unique = (name: string) => `${name}-${Date.now()}-${counter++}`;
const orderOf = (tag: string, offers = [NCE]) => ({
  lineItems: offers.map((offerId, i) => ({ offerId, quantity: 4 + i, termDuration: 'P1Y', friendlyName: tag })),
  billingCycle: 'monthly',
});

describe('provisioning tracking', () => {
  let stack: Stack;
  let clock = Date.now();
  let published: LifecycleEvent[] = [];
  const tracker = (overrides: Partial<TrackerDependencies> = {}) =>
    createTrackerHandler({
      partnerCenter: stack.deps.partnerCenter,
      queue: stack.tracking as NonNullable<Stack['tracking']>,
      publish: async (events) => {
        published.push(...events);
      },
      budget: dynamoDBPollBudget({
        tableName: 'idempotency',
        client: stack.dynamodb?.client as never,
        perMinute: 100,
        now: () => clock,
      }),
      windowMs: 24 * HOUR,
      delays: DEFAULT_POLL_DELAYS_SECONDS,
      now: () => clock,
      random: () => 0,
      ...overrides,
    });
  /** Moves the clock to the next due message and delivers every message due then. */
  const next = async (handler = tracker()) => {
    const queue = stack.tracking as NonNullable<Stack['tracking']>;
    const due = Math.min(...queue.waiting.map((m) => m.visibleAt));
    if (!Number.isFinite(due)) return undefined;
    clock = Math.max(clock, due);
    return handler(sqsEvent(queue.due(clock)), lambdaContext(60_000));
  };
  const messagesFor = (orderId: string) => (stack.tracking?.sent ?? []).filter((m) => m.message.orderId === orderId);
  const readsOf = (orderId: string) =>
    stack.simulator.requests.filter((r) => r.method === 'GET' && r.path.includes(orderId)).length;

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      tracking: { now: () => clock },
      simulator: { now: () => clock, provisioningDelayMs: PROVISIONING_MS, tokenLifetimeSeconds: 60 * 86_400 },
      client: { baseDelayMs: 5 },
    });
  });
  afterAll(() => stack.stop());
  beforeEach(() => {
    published = [];
    stack.simulator.clearFaults();
    stack.tracking?.due(Number.POSITIVE_INFINITY);
  });

  it('follows an order to OrderProvisioned: polls after 1, 2, 5 and 10 minutes, two reads each', async () => {
    const tag = unique('provisioned');
    const placed = await stack.request('POST', ORDERS, orderOf(tag, [NCE, NCE.replace('0001', '0004')]), {
      'Idempotency-Key': tag,
    });
    expect(placed.status).toBe(201);
    const started = clock;
    expect(messagesFor(placed.json.id).map((m) => m.delaySeconds)).toEqual([60]);
    expect(messagesFor(placed.json.id)[0]?.message).toMatchObject({
      customerId: CUSTOMER,
      orderId: placed.json.id,
      poll: 0,
      operation: 'createOrder',
      idempotencyKey: tag,
    });
    // Pending at 1, 3 and 8 minutes; provisioned (12 minutes) by the poll at 18.
    for (let poll = 0; poll < 3; poll++) {
      expect((await next())?.batchItemFailures).toEqual([]);
      expect(published).toEqual([]);
    }
    expect(messagesFor(placed.json.id).map((m) => m.delaySeconds)).toEqual([60, 120, 300, 600]);
    expect(readsOf(placed.json.id)).toBe(3 * POLL_REQUESTS);
    await next();
    expect(clock - started).toBe(18 * MINUTE);
    expect(published).toEqual([
      {
        detailType: 'OrderProvisioned',
        detail: expect.objectContaining({
          customerId: CUSTOMER,
          orderId: placed.json.id,
          operation: 'createOrder',
          idempotencyKey: tag,
          state: 'provisioned',
          polls: 4,
          trackedSeconds: 18 * 60,
          lineItems: placed.json.lineItems.map((line: { subscriptionId: string; quantity: number }, i: number) => ({
            lineItemNumber: i,
            offerId: i === 0 ? NCE : NCE.replace('0001', '0004'),
            subscriptionId: line.subscriptionId,
            quantity: line.quantity,
            friendlyName: tag,
          })),
          subscriptions: placed.json.lineItems.map((line: { subscriptionId: string; quantity: number }) =>
            expect.objectContaining({ id: line.subscriptionId, quantity: line.quantity, status: 'active' }),
          ),
        }),
      },
    ]);
    // The last poll also read the order's subscriptions (GET …/subscriptions?order_id=…), and nothing is left to poll.
    expect(stack.simulator.requests.at(-1)?.path).toBe(
      `/v1/customers/${CUSTOMER}/subscriptions?order_id=${placed.json.id}`,
    );
    expect(stack.tracking?.waiting).toEqual([]);
  });

  it('reports OrderProvisioningStalled with what is unfulfilled when the window ends: bounded polls', async () => {
    const windowMs = 3 * HOUR;
    const tag = unique('stalled');
    const placed = await stack.request('POST', ORDERS, orderOf(tag, [NCE, `CFQ7TTC0LH18:0002:${STALLED_MARKER}`]));
    const started = clock;
    const handler = tracker({ windowMs });
    let deliveries = 0;
    while ((await next(handler)) !== undefined) deliveries++;
    // The schedule's polls, the last one at the window's end: 1, 3, 8, 18, 33, then every 15 minutes to 3 hours.
    const expected = pollingCost(DEFAULT_POLL_DELAYS_SECONDS, windowMs);
    expect(deliveries).toBe(expected.polls);
    expect(deliveries).toBe(15);
    expect(clock - started).toBe(windowMs);
    expect(readsOf(placed.json.id)).toBe(expected.polls * POLL_REQUESTS);
    expect(messagesFor(placed.json.id).every((m) => m.delaySeconds <= 900)).toBe(true);
    expect(published).toEqual([
      {
        detailType: 'OrderProvisioningStalled',
        detail: expect.objectContaining({
          orderId: placed.json.id,
          reason: 'window-ended',
          state: 'provisioning',
          orderStatus: 'completed',
          polls: 15,
          trackingWindowHours: 3,
          unfulfilled: [
            expect.objectContaining({
              lineItemNumber: 1,
              offerId: `CFQ7TTC0LH18:0002:${STALLED_MARKER}`,
              subscriptionId: placed.json.lineItems[1].subscriptionId,
              quantity: 5,
              provisioningStatus: 'Unfulfilled',
              quantityProvisioningInformation: [{ quantity: 5, status: 'Unfulfilled' }],
            }),
          ],
        }),
      },
    ]);
  });

  it('stops at a cancelled order (OrderProvisioningStalled, reason cancelled)', async () => {
    const placed = await stack.request('POST', ORDERS, orderOf(unique('cancelled')));
    await next();
    stack.simulator.setOrderStatus(placed.json.id, 'cancelled');
    await next();
    expect(published.map((e) => [e.detailType, e.detail.reason, e.detail.state])).toEqual([
      ['OrderProvisioningStalled', 'cancelled', 'cancelled'],
    ]);
    expect(stack.tracking?.waiting).toEqual([]);
  });

  it('goes on polling when Partner Center fails a poll (faults apply), and when the order is not visible yet', async () => {
    const placed = await stack.request('POST', ORDERS, orderOf(unique('faults')));
    stack.simulator.injectFault({ kind: 'unavailable', match: { method: 'GET', path: placed.json.id } });
    expect((await next(tracker()))?.batchItemFailures).toEqual([]);
    expect(published).toEqual([]);
    expect(messagesFor(placed.json.id).map((m) => m.message.poll)).toEqual([0, 1]);
    expect(
      stack.simulator.requests.filter((r) => r.fault === 'unavailable' && r.path.includes(placed.json.id)).length,
    ).toBeGreaterThan(0);
    stack.simulator.clearFaults();
    clock += PROVISIONING_MS;
    await next();
    expect(published.map((e) => e.detailType)).toEqual(['OrderProvisioned']);
  });

  it('never polls past the budget: polls that do not fit this minute wait for a later one', async () => {
    const placed = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => stack.request('POST', ORDERS, orderOf(unique(`budget-${i}`)))),
    );
    const ids = placed.map((p) => p.json.id as string);
    // A budget of 5 requests a minute: two polls (2 reads each) fit, the other three are deferred.
    const handler = tracker({
      budget: dynamoDBPollBudget({
        tableName: 'idempotency',
        client: stack.dynamodb?.client as never,
        perMinute: 5,
        now: () => clock,
      }),
    });
    const before = stack.simulator.requests.length;
    await next(handler);
    const reads = stack.simulator.requests.slice(before).filter((r) => r.method === 'GET');
    expect(reads).toHaveLength(4);
    const deferred = ids.flatMap((id) => messagesFor(id).slice(1)).filter((m) => m.message.poll === 0);
    expect(deferred).toHaveLength(3);
    for (const message of deferred) expect(message.delaySeconds).toBeGreaterThanOrEqual(60);
    // Every minute, at most the budget; in the end every order is polled.
    for (let round = 0; round < 4; round++) {
      const minute = Math.floor(clock / MINUTE);
      const start = stack.simulator.requests.length;
      await next(handler);
      const inMinute = stack.simulator.requests.slice(start).filter((r) => Math.floor(r.at / MINUTE) === minute);
      expect(inMinute.length).toBeLessThanOrEqual(5);
    }
    for (const id of ids) expect(messagesFor(id).some((m) => m.message.poll === 1)).toBe(true);
  });

  it('starts from every entry point: an event (CartCheckedOut orders) and a direct invocation', async () => {
    const tag = unique('event');
    const { handler, published: outcomes } = recordingEventsHandler(stack.deps);
    const key = unique('event-key');
    const command = eventBridgeEvent('CreateCart', {
      customerId: CUSTOMER,
      lineItems: [{ catalogItemId: NCE, quantity: 2, billingCycle: 'monthly', friendlyName: tag }],
      checkout: true,
      idempotencyKey: key,
    });
    expect((await handler(sqsEvent([sqsRecord(command)]), lambdaContext(60_000))).batchItemFailures).toEqual([]);
    const result = outcomes[0]?.detail.result as { checkout: { orders: { id: string }[] } } | undefined;
    const orderId = result?.checkout.orders[0]?.id;
    expect(messagesFor(orderId ?? '')).toHaveLength(1);
    expect(messagesFor(orderId ?? '')[0]?.message).toMatchObject({
      operation: 'createCart',
      idempotencyKey: key,
    });

    const invoked = (await createOrderHandler(stack.deps)(
      { customerId: CUSTOMER, ...orderOf(unique('invoke')), idempotencyKey: unique('invoke') },
      lambdaContext(),
    )) as { id: string };
    expect(messagesFor(invoked.id)).toHaveLength(1);
  });

  it('is not started by a replay, a dry run or a refusal', async () => {
    const key = unique('replay');
    const first = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
    const again = await stack.request('POST', ORDERS, orderOf(key), { 'Idempotency-Key': key });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(messagesFor(first.json.id)).toHaveLength(1);
    const sent = stack.tracking?.sent.length;
    await stack.request('POST', `${ORDERS}?dryRun=true`, orderOf(key));
    await stack.request('POST', ORDERS, { lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:INVALID', quantity: 1 }] });
    expect(stack.tracking?.sent.length).toBe(sent);
  });

  it('keeps the purchase placed when the delay queue cannot take the message (logged, alarmed)', async () => {
    const queue = stack.tracking as NonNullable<Stack['tracking']>;
    const send = queue.send.bind(queue);
    queue.send = async () => {
      throw new Error('SQS unavailable');
    };
    try {
      const placed = await stack.request('POST', ORDERS, orderOf(unique('no-queue')));
      expect(placed.status).toBe(201);
      // The line the TrackingNotStarted metric filter counts ({ $.trackingProblem = "not-started" }).
      const line = logs
        .lines()
        .map((l) => JSON.parse(l))
        .find((l) => l.trackingProblem === 'not-started' && l.orderId === placed.json.id);
      expect(line).toMatchObject({ level: 'ERROR', message: 'provisioning tracking not started' });
    } finally {
      queue.send = send;
    }
  });

  it('fails the record (SQS delivers it again, then the DLQ) when the next poll cannot be queued', async () => {
    const placed = await stack.request('POST', ORDERS, orderOf(unique('requeue')));
    const failing = tracker({
      queue: {
        send: async () => {
          throw new Error('SQS unavailable');
        },
      },
    });
    // The batch's only record failed: the whole batch goes back to the queue.
    await expect(next(failing)).rejects.toThrow(/All records failed/);
    expect(messagesFor(placed.json.id)).toHaveLength(1);
    // A message that is not a tracking message is dropped, not retried forever.
    const junk = await tracker()(sqsEvent([sqsRecord({ hello: 'world' })]), lambdaContext(60_000));
    expect(junk.batchItemFailures).toEqual([]);
  });
});
