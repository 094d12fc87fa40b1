// `npm run bench:cold`: cold start as Lambda pays it — loading the bundle (init) plus the first invocation — for each
// function bundled exactly as CDK does (infra/bundling.ts), against a floor bundled the same way: a function holding
// only a SecretsManagerClient that reads one secret (bench/floor.ts). Goal: load + first call ≤ 1.15× the floor's.
//
//   npm run bench:cold                       1. per function: bundle size, load, first call, load + first, × the floor,
//                                               and the verdict for each purchase function (on CPU time)
//                                            2. where the bytes and the milliseconds go, per package / module, for
//                                               the purchase functions (esbuild's metafile; V8 CPU profiles of cold
//                                               starts, self time mapped back through the source map)
//   npm run bench:cold -- --options          3. esbuild options one by one on the purchase functions (before/after);
//                                            `--options-only` runs this part alone
//   npm run bench:cold -- --pieces           4. what create-order pays for pieces a deployment may never run (each
//                                            replaced by an empty module in turn), and with the SDK's default
//                                            credential chain put back; `--pieces-only` alone
//   COLD_RUNS=9 PROFILE_RUNS=5               fresh processes per bundle (interleaved), profiled cold starts (0: no 2.)
//   COLD_AGAINST=<checkout>                  its functions too, bundled its way, interleaved: before/after in CPU
//   COLD_PIECES=create-order,subscriptions   the functions section 4 measures (create-order unless given)
//
// Each run is a fresh Node process (as a new Lambda container is): it imports the bundle, then makes the function's
// first call. The purchase functions' first call is a keyed dry run of a purchase (POST orders / POST carts with
// `?dryRun=true`): everything a purchase does before it would send — validation, the idempotency peek (DynamoDB),
// the policy decision (Verified Permissions), the catalog pre-flight and the token it needs (Secrets Manager, Entra
// ID) — so each SDK client's first use is counted. The floor's first call is its one GetSecretValue. The services are
// loopback stand-ins in other processes (DynamoDB: dynalite; Verified Permissions, Entra ID and Partner Center: the
// benchmarks' stand-ins) or in this one, which waits idle meanwhile (Secrets Manager). Functions whose first call
// needs an SQS record, a schedule or EventBridge are measured by load only ("–").
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire, SourceMap } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { deployedFunctions, entryOf, esbuildOptions } from '../infra/bundling.js';
import { httpEvent } from '../test/support/events.js';
import { FakeSecretsManager } from '../test/support/secrets-manager.js';
import { dynaliteProcess } from './batch.js';
import { BENCH_SUBSCRIPTION, orderBody } from './bodies.js';
import { startUpstream } from './upstream.js';
import { startVerifiedPermissions } from './verified-permissions.js';
import { BENCH_CREDENTIALS, CUSTOMER } from './warm.js';

const RUNS = Number(process.env.COLD_RUNS ?? 9);
const PROFILE_RUNS = Number(process.env.PROFILE_RUNS ?? 5);
const GOAL = { size: 1.1, cold: 1.15 };
const SECRET_ID = 'bench/partner-center';
const TABLE = 'idempotency';
const PURCHASE_FUNCTIONS = ['create-order', 'create-cart', 'invoke-purchase', 'subscriptions'];
const run = promisify(execFile);

/** The first call of each function: its event, and whether the answer is the one expected (else the bench is broken). */
const FIRST_CALLS: Record<string, { event: unknown; ok: string }> = {
  floor: { event: { secretId: SECRET_ID }, ok: 'typeof r === "string"' },
  'create-order': {
    event: httpEvent('POST /customers/{customerId}/orders', {
      pathParameters: { customerId: CUSTOMER },
      query: { dryRun: 'true' },
      headers: { 'idempotency-key': 'bench-cold-order' },
      body: orderBody(1),
    }),
    ok: 'r.statusCode === 200',
  },
  'create-cart': {
    event: httpEvent('POST /customers/{customerId}/carts', {
      pathParameters: { customerId: CUSTOMER },
      query: { dryRun: 'true' },
      headers: { 'idempotency-key': 'bench-cold-cart' },
      body: {
        lineItems: [
          {
            catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
            quantity: 5,
            billingCycle: 'monthly',
            termDuration: 'P1Y',
          },
        ],
      },
    }),
    ok: 'r.statusCode === 200',
  },
  'invoke-purchase': {
    // A direct invocation: the same keyed dry run of an order, as a flat command (functions/shared/invoke.ts).
    event: {
      command: 'CreateOrder',
      customerId: CUSTOMER,
      ...orderBody(1),
      dryRun: true,
      idempotencyKey: 'bench-cold-invoke',
    },
    ok: 'r.dryRun === true',
  },
  subscriptions: {
    // A keyed dry run of a subscription change: it reads the subscription (the upstream's sample) and asks the policy.
    event: httpEvent('POST /customers/{customerId}/subscriptions/{subscriptionId}/auto-renew', {
      pathParameters: { customerId: CUSTOMER, subscriptionId: BENCH_SUBSCRIPTION },
      query: { dryRun: 'true' },
      headers: { 'idempotency-key': 'bench-cold-subscription' },
      body: { enabled: false },
    }),
    ok: 'r.statusCode === 200',
  },
  'credentials-health': {
    event: httpEvent('GET /health/credentials'),
    ok: 'r.statusCode === 200',
  },
};

