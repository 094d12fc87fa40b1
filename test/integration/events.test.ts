import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/order-events/handler.js';
import { readConfig } from '../../functions/shared/config.js';
import { createDependencies } from '../../functions/shared/dependencies.js';
import type { EventDependencies, OutcomeEvent } from '../../functions/shared/events.js';
import { dynamoDBIdempotency } from '../../functions/shared/idempotency.js';
import { createIdempotencyTable, type LocalDynamoDB, startDynamoDB } from '../../local/dynamodb.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from '../../local/simulator/index.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { ALLOW_ALL_POLICY } from '../support/policy.js';
import { eventBridgeEvent, localQueueProvenance, sqsEvent, sqsRecord } from '../support/sqs.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const FLAKY_CUSTOMER = '11111111-2222-4333-8444-555555555555';
const THROTTLED_CUSTOMER = '66666666-7777-4888-8999-000000000000';
// Every command carries its producer's key, as producers must (an event without one is refused).
const orderDetail = (customerId = CUSTOMER) => ({
  customerId,
  lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 3 }],
  idempotencyKey: randomUUID(),
});
const cartDetail = {
  customerId: CUSTOMER,
  lineItems: [{ catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 3, billingCycle: 'monthly' }],
  checkout: true,
  idempotencyKey: randomUUID(),
};
captureLogs();

