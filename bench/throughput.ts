// Local API throughput: autocannon against the server `npm start` runs (local/main.ts, its own process: simulator at
// latency 0, the real handlers, dynalite idle), beside a bare node:http proxy doing the same upstream call
// (bench/bare-proxy.ts, also its own process with its own simulator). The two alternate, round after round, so drift
// on a shared machine hits both alike, and the ratio is the median of the rounds' ratios. Both simulators keep every order in memory; a run is a few thousand orders.
//
// `tsx bench/throughput.ts` runs this part alone.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import { median, round } from './stats.js';

const ROOT = new URL('../', import.meta.url).pathname;
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
// With its line number: the bare proxy forwards the body as it is, and Partner Center wants one on every line.
const BODY = JSON.stringify({
  lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, termDuration: 'P1Y', lineItemNumber: 0 }],
  billingCycle: 'monthly',
});
export const GOAL = { throughput: 0.8 };

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
  stop(): Promise<void>;
}

/** Starts `node --import tsx <script>` and waits for it to print `ready` (at most 30 s). */
async function serve(script: string, ready: RegExp, env: Record<string, string>): Promise<Server> {
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
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', script], {
    cwd: ROOT,
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

async function load(url: string, seconds: number, connections: number) {
  const result = await autocannon({
    url: `${url}/customers/${CUSTOMER}/orders`,
    method: 'POST',
    // The same lines every time: the possible-duplicate guard (on in `npm start`) is told so, as a caller would.
    headers: { 'content-type': 'application/json', 'allow-duplicate': 'true' },
    body: BODY,
    connections,
    duration: seconds,
  });
  const completed = result['2xx'];
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  }
  return { requests: completed, seconds: result.duration, p99Ms: result.latency.p99 };
}

export interface ThroughputSide {
  requestsPerSecond: number;
  p99Ms: number;
  requests: number;
}

export interface ThroughputResult {
  connections: number;
  secondsPerRun: number;
  rounds: number;
  app: ThroughputSide;
  bare: ThroughputSide;
  /** Median over the rounds of (app requests/s ÷ bare requests/s in the same round). */
  ratio: number;
  roundRatios: number[];
  p99Ratio: number;
  met: boolean;
}

export async function measureThroughput(
  options: { seconds?: number; rounds?: number; connections?: number } = {},
): Promise<ThroughputResult> {
  const seconds = options.seconds ?? 3;
  const rounds = options.rounds ?? 4;
  const connections = options.connections ?? 10;
  // POST orders without a key, as before keys were required (one key per request would measure the store instead).
  // In memory (LOCAL_STATE_DIR empty, as the tests run it): the on-disk state of `npm start` (.local-state: dynalite's
  // LevelDB, the simulator's files) measures the disk, and would carry one run's orders into the next.
  const env = {
    SIMULATOR_LATENCY_MS: '0',
    LOG_LEVEL: 'SILENT',
    IDEMPOTENCY_KEY_REQUIRED: 'false',
    LOCAL_STATE_DIR: '',
  };
  const [app, bare] = await Promise.all([
    serve('local/main.ts', /listening on/, env),
    serve('bench/bare-proxy.ts', /bare proxy listening on/, env),
  ]);
  try {
    // Warm-up: JIT, connections, tokens.
    await load(app.url, 1, connections);
    await load(bare.url, 1, connections);
    const runs = { app: [] as Awaited<ReturnType<typeof load>>[], bare: [] as Awaited<ReturnType<typeof load>>[] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['app', 'bare'] as const) : (['bare', 'app'] as const);
      for (const side of order) runs[side].push(await load(side === 'app' ? app.url : bare.url, seconds, connections));
    }
    const summary = (list: (typeof runs)['app']): ThroughputSide => {
      const requests = list.reduce((sum, r) => sum + r.requests, 0);
      const time = list.reduce((sum, r) => sum + r.seconds, 0);
      return {
        requestsPerSecond: round(requests / time, 1),
        // The worst round's p99: the figure a caller would see on a bad second.
        p99Ms: Math.max(...list.map((r) => r.p99Ms)),
        requests,
      };
    };
    const a = summary(runs.app);
    const b = summary(runs.bare);
    // Each round's app run against the bare run next to it; the median of those is steadier than the totals when the
    // shared machine has a bad second.
    const roundRatios = runs.app.map((r, i) => {
      const bare = runs.bare[i];
      return bare ? r.requests / r.seconds / (bare.requests / bare.seconds) : Number.NaN;
    });
    const ratio = median(roundRatios);
    return {
      connections,
      secondsPerRun: seconds,
      rounds,
      app: a,
      bare: b,
      ratio: round(ratio),
      roundRatios: roundRatios.map((r) => round(r)),
      p99Ratio: round(a.p99Ms / b.p99Ms),
      met: ratio >= GOAL.throughput,
    };
  } finally {
    await Promise.all([app.stop(), bare.stop()]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureThroughput(), null, 2));
}
