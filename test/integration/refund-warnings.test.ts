// RefundWindowClosing, on one clock the test moves: an order bought through the service is provisioned, tracking
// puts one warning per subscription on the delay queue, the warning hops every 15 minutes (nothing read) until it is
// due 24 hours before the window closes, then reads the subscription once and warns — unless it was cancelled.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dynamoDBPollBudget } from '../../functions/shared/lifecycle/budget.js';
import { DEFAULT_POLL_DELAYS_SECONDS, refundWarning } from '../../functions/shared/lifecycle/config.js';
import type { LifecycleEvent } from '../../functions/shared/lifecycle/events.js';
import { refundWarnings } from '../../functions/shared/subscriptions/warnings.js';
import { createHandler as createTrackerHandler } from '../../functions/track-provisioning/handler.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { orderOf, unique } from '../support/purchases.js';
import { sqsEvent } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const HOUR = 3_600_000;
captureLogs();

describe('RefundWindowClosing', () => {
  let stack: Stack;
  let clock = Date.now();
  let published: LifecycleEvent[] = [];
  const queue = () => stack.tracking as NonNullable<Stack['tracking']>;
  const tracker = () =>
    createTrackerHandler({
      partnerCenter: stack.deps.partnerCenter,
      queue: queue(),
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
      refundWarnings: refundWarnings(queue(), { leadMs: 24 * HOUR, now: () => clock }),
    });
  /** Delivers everything due, moving the clock to each next message, until the queue is empty or `until`. */
  const drain = async (until = Number.POSITIVE_INFINITY) => {
    let deliveries = 0;
    for (;;) {
      const all = [...queue().waiting, ...queue().warnings];
      const due = Math.min(...all.map((m) => m.visibleAt));
      if (!Number.isFinite(due) || due > until) return deliveries;
      clock = Math.max(clock, due);
      const result = await tracker()(sqsEvent(queue().due(clock)), lambdaContext(60_000));
      expect(result.batchItemFailures).toEqual([]);
      deliveries++;
    }
  };
  const reads = (id: string) =>
    stack.simulator.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/subscriptions/${id}`)).length;

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      tracking: { now: () => clock },
      simulator: { now: () => clock, tokenLifetimeSeconds: 60 * 86_400 },
      subscriptions: { now: () => clock },
    });
  });
  afterAll(() => stack.stop());
  beforeEach(() => {
    published = [];
    queue().due(Number.POSITIVE_INFINITY);
  });

  it('warns 24 hours before the window closes, after hops that read nothing', async () => {
    const bought = clock;
    const placed = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(unique('warn'), 4));
    const id = placed.json.lineItems[0].subscriptionId as string;
    await drain();
    const types = published.map((e) => e.detailType);
    expect(types).toEqual(['OrderProvisioned', 'RefundWindowClosing']);
    const warning = published[1]?.detail ?? {};
    expect(warning).toMatchObject({ customerId: CUSTOMER, subscriptionId: id, removableSeats: 4, quantity: 4 });
    const closes = bought + 7 * 24 * HOUR;
    expect(Date.parse(String(warning.refundableUntil))).toBe(closes);
    // Due at 144 h; delivered at the first hop at or after it (15-minute hops).
    expect(clock).toBeGreaterThanOrEqual(closes - 24 * HOUR);
    expect(clock).toBeLessThan(closes - 24 * HOUR + 15 * 60_000);
    expect(warning.hoursLeft).toBeGreaterThan(23.7);
    // Hops of at most 15 minutes, one read at the end.
    const hops = queue().sentWarnings.filter((m) => m.message.subscriptionId === id);
    expect(hops.every((m) => m.delaySeconds <= 900)).toBe(true);
    expect(hops.length).toBeGreaterThan(500);
    expect(reads(id)).toBe(1);
  });

  it('does not warn about a subscription cancelled meanwhile', async () => {
    const placed = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(unique('warn-cancel'), 2));
    const id = placed.json.lineItems[0].subscriptionId as string;
    await drain(clock + HOUR);
    expect(published.map((e) => e.detailType)).toEqual(['OrderProvisioned']);
    expect((await stack.request('POST', `/customers/${CUSTOMER}/subscriptions/${id}/cancel`)).status).toBe(200);
    await drain();
    expect(published.map((e) => e.detailType)).toEqual(['OrderProvisioned']);
  });

  it('is off unless REFUND_WARNING_HOURS says how long before; 1 to 167 hours', () => {
    expect(refundWarning(undefined)).toEqual({});
    expect(refundWarning('24')).toEqual({ refundWarningMs: 24 * HOUR });
    expect(() => refundWarning('168')).toThrow(/from 1 to 167/);
    expect(() => refundWarning('soon')).toThrow(/from 1 to 167/);
  });
});