describe('order-events: EventBridge → SQS → Lambda', () => {
  const simulator = new PartnerCenterSimulator();
  let dynamodb: LocalDynamoDB;
  let published: OutcomeEvent[];
  let delayed: { messageId: string; seconds: number }[];
  let deps: EventDependencies;

  beforeAll(async () => {
    const url = await simulator.start();
    dynamodb = await startDynamoDB();
    await createIdempotencyTable(dynamodb.client, 'idempotency');
    const base = {
      ...createDependencies(
        readConfig({
          PARTNER_CENTER_URL: url,
          PARTNER_CENTER_AUTHORITY_URL: url,
          PARTNER_CENTER_CREDENTIALS: JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS),
          UPSTREAM_ATTEMPT_TIMEOUT_MS: '1000',
          // Made-up terms: no catalog pre-flight here (test/integration/catalog.test.ts has it on the event path).
          PREFLIGHT: 'off',
        }),
      ),
      policy: ALLOW_ALL_POLICY,
    };
    deps = {
      ...base,
      idempotency: dynamoDBIdempotency({
        tableName: 'idempotency',
        expiresAfterSeconds: 3600,
        client: dynamodb.client,
      }),
      publish: async (events) => {
        published.push(...events);
      },
      proveOrigin: localQueueProvenance,
      delay: async (record: SQSRecord, seconds: number) => {
        delayed.push({ messageId: record.messageId, seconds });
      },
    };
  });
  afterAll(async () => {
    await simulator.stop();
    await dynamodb.stop();
  });
  beforeEach(() => {
    published = [];
    delayed = [];
    simulator.clearFaults();
  });

  const run = (records: SQSRecord[], handler = createHandler(deps)) =>
    handler(sqsEvent(records), lambdaContext(20_000));

  it('answers a mixed batch with exactly the records to retry, and one outcome event per settled command', async () => {
    simulator.injectFault({ kind: 'unavailable', match: { path: FLAKY_CUSTOMER } });
    simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 90, match: { path: THROTTLED_CUSTOMER } });
    const records = {
      order: sqsRecord(eventBridgeEvent('CreateOrder', orderDetail())),
      cart: sqsRecord(eventBridgeEvent('CreateCart', cartDetail)),
      invalid: sqsRecord(eventBridgeEvent('CreateOrder', { ...orderDetail(), customerId: 'contoso' })),
      unknownType: sqsRecord(eventBridgeEvent('DeleteOrder', orderDetail())),
      notJson: sqsRecord('not json'),
      rejectedUpstream: sqsRecord(
        eventBridgeEvent('CreateOrder', {
          customerId: CUSTOMER,
          lineItems: [{ offerId: 'INVALID:0001:X', quantity: 1 }],
          idempotencyKey: randomUUID(),
        }),
      ),
      flaky: sqsRecord(eventBridgeEvent('CreateOrder', orderDetail(FLAKY_CUSTOMER))),
      throttled: sqsRecord(eventBridgeEvent('CreateOrder', orderDetail(THROTTLED_CUSTOMER))),
    };
    const ordersBefore = simulator.ledger.orders.length;
    const response = await run(Object.values(records));

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [records.flaky.messageId, records.throttled.messageId].sort(),
    );
    // The throttled command comes back after Retry-After; the flaky one never got a cart created (a cart alone buys
    // nothing), so it comes back with the queue's own visibility timeout.
    expect(delayed).toEqual([{ messageId: records.throttled.messageId, seconds: 90 }]);
    const byType = (type: string) => published.filter((e) => e.detailType === type);
    expect(byType('OrderCreated')).toHaveLength(1);
    expect(byType('CartCheckedOut')).toHaveLength(1);
    expect(byType('CartCheckedOut')[0]?.detail.result).toMatchObject({
      cart: { id: expect.any(String) },
      checkout: { orders: [expect.anything()] },
    });
    const rejected = byType('OrderRejected');
    expect(rejected.map((e) => e.detail.commandId).sort()).toEqual(
      [
        JSON.parse(records.invalid.body).id,
        JSON.parse(records.unknownType.body).id,
        records.notJson.messageId,
        JSON.parse(records.rejectedUpstream.body).id,
      ].sort(),
    );
    const invalid = rejected.find((e) => e.detail.commandId === JSON.parse(records.invalid.body).id);
    expect(invalid?.detail.problem?.errors).toEqual([
      { path: '/detail/customerId', message: 'must be a GUID (customer tenant id)' },
    ]);
    expect(
      rejected.find((e) => e.detail.commandId === JSON.parse(records.rejectedUpstream.body).id)?.detail.problem
        ?.upstream?.code,
    ).toBe('800004');
    expect(simulator.ledger.orders.length - ordersBefore).toBe(2); // one order, one checkout
  });

  it('a redelivered message places no second order and publishes its outcome again', async () => {
    const record = sqsRecord(eventBridgeEvent('CreateOrder', orderDetail()));
    await run([record]);
    expect(published.map((e) => e.detailType)).toEqual(['OrderCreated']);
    const before = simulator.ledger.orders.length;
    const again = await run([{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } }]);
    expect(again.batchItemFailures).toEqual([]);
    expect(simulator.ledger.orders.length).toBe(before);
    expect(published.map((e) => e.detailType)).toEqual(['OrderCreated', 'OrderCreated']);
    expect(published[1]?.detail.result).toEqual(published[0]?.detail.result);
  });

  it('refuses a command without detail.idempotencyKey, and sends nothing', async () => {
    const { idempotencyKey: _, ...keyless } = orderDetail();
    const before = simulator.ledger.orders.length;
    const record = sqsRecord(eventBridgeEvent('CreateOrder', keyless));
    expect((await run([record])).batchItemFailures).toEqual([]);
    expect(published.map((e) => e.detailType)).toEqual(['OrderRejected']);
    expect(published[0]?.detail.problem).toMatchObject({
      status: 400,
      type: 'urn:partner-orders:problem:idempotency-key-required',
      errors: [{ path: '/detail/idempotencyKey' }],
    });
    expect(simulator.ledger.orders.length).toBe(before);
  });

  it('with eventIdAsKey, a redelivered command without a key is keyed by its event id: no second order', async () => {
    const { idempotencyKey: _, ...keyless } = orderDetail();
    const record = sqsRecord(eventBridgeEvent('CreateOrder', keyless));
    const handler = createHandler({ ...deps, eventIdAsKey: true });
    await run([record], handler);
    const before = simulator.ledger.orders.length;
    const again = await run(
      [{ ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } }],
      handler,
    );
    expect(again.batchItemFailures).toEqual([]);
    expect(simulator.ledger.orders.length).toBe(before);
    expect(published.map((e) => e.detailType)).toEqual(['OrderCreated', 'OrderCreated']);
    expect(published[1]?.detail.result).toEqual(published[0]?.detail.result);
  });

  it('uses detail.idempotencyKey over the event id, so two events for one purchase buy once', async () => {
    const before = simulator.ledger.orders.length;
    const key = `purchase-${Date.now()}`;
    await run([sqsRecord(eventBridgeEvent('CreateOrder', { ...orderDetail(), idempotencyKey: key }))]);
    await run([sqsRecord(eventBridgeEvent('CreateOrder', { ...orderDetail(), idempotencyKey: key }))]);
    expect(simulator.ledger.orders.length - before).toBe(1);
  });

  it('retries a transient failure until it succeeds, with one order in the end', async () => {
    simulator.injectFault({ kind: 'unavailable', match: { path: FLAKY_CUSTOMER } });
    const record = sqsRecord(eventBridgeEvent('CreateOrder', orderDetail(FLAKY_CUSTOMER)));
    // The only record fails: Powertools reports the whole batch as failed by throwing.
    await expect(run([record])).rejects.toThrow(/All records failed/);
    simulator.clearFaults();
    // Partner Center never answered the create-cart: no cart is on record, and the redelivery creates one.
    const before = simulator.ledger.orders.length;
    expect((await run([record])).batchItemFailures).toEqual([]);
    expect(simulator.ledger.orders.length - before).toBe(1);
  });

  it('processes a batch concurrently, never more than the bound at once', async () => {
    // A record's first call waits at a gate until `target` calls are in flight at once (the bound reached), so the
    // overlap does not depend on how fast each record gets there on a busy machine; a handler that never lets that
    // many run at once opens the gate only when the fallback ends, and `most` then says how many it let through.
    let inFlight = 0;
    let most = 0;
    let gate = { target: 0, open: () => {}, opened: Promise.resolve() };
    const gated = (target: number) => {
      let open = () => {};
      const opened = new Promise<void>((resolve) => {
        open = resolve;
      });
      setTimeout(open, 20_000).unref();
      gate = { target, open, opened };
    };
    const counted: EventDependencies = {
      ...deps,
      partnerCenter: {
        describe: deps.partnerCenter.describe.bind(deps.partnerCenter),
        send: async (request, call) => {
          inFlight++;
          most = Math.max(most, inFlight);
          if (inFlight >= gate.target) gate.open();
          try {
            await gate.opened;
            return await deps.partnerCenter.send(request, call);
          } finally {
            inFlight--;
          }
        },
      },
    };
    gated(3);
    const records = Array.from({ length: 10 }, () => sqsRecord(eventBridgeEvent('CreateOrder', orderDetail())));
    await run(records, createHandler(counted, 3));
    expect(most).toBe(3);
    most = 0;
    gated(10);
    await run(
      Array.from({ length: 10 }, () => sqsRecord(eventBridgeEvent('CreateOrder', orderDetail()))),
      createHandler(counted, 10),
    );
    expect(most).toBe(10);
  });
});