export interface Bundle {
  name: string;
  file: string;
  bytes: number;
  metafile: Metafile;
}

/** Bundles `entry` the project's way (infra/bundling.ts), with `change` applied on top (the options experiment). */
export async function bundle(
  name: string,
  entry: string,
  outdir: string,
  change: (options: BuildOptions) => BuildOptions = (o) => o,
): Promise<Bundle> {
  const options = change(esbuildOptions(entry, join(outdir, name, 'index.mjs')));
  const file = options.outfile as string;
  const result = await build(options);
  if (!result.metafile) throw new Error('esbuild gave no metafile');
  return { name, file, bytes: statSync(file).size, metafile: result.metafile };
}

/** The loopback services a first call talks to, and the environment that points a function at them. */
export async function startServices(): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const secrets = new FakeSecretsManager();
  const secretsUrl = await secrets.start();
  secrets.put(SECRET_ID, JSON.stringify(BENCH_CREDENTIALS));
  const [upstream, avp, dynamodb] = await Promise.all([startUpstream(), startVerifiedPermissions(), dynaliteProcess()]);
  return {
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDBENCH',
      AWS_SECRET_ACCESS_KEY: 'bench',
      ...avp.env,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      PARTNER_CENTER_URL: upstream.url,
      PARTNER_CENTER_AUTHORITY_URL: upstream.url,
      PARTNER_CENTER_SECRET_ID: SECRET_ID,
      IDEMPOTENCY_TABLE_NAME: TABLE,
      // As deployed (infra/after-purchase.ts): the purchase functions follow what they placed. A dry run sends nothing
      // to it, so nothing listens here.
      TRACKING_QUEUE_URL: 'http://127.0.0.1:9/000000000000/tracking',
      // As deployed (infra/stack.ts): INFO lines go to stdout, which Lambda forwards.
      LOG_LEVEL: 'INFO',
    },
    stop: async () => {
      await Promise.all([upstream.stop(), avp.stop(), dynamodb.stop(), secrets.stop()]);
    },
  };
}

export interface ColdSample {
  loadMs: number;
  firstMs: number;
  /** CPU time of the process (all its threads) over the same spans: what other work on the machine stretches least. */
  loadCpuMs: number;
  firstCpuMs: number;
  /** Whether fetch's undici was compiled by the end of the first call (it need not be: functions/shared/transport.ts). */
  undici: boolean;
}

const MARK = '@@cold@@';

/**
 * One cold start in a fresh process: import, then the first call. With `profileTo`, V8's CPU profiler runs (100 µs
 * sampling) across the load and, separately, the first call, and both profiles are written there as JSON.
 */
