// `npm run bench`: the performance figures side by side in one run, each as a ratio to a baseline measured in the same
// run (absolute times drift on a shared machine). Prints a table and writes bench/results.json (figures, machine,
// git revision). What each part measures is described in its own file and in docs/performance.md:
//   1. warm overhead       bench/warm.ts         5. cold start   bench/cold.ts
//   2. credential reuse    bench/credentials.ts  6. scaling      bench/warm.ts (measureScaling)
//   3. event batch         bench/batch.ts
//   4. local throughput    bench/throughput.ts   7. warm breakdown  bench/breakdown.ts
// Every loop is bounded in count (and autocannon in time); everything listens on 127.0.0.1 only; children are
// stopped at the end. BENCH_QUICK=1 runs fewer invocations (a smoke run; figures are then rougher).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, totalmem, type } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dynamoDBIdempotency } from '../functions/shared/idempotency.js';
import { GOAL as BATCH_GOAL, type BatchResult, dynaliteProcess, measureBatch } from './batch.js';
import { type BreakdownRow, measureBreakdown, OUR_CPU_GOAL_US, printBreakdown } from './breakdown.js';
import { type ColdResult, measureCold } from './cold.js';
import { type CredentialReuseResult, measureCredentialReuse } from './credentials.js';
import { describeThroughput, measureThroughput, GOAL as THROUGHPUT_GOAL, type ThroughputResult } from './throughput.js';
import {
  keyedOrder,
  measureScaling,
  type ScalingResult,
  scenarios,
  startWarmBench,
  GOAL as WARM_GOAL,
  type WarmRow,
} from './warm.js';

const QUICK = process.env.BENCH_QUICK === '1';
const INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? (QUICK ? 300 : 2000));
const KEYED_INVOCATIONS = QUICK ? 50 : 300;
const COLD_RUNS = Number(process.env.COLD_RUNS ?? (QUICK ? 3 : 11));
const COLD_GOAL = { size: 1.1, cold: 1.15 };
/**
 * Historical reference figures, not results of this run: what issue 22 quotes for `d6ed2fb` (`npm run bench` there,
 * on another day's machine), printed beside this run's to read them against. Only ratios and added times compare.
 */
export const AT_D6ED2FB = {
  /** Warm overhead, added p50 (ours − bare fetch) and × p50. POST orders: 1641 µs vs 354 µs bare. */
  addedP50: { 'POST orders': '+1287 µs (4.64×)', 'POST checkout': '+~1800 µs (9.07×)' } as Record<string, string>,
  /** Local throughput, npm start's server ÷ a bare proxy (it was 0.69–0.74× before). */
  throughput: 0.34,
  /** The warm breakdown of a keyed POST orders (docs/performance.md, measured on d6ed2fb's successor i22-busy). */
  keyedOrder: '9 DynamoDB calls (1 GetItem, 1 PutItem, 7 UpdateItem) + 1 Verified Permissions + 2 Partner Center',
};

const started = performance.now();
const git = (...args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: new URL('../', import.meta.url).pathname, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};
const revision = git('rev-parse', 'HEAD') ?? 'unknown';
const dirty = (git('status', '--porcelain') ?? '') !== '';
const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
const machine = {
  os: `${type()} ${release()} ${arch()}`,
  cpu,
  cores: cpus().length,
  memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
  node: process.versions.node,
};

