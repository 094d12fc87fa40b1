// Throttling on the event path (issue 12): Partner Center answering 429 to every request for an hour, with and without
// Retry-After, never sends a command to the DLQ. The real order-events handler runs against the simulator (MS-RequestId
// deduplication off: nothing may rely on it) behind a simulated SQS queue with the stack's redrive policy; the hour
// passes on a clock that skips the waits (visibility delays and the client's own waits on Retry-After).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runEventSourceMapping, SimulatedQueue, SkippingClock } from '../../bench/bulk-queue.js';
import { createHandler } from '../../functions/order-events/handler.js';
import {
  DEFAULT_MAX_RECEIVE_COUNT,
  type EventDependencies,
  type OutcomeEvent,
  REDELIVERY_BACKOFF,
  THROTTLE_SURVIVAL_SECONDS,
} from '../../functions/shared/events.js';
import { lambdaContext } from '../support/events.js';
import { eventBridgeEvent } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '7b1e4c2a-3d5f-4a6b-8c7d-9e0f1a2b3c4d';
const HOUR_MS = THROTTLE_SURVIVAL_SECONDS * 1000;
const PURCHASE_RESOURCES = /^\/v1\/customers\/[^/]+\/(orders|carts)\b/i;
const floor = (receive: number) =>
  Math.min(REDELIVERY_BACKOFF.maxSeconds, REDELIVERY_BACKOFF.baseSeconds * 2 ** (receive - 1));

