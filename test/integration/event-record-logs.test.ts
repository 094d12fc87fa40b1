// The records of one SQS batch run at once (issue 12, "Per-record log context"): every log line of a record carries
// that record's command and customer, never another record's, and the outcome event's correlationId is the
// MS-CorrelationId Partner Center actually received for that command.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/order-events/handler.js';
import type { EventDependencies, OutcomeEvent } from '../../functions/shared/events.js';
import { logger } from '../../functions/shared/log.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { eventBridgeEvent, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const logs = captureLogs();
const customer = (i: number) => `4a8c3e2d-1b6f-4c7e-9d2a-${String(i).padStart(12, '0')}`;
const orderDetail = (customerId: string) => ({
  customerId,
  lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 2, termDuration: 'P1Y' }],
  idempotencyKey: randomUUID(),
});
const cartDetail = (customerId: string) => ({
  customerId,
  lineItems: [
    { catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 2, billingCycle: 'monthly', termDuration: 'P1Y' },
  ],
  checkout: true,
  idempotencyKey: randomUUID(),
});
type Line = Record<string, unknown>;

describe('order-events: per-record log context and correlation ids', () => {
  let stack: Stack;
  let published: OutcomeEvent[];
  let deps: EventDependencies;

  beforeAll(async () => {
    // Latency makes every record of the batch wait on Partner Center at the same time.
    stack = await startStack({ idempotency: {}, simulator: { latencyMs: 30 } });
    deps = {
      ...stack.deps,
      publish: async (events) => {
        published.push(...events);
      },
      delay: async () => undefined,
    } as EventDependencies;
  });
  afterAll(() => stack.stop());
  beforeEach(() => {
    published = [];
    logs.clear();
  });

  const lines = (): Line[] =>
    logs
      .lines()
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);

  it('logs every line of a record under its own command and customer while ten records run at once', async () => {
    const records = Array.from({ length: 10 }, (_, i) =>
      sqsRecord(
        i % 2 === 0
          ? eventBridgeEvent('CreateOrder', orderDetail(customer(i)))
          : eventBridgeEvent('CreateCart', cartDetail(customer(i))),
      ),
    );
    const customerOf = new Map(records.map((r, i) => [JSON.parse(r.body).id as string, customer(i)]));
    const messageOf = new Map(records.map((r) => [JSON.parse(r.body).id as string, r.messageId]));

    const response = await createHandler(deps, 10)(sqsEvent(records), lambdaContext(20_000));
    expect(response.batchItemFailures).toEqual([]);
    logger.info('after the batch');

    const all = lines();
    const answered = all.filter((l) => l.message === 'partner center answered');
    const completed = all.filter((l) => l.message === 'command completed');
    // 5 orders and 5 carts, each a cart created and checked out (2 calls each).
    expect(answered).toHaveLength(20);
    expect(completed.map((l) => l.commandId).sort()).toEqual([...customerOf.keys()].sort());
    for (const line of [...answered, ...completed]) {
      const commandId = line.commandId as string;
      expect(customerOf.has(commandId), JSON.stringify(line)).toBe(true);
      expect(line.customerId, JSON.stringify(line)).toBe(customerOf.get(commandId));
      expect(line.messageId).toBe(messageOf.get(commandId));
      // Invocation keys are still there, under the record's.
      expect(line.function_request_id).toBe('aws-request-id');
    }
    // The line's customer is the one the logged Partner Center request was for.
    for (const line of answered) {
      const sent = stack.simulator.requests.find((r) => r.headers['ms-requestid'] === line.upstreamRequestId);
      expect(sent?.path).toContain(`/customers/${line.customerId}/`);
    }
    // A record's keys end with the record.
    expect(all.find((l) => l.message === 'after the batch')).not.toHaveProperty('customerId');
  });

  it('puts in each outcome event the MS-CorrelationId Partner Center received for that command', async () => {
    const records = [
      sqsRecord(eventBridgeEvent('CreateOrder', orderDetail(customer(21)))),
      sqsRecord(eventBridgeEvent('CreateCart', cartDetail(customer(22)))),
      // Refused by Partner Center (400, invalid offer): its OrderRejected names the call that was refused.
      sqsRecord(
        eventBridgeEvent('CreateOrder', {
          customerId: customer(23),
          lineItems: [{ offerId: 'INVALID:0001:X', quantity: 1 }],
          idempotencyKey: randomUUID(),
        }),
      ),
      // An event id that is not a GUID cannot be a correlation id: a fresh one is sent and reported.
      sqsRecord(eventBridgeEvent('CreateOrder', orderDetail(customer(24)), { id: 'evt-not-a-guid' })),
    ];
    const before = stack.simulator.requests.length;
    await createHandler(deps, 10)(sqsEvent(records), lambdaContext(20_000));
    const sent = stack.simulator.requests.slice(before).filter((r) => r.path.startsWith('/v1/'));

    expect(published).toHaveLength(4);
    expect(published.map((e) => e.detailType).sort()).toEqual(
      ['CartCheckedOut', 'OrderCreated', 'OrderCreated', 'OrderRejected'].sort(),
    );
    for (const event of published) {
      const { correlationId, customerId } = event.detail;
      const calls = sent.filter((r) => r.headers['ms-correlationid'] === correlationId);
      expect(calls.length, `${event.detailType} ${customerId}`).toBeGreaterThan(0);
      for (const call of calls) expect(call.path).toContain(`/customers/${customerId}/`);
    }
    // One correlation id per command, and every call belongs to one of them.
    const ids = new Set(published.map((e) => e.detail.correlationId));
    expect(ids.size).toBe(4);
    for (const call of sent) expect(ids.has(call.headers['ms-correlationid'] ?? '')).toBe(true);
    const guidCommand = published.find((e) => e.detail.customerId === customer(21));
    expect(guidCommand?.detail.correlationId).toBe(JSON.parse(records[0]?.body ?? '{}').id);
  });
});
