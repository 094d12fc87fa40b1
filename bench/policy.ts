// `npm run bench:policy`: what the purchase policy costs, and the two ways of deciding side by side (docs/performance.md,
// "Purchase policy"). Verified Permissions is the loopback stand-in in its own process (bench/verified-permissions.ts)
// asked through the real SDK client: its figures are this code's and the SDK's plus a loopback round trip; in AWS add a
// round trip to the service in the region, which no loopback can stand for.
//   1. Cold: the create-order bundle as deployed (asking Verified Permissions), the same function deciding in its
//      own process with cedar-wasm (bench/policy-in-function.ts), and as it was before (no engine), each in fresh
//      processes, interleaved: bundle size, import time, the first decision (a dry run: the decision and nothing
//      else) and the second.
//   2. Warm: POST orders through the real handler wired from configuration, with 1 and with 100 line items, three
//      ways alternating: no decision at all (a pass-through policy: the baseline), Verified Permissions (as deployed),
//      cedar-wasm in the process. p50 and p99, and what each adds to the baseline's p50.
// Writes bench/policy-results.json. BENCH_QUICK=1 runs fewer invocations; COLD_RUNS sets the fresh processes.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { build, type Plugin } from 'esbuild';
import { createHandler as createOrderHandler } from '../functions/create-order/handler.js';
import { readConfig } from '../functions/shared/config.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import type { HttpEvent, HttpResult } from '../functions/shared/http.js';
import { iamIdentity } from '../functions/shared/identity/http.js';
import { PurchasePolicy } from '../functions/shared/policy/check.js';
import { localPolicyEngine } from '../functions/shared/policy/local.js';
import { bundling, entryOf } from '../infra/bundling.js';
import { httpEvent } from '../test/support/events.js';
import { customerWithLines, orderBody } from './bodies.js';
import { median, percentile, round } from './stats.js';
import { startUpstream } from './upstream.js';
import { startVerifiedPermissions } from './verified-permissions.js';
import { BENCH_CREDENTIALS } from './warm.js';

const QUICK = process.env.BENCH_QUICK === '1';
const INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? (QUICK ? 300 : 2000));
const WARMUP = QUICK ? 50 : 200;
const COLD_RUNS = Number(process.env.COLD_RUNS ?? (QUICK ? 3 : 11));
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';

const progress = (step: string) => process.stderr.write(`[bench:policy] ${step}\n`);
const avp = await startVerifiedPermissions();
const upstream = await startUpstream();

// 1. Cold.
const outdir = mkdtempSync(join(tmpdir(), 'partner-orders-policy-'));
const CEDAR_WASM = new URL('../node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm_bg.wasm', import.meta.url)
  .pathname;
/**
 * The function as it was before the purchase policy: policy/avp.ts (the Verified Permissions client and the bundled
 * entities) replaced at bundling by an engine that holds nothing. It cannot decide, so only its size and import count.
 */
const withoutEngine: Plugin = {
  name: 'without-policy-engine',
  setup(b) {
    b.onResolve({ filter: /policy\/avp\.js$/ }, () => ({ path: 'avp', namespace: 'without-engine' }));
    b.onLoad({ filter: /.*/, namespace: 'without-engine' }, () => ({
      contents: `export const UNCONFIGURED_POLICY = { name: 'none', entities: [], authorize: async () => { throw new Error('none'); } };
        export class VerifiedPermissionsEngine { name = 'none'; entities = []; async authorize() { throw new Error('none'); } }`,
      loader: 'js',
    }));
  },
};

async function bundle(
  name: string,
  entry: string,
  wasm: boolean,
  plugins: Plugin[] = [],
): Promise<{ file: string; bytes: number }> {
  const file = join(outdir, name, 'index.mjs');
  await build({
    plugins,
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: bundling.platform,
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    // cedar-wasm's Node build finds its .wasm through __dirname, which an ES module does not have.
    banner: {
      js: `${bundling.banner}${wasm ? " import { fileURLToPath as __fu } from 'node:url'; import { dirname as __dn } from 'node:path'; const __dirname = __dn(__fu(import.meta.url));" : ''}`,
    },
    mainFields: [...bundling.mainFields],
    loader: { '.cedar': 'text', '.cedarschema': 'text' },
    logLevel: 'error',
  });
  let bytes = statSync(file).size;
  if (wasm) {
    copyFileSync(CEDAR_WASM, join(outdir, name, 'cedar_wasm_bg.wasm'));
    bytes += statSync(CEDAR_WASM).size;
  }
  return { file, bytes };
}

const variants = [
  {
    name: 'no policy engine (before)',
    decides: false,
    ...(await bundle('none', entryOf('create-order'), false, [withoutEngine])),
  },
  { name: 'Verified Permissions (deployed)', decides: true, ...(await bundle('avp', entryOf('create-order'), false)) },
  {
    name: 'cedar-wasm in the function',
    decides: true,
    ...(await bundle('wasm', new URL('./policy-in-function.ts', import.meta.url).pathname, true)),
  },
];