export async function coldStart(
  name: string,
  file: string,
  env: Record<string, string>,
  profileTo?: string,
): Promise<ColdSample> {
  const call = FIRST_CALLS[name];
  const profiler = profileTo
    ? `const { Session } = await import('node:inspector/promises'); const s = new Session(); s.connect();
       await s.post('Profiler.enable'); await s.post('Profiler.setSamplingInterval', { interval: 100 });
       const start = () => s.post('Profiler.start'); const stop = async () => (await s.post('Profiler.stop')).profile;`
    : 'const start = async () => {}; const stop = async () => undefined;';
  const script = `${profiler}
    const context = { getRemainingTimeInMillis: () => 25000, functionName: 'bench', awsRequestId: 'bench-cold' };
    const cpuMs = (since) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };
    await start();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { handler } = await import(${JSON.stringify(file)});
    const t1 = performance.now();
    const loadCpu = cpuMs(c0);
    const load = await stop();
    let first;
    let firstCpu;
    if (${call !== undefined}) {
      await start();
      const c2 = process.cpuUsage();
      const t2 = performance.now();
      const r = await handler(${JSON.stringify(call?.event ?? null)}, context);
      first = performance.now() - t2;
      firstCpu = cpuMs(c2);
      const firstProfile = await stop();
      if (!(${call?.ok ?? 'true'})) throw new Error('unexpected first answer: ' + JSON.stringify(r));
      ${profileTo ? `(await import('node:fs')).writeFileSync(${JSON.stringify(profileTo)}, JSON.stringify({ load, first: firstProfile }));` : ''}
    }
    process.stdout.write('\\n${MARK}' + JSON.stringify({ loadMs: t1 - t0, firstMs: first ?? null, loadCpuMs: loadCpu, firstCpuMs: firstCpu ?? null, undici: process.moduleLoadList.some((m) => m.includes("undici")) }) + '\\n');
    process.exit(0);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new Error(`${name}: no measurement in ${stdout.slice(-500)}`);
  const sample = JSON.parse(line.slice(MARK.length)) as {
    loadMs: number;
    firstMs: number | null;
    loadCpuMs: number;
    firstCpuMs: number | null;
    undici: boolean;
  };
  return {
    loadMs: sample.loadMs,
    firstMs: sample.firstMs ?? Number.NaN,
    loadCpuMs: sample.loadCpuMs,
    firstCpuMs: sample.firstCpuMs ?? Number.NaN,
    undici: sample.undici,
  };
}

export const median = (values: number[]) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** `rounds` cold starts of each bundle, interleaved (each round in a rotated order), so drift hits them alike. */
export async function interleaved(
  bundles: { key: string; name: string; file: string }[],
  env: Record<string, string>,
  rounds: number,
  progress?: (round: number) => void,
): Promise<Map<string, ColdSample[]>> {
  const samples = new Map(bundles.map((b) => [b.key, [] as ColdSample[]]));
  for (let round = 0; round < rounds; round++) {
    progress?.(round);
    for (let i = 0; i < bundles.length; i++) {
      const b = bundles[(i + round) % bundles.length];
      if (b) samples.get(b.key)?.push(await coldStart(b.name, b.file, env));
    }
  }
  return samples;
}

export interface ColdResult {
  name: string;
  bytes: number;
  /** Median load (import) time. */
  importMs: number;
  /** Median first-call time; NaN for a function measured by load only. */
  firstMs: number;
  /** Median of load + first call, per process. */
  coldMs: number;
  /** The same in CPU time of the process. */
  coldCpuMs: number;
  /** Whether any of its cold starts compiled undici (fetch). */
  undici: boolean;
  sizeRatio: number;
  importRatio: number;
  coldRatio: number;
  coldCpuRatio: number;
}

const coldOf = (samples: ColdSample[]) =>
  median(samples.map((s) => s.loadMs + (Number.isNaN(s.firstMs) ? 0 : s.firstMs)));
const coldCpuOf = (samples: ColdSample[]) =>
  median(samples.map((s) => s.loadCpuMs + (Number.isNaN(s.firstCpuMs) ? 0 : s.firstCpuMs)));

/**
 * `COLD_AGAINST=<another checkout>`: its functions too, bundled by its own infra/bundling.ts, interleaved with these
 * (keys `before:<name>`), for a before/after on the same machine at the same time.
 */
async function againstBundles(dir: string, outdir: string): Promise<{ key: string; name: string; file: string }[]> {
  const theirs = (await import(join(dir, 'infra/bundling.ts'))) as typeof import('../infra/bundling.js');
  const names = theirs.deployedFunctions.filter((name) => (deployedFunctions as readonly string[]).includes(name));
  const entry = (name: string) =>
    name === 'floor' ? join(dir, 'bench/floor.ts') : join(dir, 'functions', name, 'handler.ts');
  return Promise.all(
    ['floor', ...names].map(async (name) => {
      const file = join(outdir, 'before', name, 'index.mjs');
      await build({ ...theirs.esbuildOptions(entry(name), file), absWorkingDir: dir });
      return { key: `before:${name}`, name, file };
    }),
  );
}

export async function measureCold(runs = RUNS): Promise<{
  floor: { bytes: number; importMs: number; firstMs: number; coldMs: number; coldCpuMs: number; loadCpuMs: number };
  functions: ColdResult[];
  /** COLD_AGAINST's functions: CPU load + first call (median), by name. */
  before: Map<string, number>;
  bundles: Bundle[];
  env: Record<string, string>;
  stop: () => Promise<void>;
}> {
  const outdir = mkdtempSync(join(tmpdir(), 'partner-orders-cold-'));
  const targets = [
    ['floor', new URL('./floor.ts', import.meta.url).pathname],
    ...deployedFunctions.map((name) => [name, entryOf(name)]),
  ] as const;
  const bundles = await Promise.all(targets.map(([name, entry]) => bundle(name, entry, outdir)));
  const against = process.env.COLD_AGAINST ? await againstBundles(process.env.COLD_AGAINST, outdir) : [];
  const services = await startServices();
  const samples = await interleaved(
    [...bundles.map((b) => ({ key: b.name, name: b.name, file: b.file })), ...against],
    services.env,
    runs,
    (round) => process.stderr.write(`[bench:cold] round ${round + 1}/${runs}\n`),
  );
  const stats = (b: Bundle) => {
    const s = samples.get(b.name) ?? [];
    return {
      bytes: b.bytes,
      importMs: median(s.map((x) => x.loadMs)),
      firstMs: median(s.map((x) => x.firstMs)),
      coldMs: coldOf(s),
      coldCpuMs: coldCpuOf(s),
      loadCpuMs: median(s.map((x) => x.loadCpuMs)),
      undici: s.some((x) => x.undici),
    };
  };
  const [floorBundle, ...functionBundles] = bundles as [Bundle, ...Bundle[]];
  const floor = stats(floorBundle);
  const functions = functionBundles.map((b) => {
    const f = stats(b);
    return {
      name: b.name,
      ...f,
      sizeRatio: f.bytes / floor.bytes,
      importRatio: f.importMs / floor.importMs,
      // A function measured by load only is compared by load only.
      coldRatio: Number.isNaN(f.firstMs) ? f.importMs / floor.importMs : f.coldMs / floor.coldMs,
      coldCpuRatio: Number.isNaN(f.firstMs) ? f.loadCpuMs / floor.loadCpuMs : f.coldCpuMs / floor.coldCpuMs,
    };
  });
  const before = new Map(against.map((b) => [b.name, coldCpuOf(samples.get(b.key) ?? [])]));
  return {
    floor,
    functions,
    before,
    bundles,
    env: services.env,
    stop: async () => {
      await services.stop();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}

// ---- where the bytes and milliseconds go ----

/** The package an input or a source file belongs to (`@scope/name`), or our own module (`functions/shared/x`). */
export function ownerOf(path: string): string {
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [first = '', second = ''] = path.slice(modules + 'node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  const ours = /(functions\/shared\/[^/]+|functions\/[^/]+|bench\/[^/]+)/.exec(path)?.[1];
  return ours ? ours.replace(/\.[jt]s$/, '') : path;
}

export function bytesByOwner(metafile: Metafile): Map<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const owner = ownerOf(input);
      totals.set(owner, (totals.get(owner) ?? 0) + bytesInOutput);
    }
  }
  return totals;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { url: string; functionName: string; lineNumber: number; columnNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) of a CPU profile by owner: bundle code through its source map, the rest by V8's own labels. */
/** The owner of a profiled frame outside a bundle: a source file by its package or folder, Node's by module. */
export function frameOwner(url: string, functionName: string): string {
  if (url.startsWith('file://')) return ownerOf(url.slice('file://'.length));
  if (url.startsWith('node:internal/modules')) {
    // Reading, parsing and compiling modules happen in the module loader's frames.
    return 'node: module loader (reads, compiles the bundle)';
  }
  if (url.startsWith('node:internal/deps/')) {
    // Node's bundled libraries, compiled on first use (undici on the first `fetch`).
    return `node: ${url
      .replace(/^node:internal\//, '')
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  }
  if (url.startsWith('node:')) return `node: ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  if (url === '') return functionName.startsWith('(') ? functionName : `native: ${functionName || '?'}`;
  return 'other';
}

/** Self time (ms) of a CPU profile by owner (frameOwner), `owner` deciding first where it knows. */
export function selfTimeBy(profile: CpuProfile, owner: (frame: CpuProfile['nodes'][number]['callFrame']) => string) {
  const ownerOfNode = new Map(profile.nodes.map((node) => [node.id, owner(node.callFrame)]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = ownerOfNode.get(id) ?? '?';
    totals.set(name, (totals.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
}

export function selfTimeByOwner(profile: CpuProfile, bundleUrl: string, map: SourceMap): Map<string, number> {
  return selfTimeBy(profile, ({ url, functionName, lineNumber, columnNumber }) => {
    if (url !== bundleUrl) return frameOwner(url, functionName);
    const entry = map.findEntry(lineNumber, columnNumber) as { originalSource?: string };
    return entry.originalSource ? ownerOf(entry.originalSource) : 'bundle (unmapped)';
  });
}

/** PROFILE_RUNS profiled cold starts of `b`: mean self time per owner, for the load and for the first call. */
export async function profileColdStarts(b: Bundle, env: Record<string, string>, runs = PROFILE_RUNS) {
  const map = new SourceMap(JSON.parse(readFileSync(`${b.file}.map`, 'utf8')));
  const url = `file://${b.file}`;
  const load = new Map<string, number>();
  const first = new Map<string, number>();
  const add = (into: Map<string, number>, from: Map<string, number>) => {
    for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v / runs);
  };
  for (let i = 0; i < runs; i++) {
    const out = join(tmpdir(), `partner-orders-cold-${process.pid}-${b.name}-${i}.json`);
    await coldStart(b.name, b.file, env, out);
    const profiles = JSON.parse(readFileSync(out, 'utf8')) as { load: CpuProfile; first: CpuProfile };
    rmSync(out);
    add(load, selfTimeByOwner(profiles.load, url, map));
    add(first, selfTimeByOwner(profiles.first, url, map));
  }
  return { load, first };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (v: number) => (Number.isNaN(v) ? '–' : `${v.toFixed(1)} ms`);
const x = (v: number) => (Number.isNaN(v) ? '–' : `${v.toFixed(2)}×`);

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** Not the function's work: waiting for answers, and the profiler's own messages. */
const NOT_COUNTED = ['(idle)', 'node: inspector'];

async function breakdown(b: Bundle, env: Record<string, string>) {
  const bytes = bytesByOwner(b.metafile);
  const { load, first } = await profileColdStarts(b, env);
  const notCounted = NOT_COUNTED.map(
    (owner) => `${owner} ${((load.get(owner) ?? 0) + (first.get(owner) ?? 0)).toFixed(1)} ms`,
  );
  for (const owner of NOT_COUNTED) {
    load.delete(owner);
    first.delete(owner);
  }
  const owners = new Set([...bytes.keys(), ...load.keys(), ...first.keys()]);
  const rows = [...owners]
    .map((owner) => ({
      owner,
      bytes: bytes.get(owner) ?? 0,
      load: load.get(owner) ?? 0,
      first: first.get(owner) ?? 0,
    }))
    .sort((a, b) => b.load + b.first - (a.load + a.first) || b.bytes - a.bytes);
  const sum = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((t, r) => t + pick(r), 0);
  const cpu = sum((r) => r.load + r.first);
  const shown = rows.filter((r) => r.load + r.first >= cpu / 100 || r.bytes >= 8192);
  const rest = rows.filter((r) => !shown.includes(r));
  const line = (r: { owner: string; bytes: number; load: number; first: number }) => [
    r.owner,
    r.bytes ? kb(r.bytes) : '',
    r.load.toFixed(1),
    r.first.toFixed(1),
    (r.load + r.first).toFixed(1),
  ];
  console.log(
    `\n${b.name}: ${kb(b.bytes)}; CPU self time of a cold start, mean of ${PROFILE_RUNS} profiled runs (100 µs sampling; ` +
      'profiling slows everything, so compare rows, not the total with the table above). Rows: ≥ 1 % of the CPU ' +
      `or ≥ 8 KB; not counted: ${notCounted.join(', ')}`,
  );
  console.log(
    table(
      ['package / module', 'bytes', 'load ms', 'first ms', 'total ms'],
      [
        ...shown.map(line),
        line({
          owner: `${rest.length} others`,
          bytes: rest.reduce((t, r) => t + r.bytes, 0),
          load: rest.reduce((t, r) => t + r.load, 0),
          first: rest.reduce((t, r) => t + r.first, 0),
        }),
        line({ owner: 'total', bytes: sum((r) => r.bytes), load: sum((r) => r.load), first: sum((r) => r.first) }),
      ],
    ),
  );
}

// ---- esbuild options, one by one ----

/** Each variant changes one thing from the project's bundling (infra/bundling.ts). */
export const OPTION_VARIANTS: { name: string; change: (o: BuildOptions) => BuildOptions; nodeModules?: boolean }[] = [
  { name: 'as bundled (infra/bundling.ts)', change: (o) => o },
  { name: 'minify: false', change: (o) => ({ ...o, minify: false }) },
  {
    name: 'minifyWhitespace + Syntax only',
    change: (o) => ({ ...o, minify: false, minifyWhitespace: true, minifySyntax: true }),
  },
  { name: 'treeShaking: false', change: (o) => ({ ...o, treeShaking: false }) },
  { name: "mainFields: esbuild's default (main first)", change: ({ mainFields: _, ...o }) => o },
  { name: "conditions: ['module']", change: (o) => ({ ...o, conditions: ['module'] }) },
  { name: "target: 'es2020' (not node24)", change: (o) => ({ ...o, target: 'es2020' }) },
  { name: "legalComments: 'none'", change: (o) => ({ ...o, legalComments: 'none' }) },
  { name: 'keepNames: true', change: (o) => ({ ...o, keepNames: true }) },
  {
    name: "format: 'cjs'",
    change: ({ banner: _, ...o }) => ({ ...o, format: 'cjs', outfile: String(o.outfile).replace(/\.mjs$/, '.cjs') }),
  },
  {
    name: "@aws-sdk/* external (the runtime's)",
    // The nodejs24.x runtime has SDK v3 under /var/runtime/node_modules; here the project's node_modules stands in.
    change: (o) => ({ ...o, external: ['@aws-sdk/*', '@smithy/*', '@aws-crypto/*'] }),
    nodeModules: true,
  },
];

async function options(env: Record<string, string>) {
  const outdir = mkdtempSync(join(tmpdir(), 'partner-orders-options-'));
  const bundles: { key: string; name: string; file: string; variant: string; bytes: number }[] = [];
  for (const [i, variant] of OPTION_VARIANTS.entries()) {
    const dir = join(outdir, `v${i}`);
    for (const name of PURCHASE_FUNCTIONS) {
      const b = await bundle(name, entryOf(name), dir, variant.change);
      bundles.push({ key: `${i}:${name}`, name, file: b.file, variant: variant.name, bytes: b.bytes });
    }
    if (variant.nodeModules) symlinkSync(join(process.cwd(), 'node_modules'), join(dir, 'node_modules'));
  }
  const samples = await interleaved(bundles, env, RUNS, (round) =>
    process.stderr.write(`[bench:cold] options round ${round + 1}/${RUNS}\n`),
  );
  const base = new Map(PURCHASE_FUNCTIONS.map((name) => [name, coldOf(samples.get(`0:${name}`) ?? [])]));
  const baseCpu = new Map(PURCHASE_FUNCTIONS.map((name) => [name, coldCpuOf(samples.get(`0:${name}`) ?? [])]));
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} ms`;
  console.log(
    `\n3. esbuild options, one at a time, on the purchase functions: median of ${RUNS} fresh processes each, interleaved; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log(
    table(
      ['variant', 'function', 'bundle', 'load', 'first call', 'load + first', 'Δ', 'CPU load + first', 'Δ CPU'],
      bundles.map((b) => {
        const s = samples.get(b.key) ?? [];
        const cold = coldOf(s);
        const cpu = coldCpuOf(s);
        const asBundled = b.key.startsWith('0:');
        return [
          b.variant,
          b.name,
          kb(b.bytes),
          ms(median(s.map((v) => v.loadMs))),
          ms(median(s.map((v) => v.firstMs))),
          ms(cold),
          asBundled ? '' : signed(cold - (base.get(b.name) ?? Number.NaN)),
          ms(cpu),
          asBundled ? '' : signed(cpu - (baseCpu.get(b.name) ?? Number.NaN)),
        ];
      }),
    ),
  );
  rmSync(outdir, { recursive: true, force: true });
}

