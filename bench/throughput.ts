// Local API throughput: autocannon against the server `npm start` runs (local/main.ts, its own process: simulator at
// latency 0, the real handlers, dynalite in process), beside two bare node:http proxies (bench/bare-proxy.ts, each its
// own process with its own simulator) making Partner Center calls and nothing else: the one-call proxy forwards
// POST orders as it is (the baseline until the one-cart design), the cart proxy makes the upstream calls a purchase
// now is, POST carts then POST checkout (docs/idempotency.md: exactly-once rests on checkout being idempotent per
// cart). The servers take turns, round after round, so drift on a shared machine hits them alike; each ratio is the
// median of the rounds' ratios. Beside requests/s, each server's CPU time per request (its process's user + system
// time over the run, from /proc: Linux only) moves less with the machine's load than requests/s do. Every simulator
// keeps every order in memory; a run is a few thousand orders.
//
// `tsx bench/throughput.ts` runs this part alone. BENCH_COMPARE_ROOT=<another checkout> adds that checkout's
// `npm start` as one more server in the same rounds (before/after a change); BENCH_CPU_PROF_DIR=dir profiles them.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { median, round } from './stats.js';

const ROOT = new URL('../', import.meta.url).pathname;
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
// With its line number: the bare proxy forwards the body as it is, and Partner Center wants one on every line.
const BODY = JSON.stringify({
  lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, termDuration: 'P1Y', lineItemNumber: 0 }],
  billingCycle: 'monthly',
});
/** Issue 22: back to ≥ 0.7× a bare proxy (judged against the proxy making the same upstream calls). */
export const GOAL = { throughput: 0.7 };

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