describe('order-events under an hour of sustained throttling', () => {
  const clock = new SkippingClock();
  let stack: Stack;
  let published: OutcomeEvent[];
  let delays: { receive: number; seconds: number }[];

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { dedupe: 'off' },
      // The client's own waits on Retry-After pass on the test's clock.
      client: { sleep: (ms) => clock.sleep(ms) },
    });
  });
  afterAll(() => stack.stop());
  beforeEach(() => {
    published = [];
    delays = [];
    stack.simulator.reset();
  });

  /** An order and a cart checked out, through a queue with `maxReceiveCount`, throttled for the first hour. */
  async function throttledForAnHour(retryAfterSeconds: number | null, maxReceiveCount: number) {
    const queue = new SimulatedQueue({ clock, visibilityTimeoutSeconds: 360, maxReceiveCount });
    const deps = {
      ...stack.deps,
      publish: async (events) => {
        published.push(...events);
      },
      proveOrigin: (record) => queue.proveOrigin(record),
      delay: async (record, seconds) => {
        delays.push({ receive: Number(record.attributes.ApproximateReceiveCount), seconds });
        queue.changeVisibility(record.receiptHandle, seconds);
      },
    } as EventDependencies;
    const handler = createHandler(deps);
    const order = eventBridgeEvent('CreateOrder', {
      customerId: CUSTOMER,
      lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 4, termDuration: 'P1Y' }],
      idempotencyKey: randomUUID(),
    });
    const cart = eventBridgeEvent('CreateCart', {
      customerId: CUSTOMER,
      lineItems: [
        { catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 4, billingCycle: 'monthly', termDuration: 'P1Y' },
      ],
      checkout: true,
      idempotencyKey: randomUUID(),
    });
    queue.send(JSON.stringify(order));
    queue.send(JSON.stringify(cart));
    // The order and cart resources (Partner Center's throttled purchase routes), reads included.
    stack.simulator.injectFault({ kind: 'throttle', retryAfterSeconds, match: { path: PURCHASE_RESOURCES } });
    const started = clock.now();
    const deliveries: number[] = [];
    await runEventSourceMapping(
      queue,
      [
        async (event, context) => {
          if (clock.now() - started >= HOUR_MS) stack.simulator.clearFaults();
          deliveries.push(clock.now() - started);
          return handler(event, context);
        },
      ],
      { batchSize: 10 },
    );
    return { queue, deliveries, throttled: stack.simulator.requests.filter((r) => r.fault === 'throttle').length };
  }

  it.each([
    ['without Retry-After', null],
    ['with Retry-After: 1', 1],
  ])('%s: backs off on the receive count, and both commands are bought once after the hour', async (_, retryAfter) => {
    const { queue, deliveries, throttled } = await throttledForAnHour(retryAfter, DEFAULT_MAX_RECEIVE_COUNT);

    expect(queue.deadLetters).toEqual([]);
    expect(published.map((e) => e.detailType).sort()).toEqual(['CartCheckedOut', 'OrderCreated']);
    // One cart each (an order is placed through a cart), each checked out into one order.
    expect(stack.simulator.ledger.orders).toHaveLength(2);
    expect(stack.simulator.ledger.carts).toHaveLength(2);
    expect(deliveries.at(-1)).toBeGreaterThanOrEqual(HOUR_MS);
    expect(throttled).toBeGreaterThan(0);
    // Every throttled delivery was delayed by at least its backoff step (Retry-After, when given, is shorter).
    expect(delays.length).toBeGreaterThan(0);
    for (const { receive, seconds } of delays) {
      expect(seconds, `receive ${receive}`).toBeGreaterThanOrEqual(floor(receive));
      expect(seconds, `receive ${receive}`).toBeLessThanOrEqual(Math.ceil(floor(receive) * 1.2));
    }
    // Throttled on every receive but the last: the hour took (nearly) every receive of the redrive policy.
    expect(Math.max(...delays.map((d) => d.receive))).toBeGreaterThanOrEqual(DEFAULT_MAX_RECEIVE_COUNT - 3);
  });

  it('a longer Retry-After wins over the backoff', async () => {
    const { queue } = await throttledForAnHour(1200, DEFAULT_MAX_RECEIVE_COUNT);
    expect(queue.deadLetters).toEqual([]);
    expect(delays.length).toBeGreaterThan(0);
    // The backoff never reaches 1200 s (its cap is 900 s, + 20 % jitter): every delay is Partner Center's.
    for (const { seconds } of delays) expect(seconds).toBe(1200);
    expect(published).toHaveLength(2);
  });

  it('with the old redrive policy (5 receives) the same hour dead-letters both commands', async () => {
    const { queue } = await throttledForAnHour(null, 5);
    expect(queue.deadLetters).toHaveLength(2);
    expect(published).toEqual([]);
    expect(stack.simulator.ledger.orders).toHaveLength(0);
  });

  it('a throttled record keeps its place for what the invocation has left of the delay, then goes back for the rest', async () => {
    const queue = new SimulatedQueue({
      clock,
      visibilityTimeoutSeconds: 360,
      maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
    });
    const holds: number[] = [];
    const handler = createHandler({
      ...stack.deps,
      publish: async (events) => {
        published.push(...events);
      },
      proveOrigin: (record) => queue.proveOrigin(record),
      delay: async (record, seconds) => {
        delays.push({ receive: Number(record.attributes.ApproximateReceiveCount), seconds });
      },
      holdThrottled: async (ms) => {
        holds.push(ms);
      },
    } as EventDependencies);
    stack.simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 30, match: { path: PURCHASE_RESOURCES } });
    queue.send(
      JSON.stringify(
        eventBridgeEvent('CreateOrder', {
          customerId: CUSTOMER,
          lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1, termDuration: 'P1Y' }],
          idempotencyKey: randomUUID(),
        }),
      ),
    );
    // 20 s left: 1 s of deadline margin and 2 s to hand the record back leave 17 s to hold of the 30 asked for.
    // The only record failed: Powertools fails the whole batch by throwing.
    // The hold is what was left then, less 3 s: against the time this invocation took, not a guess at it (a busy
    // machine can take seconds to get there).
    const started = Date.now();
    await expect(handler({ Records: queue.receive(1) }, lambdaContext(20_000))).rejects.toThrow(/All records failed/);
    const elapsed = Date.now() - started;
    expect(holds).toHaveLength(1);
    expect(holds[0]).toBeGreaterThanOrEqual(17_000 - elapsed);
    expect(holds[0]).toBeLessThanOrEqual(17_000);
    expect(delays).toEqual([{ receive: 1, seconds: 30 - Math.floor((holds[0] ?? 0) / 1000) }]);
  });
});