// ---- optional pieces: what each costs the functions that carry it without running it ----

/** The SDK's default credential chain itself (its ESM entry), which the deployed bundles replace. */
const credentialChain = createRequire(import.meta.url)
  .resolve('@aws-sdk/credential-provider-node')
  .replace(/dist-cjs\/index\.js$/, 'dist-es/index.js');

/**
 * Pieces a purchase function carries but a deployment may never run, each replaced by an empty module in turn
 * (`-- --pieces`): measured, not removed, so docs/performance.md can say what keeping each costs.
 */
export const OPTIONAL_PIECES: {
  name: string;
  modules: string[];
  /** Modules put back or replaced otherwise: the module name to the source of its stand-in (written to a file). */
  standIns?: Record<string, string>;
}[] = [
  { name: 'as bundled (infra/bundling.ts)', modules: [] },
  // What infra/builtins/aws-credentials.ts saves, in two steps: the SDK's default chain as the clients get it when
  // nothing stands in for it (each client resolves it on its first call), then the same chain shared by every client.
  {
    name: "the SDK's default credential chain, per client (before the stand-in)",
    modules: [],
    standIns: { '@aws-sdk/credential-provider-node': `export * from ${JSON.stringify(credentialChain)};\n` },
  },
  {
    name: 'the default credential chain, one provider shared by every client',
    modules: [],
    standIns: {
      '@aws-sdk/credential-provider-node': `import { defaultProvider as chain } from ${JSON.stringify(credentialChain)};
        let shared; export const defaultProvider = (init) => (shared ??= chain(init));\n`,
    },
  },
  // Loaded by import() in JWT mode only (identity/http.ts); an IAM-mode deployment bundles it and never runs it.
  {
    name: 'without aws-jwt-verify (IAM mode never runs it)',
    modules: ['aws-jwt-verify/jwk', 'aws-jwt-verify/jwt-verifier'],
  },
  // Used only when the stack gives the tracking queue (TRACKING_QUEUE_URL): following placed orders.
  { name: 'without the SQS client (no tracking queue)', modules: ['@aws-sdk/client-sqs'] },
  // Powertools idempotency selects its key and its payload with JMESPath; ours are bare field names (idempotency.ts:
  // 'scope', 'fingerprint'). What the full JMESPath engine costs against a stand-in that reads one field.
  {
    name: 'Powertools JMESPath as a bare-field reader (measured, not used)',
    modules: [],
    standIns: {
      '@aws-lambda-powertools/jmespath': `export const search = (expression, data) => {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(expression)) throw new Error('not a bare field: ' + expression);
          return data !== null && typeof data === 'object' && !Array.isArray(data) && Object.hasOwn(data, expression)
            ? data[expression] : null;
        };\n`,
      '@aws-lambda-powertools/jmespath/functions': 'export class PowertoolsFunctions {}\n',
    },
  },
];