const progress = (step: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)} s] ${step}\n`);

// 1 and 6: warm overhead and scaling share one instant upstream and one set of handlers.
progress(`warm overhead: ${scenarios().length} routes × ${INVOCATIONS} invocations`);
const dynalite = await dynaliteProcess();
const warmBench = await startWarmBench({
  idempotency: dynamoDBIdempotency({ tableName: 'idempotency', expiresAfterSeconds: 86_400, client: dynalite.client }),
});
let warm: WarmRow[];
let keyed: WarmRow;
let scaling: ScalingResult;
let credentials: CredentialReuseResult;
try {
  warm = [];
  for (const scenario of scenarios()) warm.push(await warmBench.run(scenario, INVOCATIONS));
  progress('keyed requests (informational)');
  keyed = await warmBench.run(keyedOrder('dynalite, own process'), KEYED_INVOCATIONS, 50);
  progress('scaling: 1, 10, 50, 100 line items');
  scaling = await measureScaling(warmBench, INVOCATIONS);
  progress('credential reuse');
  credentials = await measureCredentialReuse({ upstream: warmBench.upstream });
} finally {
  await warmBench.stop();
  await dynalite.stop();
}
progress('event batch');
const batch: BatchResult = await measureBatch({ rounds: QUICK ? 3 : 9 });
progress('local API throughput (autocannon)');
const throughput: ThroughputResult = await measureThroughput({ seconds: QUICK ? 1 : 3, rounds: QUICK ? 2 : 4 });
progress(`cold start: ${COLD_RUNS} fresh processes per bundle`);
const cold = await measureCold(COLD_RUNS);
await cold.stop();
const coldRows = cold.functions.map((f: ColdResult) => ({
  name: f.name,
  bytes: f.bytes,
  importMs: f.importMs,
  firstMs: f.firstMs,
  coldMs: f.coldMs,
  sizeRatio: f.sizeRatio,
  coldRatio: f.coldRatio,
  met: f.sizeRatio <= COLD_GOAL.size && f.coldRatio <= COLD_GOAL.cold,
}));
progress('warm breakdown: remote calls and CPU per purchase');
const breakdown: BreakdownRow[] = await measureBreakdown(QUICK ? 50 : 300, QUICK ? 10 : 30);

// ---- the table ----
const lines: string[] = [];
const out = (line = '') => lines.push(line);
const us = (v: number) => `${v.toFixed(0)} µs`;
const x = (v: number) => `${v.toFixed(2)}×`;
const ok = (met: boolean) => (met ? 'met' : 'MISSED');
const table = (header: string[], rows: string[][], align: ('l' | 'r')[]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  out(fmt(header));
  out(fmt(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) out(fmt(r));
};

out(
  `partner-orders benchmark — ${new Date().toISOString()} — ${cpu} × ${machine.cores}, Node ${machine.node}, ` +
    `${revision.slice(0, 12)}${dirty ? ' (uncommitted changes)' : ''}`,
);
out();
out(
  `1. Warm overhead — real handler (API Gateway v2 event, warm, token cached) vs bare fetch, same upstream, ` +
    `${INVOCATIONS} invocations each, interleaved. Goal p50 ≤ ${WARM_GOAL.p50}×, p99 ≤ ${WARM_GOAL.p99}×`,
);
table(
  ['route', 'bare p50', 'ours p50', '× p50', 'bare p99', 'ours p99', '× p99', 'added p50', 'd6ed2fb (ref.)', 'goal'],
  [...warm, keyed].map((r) => [
    r.name,
    us(r.baseline.p50Us),
    us(r.handler.p50Us),
    x(r.p50Ratio),
    us(r.baseline.p99Us),
    us(r.handler.p99Us),
    x(r.p99Ratio),
    us(r.overheadP50Us),
    AT_D6ED2FB.addedP50[r.name] ?? '',
    r === keyed ? `(info, ${r.invocations} calls)` : ok(r.met),
  ]),
  ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
);
out(
  '   The keyed row adds two DynamoDB calls per request (Powertools: PutItem in progress, UpdateItem completed) to a ' +
    'local dynalite; it is not a goal row.',
);
out();
out(
  '2. Credential reuse — GetSecretValue (real SDK → loopback Secrets Manager) and token requests, per phase. ' +
    'Goal: 1 each per container per TTL, 0 per request, 1 shared refresh after expiry',
);
table(
  ['phase', 'invocations', 'GetSecretValue', 'token requests', 'expected', 'goal'],
  credentials.phases.map((p) => [
    p.phase,
    String(p.invocations),
    String(p.getSecretValue),
    String(p.tokenRequests),
    `${p.expected.getSecretValue} / ${p.expected.tokenRequests}`,
    ok(p.met),
  ]),
  ['l', 'r', 'r', 'r', 'r', 'l'],
);
out(
  `   per warm request: ${credentials.perRequest.getSecretValue} GetSecretValue, ${credentials.perRequest.tokenRequests} token requests`,
);
out();
out(
  `3. Event batch — order-events, 10 records vs 1, upstream latency ${batch.upstreamLatencyMs} ms, at most ` +
    `${batch.concurrency} records at once, median of ${batch.rows[0]?.rounds ?? 0}. Goal ≤ ${BATCH_GOAL.ratio}×`,
);
table(
  ['idempotency store', '1 record', '10 records', '×', 'goal'],
  batch.rows.map((r) => [r.store, `${r.oneMs.toFixed(1)} ms`, `${r.tenMs.toFixed(1)} ms`, x(r.ratio), ok(r.met)]),
  ['l', 'r', 'r', 'r', 'l'],
);
out();
out(
  `4. Local API throughput — autocannon, ${throughput.connections} connections, ${throughput.rounds} × ` +
    `${throughput.secondsPerRun} s per server, taking turns; POST orders; simulator at 0 ms. Goal ≥ ${THROUGHPUT_GOAL.throughput}×`,
);
for (const line of describeThroughput(throughput)) out(line);
out(`   reference, not this run: ${x(AT_D6ED2FB.throughput)} the one-call proxy at d6ed2fb`);
out();
out(
  `5. Cold start — bundles as CDK builds them, load + first call (npm run bench:cold), median of ${COLD_RUNS} fresh ` +
    `processes, vs a SecretsManagerClient-only floor (${(cold.floor.bytes / 1024).toFixed(1)} KB, load + first ` +
    `${cold.floor.coldMs.toFixed(1)} ms). Goal size ≤ ${COLD_GOAL.size}×, load + first ≤ ${COLD_GOAL.cold}× (load only where no first call)`,
);
table(
  ['bundle', 'size', 'size ×', 'load', 'first call', 'cold ×', 'goal'],
  coldRows.map((f) => [
    f.name,
    `${(f.bytes / 1024).toFixed(1)} KB`,
    x(f.sizeRatio),
    `${f.importMs.toFixed(1)} ms`,
    Number.isNaN(f.firstMs) ? '–' : `${f.firstMs.toFixed(1)} ms`,
    x(f.coldRatio),
    ok(f.met),
  ]),
  ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
);
out();
out(
  '6. Scaling — POST orders with 1, 10, 50, 100 line items (the upstream answers with as many); added = ours − bare p50. ' +
    'Goal: linear or better',
);
table(
  ['line items', 'bare p50', 'ours p50', '× p50', 'added p50'],
  scaling.rows.map((r) => [
    String(r.lines),
    us(r.baseline.p50Us),
    us(r.handler.p50Us),
    x(r.p50Ratio),
    us(r.overheadP50Us),
  ]),
  ['r', 'r', 'r', 'r', 'r'],
);
out(
  `   slope ${scaling.slopeUsPerLine.toFixed(1)} µs per line item (least squares); per segment: ` +
    scaling.segments.map((s) => `${s.from}→${s.to}: ${s.usPerLine.toFixed(1)} µs/line`).join(', ') +
    ` — ${scaling.linearOrBetter ? 'linear or better' : 'SUPERLINEAR'} (judged on the last two segments)`,
);
out();
out(
  '7. Warm breakdown — one purchase, keyed, as deployed (idempotency store, Verified Permissions, pre-flight), every ' +
    `service in its own process: remote calls per purchase by kind, OUR CPU per purchase (goal ≤ ${OUR_CPU_GOAL_US} µs p50) ` +
    'beside the whole process CPU (npm run bench:breakdown)',
);
printBreakdown(breakdown, out);
out(`   reference, not this run: a keyed POST orders at d6ed2fb's successor was ${AT_D6ED2FB.keyedOrder}.`);
out();
const goals = {
  warmOverhead: warm.every((r) => r.met),
  credentialReuse: credentials.met,
  eventBatch: batch.rows.map((r) => ({ store: r.store, met: r.met })),
  throughput: throughput.met,
  coldStart: coldRows.map((f) => ({ name: f.name, met: f.met })),
  scalingLinearOrBetter: scaling.linearOrBetter,
  ourCpuPerPurchase: breakdown
    .filter((r) => r.oursP50Us !== undefined)
    .map((r) => ({ purchase: r.name, oursP50Us: r.oursP50Us, met: (r.oursP50Us ?? Infinity) <= OUR_CPU_GOAL_US })),
};
const seconds = (performance.now() - started) / 1000;
out(`done in ${seconds.toFixed(0)} s; figures in bench/results.json`);
console.log(lines.join('\n'));

// `npm run bench:bulk` writes its own figures into the same file (under `bulk`): kept.
const resultsFile = new URL('./results.json', import.meta.url);
const bulk = existsSync(resultsFile)
  ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { bulk?: unknown }).bulk
  : undefined;
writeFileSync(
  resultsFile,
  `${JSON.stringify(
    {
      ...(bulk === undefined ? {} : { bulk }),
      generatedAt: new Date().toISOString(),
      git: { revision, uncommittedChanges: dirty },
      machine,
      settings: { invocations: INVOCATIONS, coldRuns: COLD_RUNS, quick: QUICK, logLevel: process.env.LOG_LEVEL },
      goals: {
        warm: WARM_GOAL,
        batch: BATCH_GOAL,
        throughput: THROUGHPUT_GOAL,
        cold: COLD_GOAL,
        credentials: 'one GetSecretValue and one token request per container per TTL, none per request',
        scaling: 'linear or better',
      },
      met: goals,
      warm,
      keyed,
      credentials,
      batch,
      throughput,
      cold: { runs: COLD_RUNS, floor: cold.floor, functions: coldRows },
      scaling,
      breakdown,
      durationSeconds: Number(seconds.toFixed(1)),
      table: lines,
    },
    null,
    2,
  )}\n`,
);