interface Server {
  url: string;
  pid: number | undefined;
  /** performance.now() when the process was spawned (its profile starts about then). */
  spawnedAt: number;
  /** The server's CPU time so far (user + system, ms), or undefined where /proc cannot tell. */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of a process (ms), from /proc/<pid>/stat (fields 14 and 15, in clock ticks). */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** Starts `node --import tsx <script>` and waits for it to print `ready` (at most 30 s). */
async function serve(script: string, ready: RegExp, env: Record<string, string>, root = ROOT): Promise<Server> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' };
  // The server must run its own simulator and its own dynalite, whatever this shell points at.
  for (const name of [
    'PARTNER_CENTER_URL',
    'PARTNER_CENTER_AUTHORITY_URL',
    'IDEMPOTENCY_TABLE_NAME',
    'SIMULATOR_PORT',
  ]) {
    delete childEnv[name];
  }
  // BENCH_CPU_PROF_DIR=dir writes a CPU profile of each server (on exit) for `tsx bench/profile.ts`.
  const profile = process.env.BENCH_CPU_PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
    : [];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', script], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Whatever happens to this process, the server goes with it.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s`)), 30_000);
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (ready.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code}) before it was ready`));
      });
    });
  } catch (error) {
    process.off('exit', orphan);
    child.kill('SIGKILL');
    throw error;
  }
  child.stdout?.resume();
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    spawnedAt,
    cpuMs: () => processCpuMs(child.pid),
    stop: async () => {
      process.off('exit', orphan);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function load(server: Server, seconds: number, connections: number) {
  const cpuBefore = server.cpuMs();
  const result = await autocannon({
    url: `${server.url}/customers/${CUSTOMER}/orders`,
    method: 'POST',
    // The same lines every time: the possible-duplicate guard (on in `npm start`) is told so, as a caller would.
    headers: { 'content-type': 'application/json', 'allow-duplicate': 'true' },
    body: BODY,
    connections,
    duration: seconds,
  });
  const cpuAfter = server.cpuMs();
  const completed = result['2xx'];
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${server.url}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  }
  return {
    requests: completed,
    seconds: result.duration,
    p99Ms: result.latency.p99,
    cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
  };
}

type Run = Awaited<ReturnType<typeof load>>;

export interface ThroughputSide {
  requestsPerSecond: number;
  p99Ms: number;
  requests: number;
  /** The server process's CPU time per answered request (ms), all rounds together; undefined off Linux. */
  cpuMsPerRequest?: number;
}

export interface ThroughputRatio {
  /** Median over the rounds of (app requests/s ÷ the proxy's requests/s in the same round). */
  ratio: number;
  roundRatios: number[];
  p99Ratio: number;
  /** The proxy's CPU per request ÷ the app's: the throughput one core would allow each (undefined off Linux). */
  cpuRatio?: number;
}

export interface ThroughputResult extends ThroughputRatio {
  connections: number;
  secondsPerRun: number;
  rounds: number;
  /** The 1-, 5- and 15-minute load averages (2 shared cores) at the start and at the end of the run. */
  loadAverage: { start: number[]; end: number[] };
  app: ThroughputSide;
  /** The one-call proxy: POST orders forwarded as it is (the ratio, roundRatios and p99Ratio above are against it). */
  bare: ThroughputSide;
  /** The cart proxy: POST carts then POST checkout, the upstream calls of one purchase now. */
  bareCart: ThroughputSide;
  vsCart: ThroughputRatio;
  /** BENCH_COMPARE_ROOT's server, measured in the same rounds, and its ratios to the same proxies. */
  compare?: { root: string; side: ThroughputSide; vsOneCall: ThroughputRatio; vsCart: ThroughputRatio };
  /** Judged against the cart proxy: the same upstream calls as the service. */
  met: boolean;
}

const summary = (list: Run[]): ThroughputSide => {
  const requests = list.reduce((sum, r) => sum + r.requests, 0);
  const time = list.reduce((sum, r) => sum + r.seconds, 0);
  const cpu = list.every((r) => r.cpuMs !== undefined) ? list.reduce((sum, r) => sum + (r.cpuMs ?? 0), 0) : undefined;
  return {
    requestsPerSecond: round(requests / time, 1),
    // The worst round's p99: the figure a caller would see on a bad second.
    p99Ms: Math.max(...list.map((r) => r.p99Ms)),
    requests,
    ...(cpu === undefined || requests === 0 ? {} : { cpuMsPerRequest: round(cpu / requests, 3) }),
  };
};

/** Each round's run against the proxy's run in the same round; the median of those is steadier than the totals. */
function ratioOf(app: Run[], proxy: Run[]): ThroughputRatio {
  const roundRatios = app.map((r, i) => {
    const p = proxy[i];
    return p ? r.requests / r.seconds / (p.requests / p.seconds) : Number.NaN;
  });
  const a = summary(app);
  const b = summary(proxy);
  return {
    ratio: round(median(roundRatios)),
    roundRatios: roundRatios.map((r) => round(r)),
    p99Ratio: round(a.p99Ms / b.p99Ms),
    ...(a.cpuMsPerRequest && b.cpuMsPerRequest ? { cpuRatio: round(b.cpuMsPerRequest / a.cpuMsPerRequest) } : {}),
  };
}

export async function measureThroughput(
  options: { seconds?: number; rounds?: number; connections?: number; compareRoot?: string } = {},
): Promise<ThroughputResult> {
  const seconds = options.seconds ?? 3;
  const rounds = options.rounds ?? 4;
  const connections = options.connections ?? 10;
  const compareRoot = options.compareRoot ?? (process.env.BENCH_COMPARE_ROOT || undefined);
  const loadStart = loadavg();
  // POST orders without a key, as before keys were required (one key per request would measure the store instead).
  // In memory (LOCAL_STATE_DIR empty, as the tests run it): the on-disk state of `npm start` (.local-state: dynalite's
  // LevelDB, the simulator's files) measures the disk, and would carry one run's orders into the next.
  const env = {
    SIMULATOR_LATENCY_MS: '0',
    LOG_LEVEL: 'SILENT',
    IDEMPOTENCY_KEY_REQUIRED: 'false',
    LOCAL_STATE_DIR: '',
  };
  const names = ['app', 'bare', 'bareCart', ...(compareRoot ? ['compare'] : [])] as const;
  type Name = (typeof names)[number];
  const servers = await Promise.all([
    serve('local/main.ts', /listening on/, env),
    serve('bench/bare-proxy.ts', /bare proxy listening on/, { ...env, BARE_PROXY_UPSTREAM: 'orders' }),
    serve('bench/bare-proxy.ts', /bare proxy listening on/, { ...env, BARE_PROXY_UPSTREAM: 'cart-checkout' }),
    ...(compareRoot ? [serve('local/main.ts', /listening on/, env, compareRoot)] : []),
  ]);
  const server = (name: Name) => servers[names.indexOf(name)] as Server;
  try {
    // Warm-up: JIT, connections, tokens.
    const loadBegan = performance.now();
    const warmups = new Map<Name, Run>();
    for (const name of names) warmups.set(name, await load(server(name), 1, connections));
    const runs = new Map<Name, Run[]>(names.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      // Each round starts one server later, so that none always runs first (or right after the same one).
      const order = names.map((_, i) => names[(i + round) % names.length] as Name);
      for (const name of order) runs.get(name)?.push(await load(server(name), seconds, connections));
    }
    const of = (name: Name) => runs.get(name) ?? [];
    if (process.env.BENCH_CPU_PROF_DIR) {
      // What `tsx bench/profile.ts --owners FILE requests` divides by: every request the server answered.
      for (const name of names) {
        const served = [warmups.get(name), ...of(name)].reduce((sum, r) => sum + (r?.requests ?? 0), 0);
        const startUp = (loadBegan - server(name).spawnedAt) / 1000;
        process.stderr.write(
          `[throughput] ${name}: pid ${server(name).pid}, ${served} requests (warm-up included); ` +
            `tsx bench/profile.ts --owners <its profile> ${served} ${startUp.toFixed(1)}\n`,
        );
      }
    }
    const vsOneCall = ratioOf(of('app'), of('bare'));
    const vsCart = ratioOf(of('app'), of('bareCart'));
    return {
      connections,
      secondsPerRun: seconds,
      rounds,
      loadAverage: { start: loadStart.map((l) => round(l, 2)), end: loadavg().map((l) => round(l, 2)) },
      app: summary(of('app')),
      bare: summary(of('bare')),
      bareCart: summary(of('bareCart')),
      ...vsOneCall,
      vsCart,
      ...(compareRoot
        ? {
            compare: {
              root: compareRoot,
              side: summary(of('compare')),
              vsOneCall: ratioOf(of('compare'), of('bare')),
              vsCart: ratioOf(of('compare'), of('bareCart')),
            },
          }
        : {}),
      met: vsCart.ratio >= GOAL.throughput,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** The figures as lines of text: `npm run bench` (section 4) and this file alone print the same. */
export function describeThroughput(t: ThroughputResult): string[] {
  const x = (v: number) => `${v.toFixed(2)}×`;
  const cpu = (side: ThroughputSide) =>
    side.cpuMsPerRequest === undefined ? 'n/a' : `${side.cpuMsPerRequest.toFixed(2)} ms`;
  const rows: [string, ThroughputSide][] = [
    ["npm start's server (local/main.ts)", t.app],
    ...(t.compare ? [[`npm start of ${t.compare.root}`, t.compare.side] as [string, ThroughputSide]] : []),
    ['bare proxy, POST orders (one call)', t.bare],
    ['bare proxy, POST carts + checkout', t.bareCart],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const against = (name: string, r: ThroughputRatio, proxy: string) =>
    `   ${name}: ${x(r.ratio)} the ${proxy} (median of the rounds: ${r.roundRatios.map(x).join(', ')}), p99 ` +
    `${x(r.p99Ratio)}${r.cpuRatio === undefined ? '' : `; by CPU per request ${x(r.cpuRatio)}`}`;
  return [
    `   ${'server'.padEnd(width)}  requests/s      p99  CPU/request`,
    ...rows.map(
      ([name, side]) =>
        `   ${name.padEnd(width)}  ${side.requestsPerSecond.toFixed(0).padStart(10)}  ${`${side.p99Ms} ms`.padStart(7)}  ${cpu(side).padStart(11)}`,
    ),
    against('throughput', t.vsCart, 'cart proxy (same upstream calls)'),
    against('throughput', t, 'one-call proxy (the baseline before carts)'),
    ...(t.compare
      ? [
          against(`${t.compare.root}`, t.compare.vsCart, 'cart proxy'),
          against(`${t.compare.root}`, t.compare.vsOneCall, 'one-call proxy'),
        ]
      : []),
    `   goal ≥ ${GOAL.throughput}× the cart proxy: ${t.met ? 'met' : 'NOT met'}; load average ${t.loadAverage.start.join(' ')} at the start, ${t.loadAverage.end.join(' ')} at the end (2 shared cores)`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
  const result = await measureThroughput({ seconds, rounds, connections });
  console.log(describeThroughput(result).join('\n'));
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
}