async function pieces(env: Record<string, string>, names = (process.env.COLD_PIECES ?? 'create-order').split(',')) {
  const outdir = mkdtempSync(join(tmpdir(), 'partner-orders-pieces-'));
  const empty = join(outdir, 'empty.cjs');
  writeFileSync(empty, 'module.exports = {};\n');
  const bundles: { key: string; name: string; file: string; piece: string; bytes: number }[] = [];
  for (const [i, piece] of OPTIONAL_PIECES.entries()) {
    for (const name of names) {
      const b = await bundle(name, entryOf(name), join(outdir, `p${i}`), (o) => ({
        ...o,
        alias: {
          ...o.alias,
          ...Object.fromEntries(piece.modules.map((m) => [m, empty])),
          ...Object.fromEntries(
            Object.entries(piece.standIns ?? {}).map(([m, source], j) => {
              const file = join(outdir, `stand-in-${i}-${j}.mjs`);
              writeFileSync(file, source);
              return [m, file];
            }),
          ),
        },
      }));
      bundles.push({ key: `${i}:${name}`, name, file: b.file, piece: piece.name, bytes: b.bytes });
    }
  }
  const samples = await interleaved(bundles, env, RUNS, (round) =>
    process.stderr.write(`[bench:cold] pieces round ${round + 1}/${RUNS}\n`),
  );
  const baseCpu = new Map(names.map((name) => [name, coldCpuOf(samples.get(`0:${name}`) ?? [])]));
  console.log(
    `\n4. Pieces, each replaced in turn (by an empty module, or the credential chain put back): median of ${RUNS} fresh processes each, interleaved; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
  );
  console.log(
    table(
      ['piece', 'function', 'bundle', 'CPU load + first', 'Δ CPU'],
      bundles.map((b) => {
        const cpu = coldCpuOf(samples.get(b.key) ?? []);
        const delta = cpu - (baseCpu.get(b.name) ?? Number.NaN);
        return [
          b.piece,
          b.name,
          kb(b.bytes),
          ms(cpu),
          b.key.startsWith('0:') ? '' : `${delta >= 0 ? '+' : ''}${delta.toFixed(1)} ms`,
        ];
      }),
    ),
  );
  rmSync(outdir, { recursive: true, force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const loadBefore = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  if (process.argv.includes('--options-only') || process.argv.includes('--pieces-only')) {
    const services = await startServices();
    try {
      if (process.argv.includes('--options-only')) await options(services.env);
      if (process.argv.includes('--pieces-only')) await pieces(services.env);
    } finally {
      await services.stop();
    }
    process.exit(0);
  }
  const { floor, functions, before, bundles, env, stop } = await measureCold();
  try {
    console.log(
      `1. Cold start: load + first call, median of ${RUNS} fresh processes per bundle, interleaved; Node ${process.versions.node}; ` +
        `load average ${loadBefore} before, ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} after (2 cores: above 2, every figure is stretched by other work)`,
    );
    console.log(
      `floor (SecretsManagerClient + one GetSecretValue): ${kb(floor.bytes)}, load ${ms(floor.importMs)}, first call ${ms(floor.firstMs)}, load + first ${ms(floor.coldMs)} (CPU ${ms(floor.coldCpuMs)})`,
    );
    console.log(
      `Goal: load + first ≤ ${GOAL.cold}× the floor's (functions without a first call here: load only), size ≤ ${GOAL.size}×. ` +
        "CPU: the process's CPU time over the same spans, what a busy machine stretches least.\n",
    );
    console.log(
      table(
        ['function', 'bundle', 'size ×', 'load', 'first call', 'load + first', '× floor', 'CPU', 'CPU × floor', 'goal'],
        functions.map((f) => [
          f.name,
          kb(f.bytes),
          x(f.sizeRatio),
          ms(f.importMs),
          ms(f.firstMs),
          Number.isNaN(f.firstMs) ? '–' : ms(f.coldMs),
          x(f.coldRatio),
          ms(f.coldCpuMs),
          x(f.coldCpuRatio),
          f.coldCpuRatio <= GOAL.cold ? 'met' : 'missed',
        ]),
      ),
    );
    // The verdict is on CPU time: on this shared machine wall time moves with other work, CPU time much less.
    console.log(`\nVerdict, the purchase functions (CPU load + first call ≤ ${GOAL.cold}× the floor's):`);
    for (const f of functions.filter((f) => PURCHASE_FUNCTIONS.includes(f.name))) {
      console.log(
        `  ${f.name.padEnd(16)} ${x(f.coldCpuRatio).padStart(6)}  ${
          f.coldCpuRatio <= GOAL.cold
            ? 'met'
            : `MISSED by ${ms(f.coldCpuMs - GOAL.cold * floor.coldCpuMs)}: what remains is itemized, with why it is kept, in docs/performance.md ("Cold start", "What remains")`
        }`,
      );
    }
    if (before.size > 0) {
      console.log(
        `\nAgainst ${process.env.COLD_AGAINST} (its own bundling), interleaved with the above: CPU load + first call`,
      );
      console.log(
        table(
          ['function', 'before', 'after', 'Δ', '× its floor before', '× floor after', "after × before's floor"],
          [{ name: 'floor', coldCpuMs: floor.coldCpuMs }, ...functions.filter((f) => before.has(f.name))].map((f) => {
            const was = before.get(f.name) ?? Number.NaN;
            return [
              f.name,
              ms(was),
              ms(f.coldCpuMs),
              `${f.coldCpuMs - was >= 0 ? '+' : ''}${(f.coldCpuMs - was).toFixed(1)} ms`,
              x(was / (before.get('floor') ?? Number.NaN)),
              // Both sides: load + first (load only without a first call here) over their floor's load + first.
              x(f.coldCpuMs / floor.coldCpuMs),
              // When a change cuts the floor too (the bundling is both sides'), the fixed reference is the old floor.
              x(f.coldCpuMs / (before.get('floor') ?? Number.NaN)),
            ];
          }),
        ),
      );
    }
    const undici = functions.filter((f) => f.undici).map((f) => f.name);
    if (undici.length > 0) {
      console.log(
        `\nundici (fetch) was compiled by: ${undici.join(', ')}. Something calls the global fetch or imports node:http as ESM; functions/shared/transport.ts and the alias in infra/bundling.ts are there so that nothing does.`,
      );
    }
    if (PROFILE_RUNS > 0) {
      console.log('\n2. Where the bytes and the milliseconds go (self time: code in that package, not what it calls)');
      for (const b of bundles.filter((b) => b.name === 'floor' || PURCHASE_FUNCTIONS.includes(b.name))) {
        await breakdown(b, env);
      }
    }
    if (process.argv.includes('--options')) await options(env);
    if (process.argv.includes('--pieces')) await pieces(env);
  } finally {
    await stop();
  }
}
