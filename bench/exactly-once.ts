// `npm run bench:events`: the figures of the exactly-once work, printed by a script (not a timed test).
// 1. N concurrent HTTP requests with one Idempotency-Key → how many orders reach Partner Center.
// 2. A batch of 10 SQS command records vs one record, through the order-events handler, with the simulator
//    answering after 50 ms: wall time and ratio (the concurrency bound is the handler's default).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createHandler, DEFAULT_EVENT_CONCURRENCY } from '../functions/order-events/handler.js';
import type { EventDependencies } from '../functions/shared/events.js';
import { eventBridgeEvent, localQueueProvenance, sqsRecord } from '../local/event-records.js';
import { type Stack, startStack } from '../test/support/stack.js';

const CONCURRENT = Number(process.env.CONCURRENT ?? 20);
const LATENCY_MS = Number(process.env.SIMULATOR_LATENCY_MS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const lineItems = [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }];

async function concurrentSameKey(stack: Stack) {
  const before = stack.simulator.ledger.orders.length;
  const key = randomUUID();
  const results = await Promise.all(
    Array.from({ length: CONCURRENT }, () =>
      stack.request('POST', `/customers/${CUSTOMER}/orders`, { lineItems }, { 'Idempotency-Key': key }),
    ),
  );
  const statuses: Record<number, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return { orders: stack.simulator.ledger.orders.length - before, statuses };
}

const record = () =>
  sqsRecord(eventBridgeEvent('CreateOrder', { customerId: CUSTOMER, lineItems }, { source: 'bench' }));

const context = () =>
  ({ functionName: 'order-events', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 60_000 }) as never;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function batchVsOne(stack: Stack) {
  const handler = createHandler({
    ...stack.deps,
    publish: async () => undefined,
    proveOrigin: localQueueProvenance,
    delay: async () => undefined,
  } as EventDependencies);
  const time = async (size: number) => {
    const started = performance.now();
    const response = await handler({ Records: Array.from({ length: size }, record) }, context());
    if (response.batchItemFailures.length > 0) throw new Error('a record failed');
    return performance.now() - started;
  };
  await time(10); // warm: token, connections
  const one: number[] = [];
  const ten: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    one.push(await time(1));
    ten.push(await time(10));
  }
  return { one: median(one), ten: median(ten) };
}

const stack = await startStack({ idempotency: {}, simulator: { latencyMs: LATENCY_MS } });
try {
  const sameKey = await concurrentSameKey(stack);
  const batch = await batchVsOne(stack);
  console.log(`exactly-once figures (simulator latency ${LATENCY_MS} ms, Node ${process.versions.node})\n`);
  console.log(`${CONCURRENT} concurrent requests, one Idempotency-Key: ${sameKey.orders} order(s) placed upstream`);
  console.log(
    `  answers: ${Object.entries(sameKey.statuses)
      .map(([s, n]) => `${n} × ${s}`)
      .join(', ')}`,
  );
  console.log(`\norder-events batch (concurrency bound ${DEFAULT_EVENT_CONCURRENCY}, median of ${ROUNDS}):`);
  console.log(`  1 record:   ${batch.one.toFixed(1)} ms`);
  console.log(
    `  10 records: ${batch.ten.toFixed(1)} ms  (${(batch.ten / batch.one).toFixed(2)}× one record; goal ≤ 2×)`,
  );
} finally {
  await stack.stop();
}