/** One fresh process: import, then two dry runs (each one decision, nothing sent upstream). */
function coldRun(file: string, decides: boolean): { importMs: number; firstMs: number; secondMs: number } {
  const payload = {
    customerId: CUSTOMER,
    dryRun: true,
    lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, termDuration: 'P1Y' }],
  };
  const script = `
    const context = { getRemainingTimeInMillis: () => 25000, functionName: 'bench', awsRequestId: 'r' };
    const t0 = performance.now();
    const { handler } = await import(${JSON.stringify(file)});
    const t1 = performance.now();
    if (!${decides}) { process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstMs: NaN, secondMs: NaN })); process.exit(0); }
    const first = await handler(${JSON.stringify(payload)}, context);
    const t2 = performance.now();
    await handler(${JSON.stringify(payload)}, context);
    const t3 = performance.now();
    if (!first.authorization) throw new Error('no decision: ' + JSON.stringify(first));
    process.stdout.write(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, secondMs: t3 - t2 }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH,
      ...avp.env,
      PARTNER_CENTER_URL: upstream.url,
      PARTNER_CENTER_AUTHORITY_URL: upstream.url,
      PARTNER_CENTER_CREDENTIALS: JSON.stringify(BENCH_CREDENTIALS),
      IDEMPOTENCY_KEY_REQUIRED: 'false',
      PREFLIGHT: 'off',
      LOG_LEVEL: 'SILENT',
    },
  });
  return JSON.parse(out.toString());
}

progress(`cold: ${variants.length} bundles × ${COLD_RUNS} fresh processes`);
const runs = new Map(variants.map((v) => [v.name, [] as ReturnType<typeof coldRun>[]]));
for (let i = 0; i < COLD_RUNS; i++) for (const v of variants) runs.get(v.name)?.push(coldRun(v.file, v.decides));
const cold = variants.map((v) => {
  const samples = runs.get(v.name) ?? [];
  const med = (pick: (r: ReturnType<typeof coldRun>) => number) => round(median(samples.map(pick)), 1);
  return {
    name: v.name,
    bytes: v.bytes,
    importMs: med((r) => r.importMs),
    ...(v.decides ? { firstDecisionMs: med((r) => r.firstMs), secondDecisionMs: med((r) => r.secondMs) } : {}),
  };
});

// 2. Warm.
type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;
const context = (): Context =>
  ({ functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 25_000 }) as Context;
const configured = {
  ...createDependencies(
    readConfig({
      ...avp.env,
      PARTNER_CENTER_URL: upstream.url,
      PARTNER_CENTER_AUTHORITY_URL: upstream.url,
      PARTNER_CENTER_CREDENTIALS: JSON.stringify(BENCH_CREDENTIALS),
      IDEMPOTENCY_KEY_REQUIRED: 'false',
      PREFLIGHT: 'off',
    }),
  ),
  identity: iamIdentity,
};
await configured.tokens.get();
/** No decision at all: the baseline, so that what remains is what the policy adds. Never used outside this bench. */
const PASS_THROUGH = { guard: (command) => command } as Pick<PurchasePolicy, 'guard'> as PurchasePolicy;
const ways: [string, Handler][] = [
  ['no decision (baseline)', createOrderHandler({ ...configured, policy: PASS_THROUGH })],
  ['Verified Permissions (deployed)', createOrderHandler(configured)],
  ['cedar-wasm in the process', createOrderHandler({ ...configured, policy: new PurchasePolicy(localPolicyEngine()) })],
];

async function warm(lines: number) {
  const event = () =>
    httpEvent('POST /customers/{customerId}/orders', {
      pathParameters: { customerId: customerWithLines(lines) },
      body: orderBody(lines),
    });
  const samples = new Map(ways.map(([name]) => [name, [] as number[]]));
  for (let i = 0; i < WARMUP + INVOCATIONS; i++) {
    // Each way in turn, starting with a different one each round.
    for (let k = 0; k < ways.length; k++) {
      const [name, handler] = ways[(i + k) % ways.length] as [string, Handler];
      const started = performance.now();
      const result = await handler(event(), context());
      const elapsed = performance.now() - started;
      if (result.statusCode !== 201) throw new Error(`${name}: answered ${result.statusCode}: ${result.body}`);
      if (i >= WARMUP) samples.get(name)?.push(elapsed * 1000);
    }
  }
  const baseline = median(samples.get(ways[0]?.[0] ?? '') ?? []);
  return ways.map(([name]) => {
    const s = samples.get(name) ?? [];
    return {
      lines,
      name,
      p50Us: Math.round(median(s)),
      p99Us: Math.round(percentile(s, 99)),
      addedP50Us: Math.round(median(s) - baseline),
    };
  });
}

progress(`warm: ${ways.length} ways × ${INVOCATIONS} invocations, 1 and 100 line items`);
const warmRows = [...(await warm(1)), ...(await warm(100))];
await upstream.stop();
await avp.stop();

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
console.log(`Purchase policy — ${new Date().toISOString()} — Node ${process.versions.node}\n`);
console.log(`1. Cold: create-order, median of ${COLD_RUNS} fresh processes (first decision = first dry run)`);
console.log('decides with                      bundle      import   1st decision  2nd decision');
for (const c of cold) {
  console.log(
    `${c.name.padEnd(32)} ${kb(c.bytes).padStart(10)}  ${`${c.importMs} ms`.padStart(9)}  ${(c.firstDecisionMs === undefined ? '–' : `${c.firstDecisionMs} ms`).padStart(12)}  ${(c.secondDecisionMs === undefined ? '–' : `${c.secondDecisionMs} ms`).padStart(12)}`,
  );
}
console.log(`\n2. Warm: POST orders, ${INVOCATIONS} invocations each, the three ways alternating`);
console.log('lines  decides with                       p50        p99     added p50');
for (const w of warmRows) {
  console.log(
    `${String(w.lines).padStart(5)}  ${w.name.padEnd(32)} ${`${w.p50Us} µs`.padStart(9)}  ${`${w.p99Us} µs`.padStart(9)}  ${`${w.addedP50Us} µs`.padStart(9)}`,
  );
}
writeFileSync(
  new URL('./policy-results.json', import.meta.url),
  `${JSON.stringify({ at: new Date().toISOString(), node: process.versions.node, cold, warm: warmRows }, null, 2)}\n`,
);
