// `npm run bench:undo`: undoing purchases against the simulator at its worst — no MS-RequestId deduplication, a third of
// the subscription PATCHes made and then their answer dropped, some answered after the client gave up — the way a
// caller retries: the same Idempotency-Key until a final answer. For each of N subscriptions: a seat reduction, then
// a cancel. Prints and writes bench/undo-results.json: seats removed twice (must be 0), cancels not made (0), Partner
// Center requests per change, the retries the callers needed, and the RefundWindowClosing hop arithmetic.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { REFUND_WINDOW_MS } from '../functions/shared/subscriptions/windows.js';
import { orderOf } from '../test/support/purchases.js';
import { startStack } from '../test/support/stack.js';

const N = Number(process.env.UNDO_SUBSCRIPTIONS ?? 40);
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const SEATS = 10;
const REMOVE = 3;

const stack = await startStack({
  idempotency: {},
  simulator: { dedupe: 'off', seed: 7 },
  env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '300' },
});
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? 0;

/** Sends with the key until a final answer (2xx or 4xx), as a caller following the problem's advice does. */
async function untilFinal(path: string, body: unknown, key: string) {
  for (let attempt = 1; ; attempt++) {
    const answer = await stack.request('POST', path, body, { 'Idempotency-Key': key });
    if (answer.status < 500 || attempt >= 8) return { answer, attempts: attempt };
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

const ids: string[] = [];
for (let i = 0; i < N; i++) {
  const placed = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(`undo-${i}`, SEATS));
  ids.push(placed.json.lineItems[0].subscriptionId);
}
const PATCH = /\/subscriptions\/[^/]+$/;
stack.simulator.injectFault({ kind: 'commit-then-drop', match: { method: 'PATCH', path: PATCH }, probability: 0.3 });
stack.simulator.injectFault({ kind: 'delay', delayMs: 700, match: { method: 'PATCH', path: PATCH }, probability: 0.1 });
const before = stack.simulator.requests.length;
const latencies: number[] = [];
const attempts: number[] = [];
let reducedTwice = 0;
let notCancelled = 0;
let wrongAnswers = 0;
for (const [i, id] of ids.entries()) {
  const base = `/customers/${CUSTOMER}/subscriptions/${id}`;
  let started = performance.now();
  const reduced = await untilFinal(`${base}/reduce`, { seatsToRemove: REMOVE }, `bench-reduce-${i}`);
  latencies.push(performance.now() - started);
  attempts.push(reduced.attempts);
  started = performance.now();
  const cancelled = await untilFinal(`${base}/cancel`, undefined, `bench-cancel-${i}`);
  latencies.push(performance.now() - started);
  attempts.push(cancelled.attempts);
  await new Promise((resolve) => setTimeout(resolve, 800)); // late attempts land
  stack.simulator.clearFaults();
  const read = await stack.request('GET', base);
  stack.simulator.injectFault({ kind: 'commit-then-drop', match: { method: 'PATCH', path: PATCH }, probability: 0.3 });
  stack.simulator.injectFault({
    kind: 'delay',
    delayMs: 700,
    match: { method: 'PATCH', path: PATCH },
    probability: 0.1,
  });
  if (read.json.subscription.quantity !== SEATS - REMOVE) reducedTwice++;
  if (read.json.subscription.status !== 'deleted') notCancelled++;
  if (reduced.answer.status !== 200 || cancelled.answer.status !== 200) wrongAnswers++;
}
const sent = stack.simulator.requests.slice(before).filter((r) => r.path.includes('/subscriptions/'));
const changes = 2 * N;
const hops = (REFUND_WINDOW_MS - 24 * 3_600_000) / (15 * 60_000);
const results = {
  subscriptions: N,
  faults:
    'dedupe off; 30 % of PATCHes made then answer dropped; 10 % answered after 700 ms (client gives up at 300 ms)',
  seatsRemovedTwice: reducedTwice,
  cancelsNotMade: notCancelled,
  changesNotAnswered200: wrongAnswers,
  partnerCenterRequestsPerChange: Math.round((sent.length / changes) * 100) / 100,
  patchesPerChange: Math.round((sent.filter((r) => r.method === 'PATCH').length / changes) * 100) / 100,
  callerAttemptsPerChange: { mean: attempts.reduce((a, b) => a + b, 0) / attempts.length, max: Math.max(...attempts) },
  latencyMs: { p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)) },
  refundWarning24h: { sqsHopsPerSubscription: hops, partnerCenterReads: 1 },
};
console.log(JSON.stringify(results, null, 2));
writeFileSync(new URL('./undo-results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
await stack.stop();
