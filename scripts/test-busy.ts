// `npm run test:busy`: the suite while every core is kept busy by another process, as CI's 2-core machine may be
// (docs/serverless-pitfalls.md #22: a timing assertion that only holds on an idle machine holds back every change).
//
//   npm run test:busy                                   the whole suite (`npm test`) once, under load
//   npm run test:busy -- --runs 3                       three times, stopping at the first red run
//   npm run test:busy -- test/reliability/x.test.ts     only these files (`vitest run <files>`), under load
//   npm run test:busy -- --load 4                       4 spinning threads instead of one per core
//
// The load is one spinning worker thread per core, in this process: it dies with this process whatever happens (a red
// run, Ctrl-C, a crash), so it can never be left behind spinning.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

const SPIN = `
const { parentPort } = require('node:worker_threads');
let stop = false;
parentPort.on('message', () => { stop = true; });
// Busy for 50 ms, then a turn of the event loop to hear 'stop'.
const spin = () => { const until = Date.now() + 50; while (Date.now() < until); if (!stop) setImmediate(spin); else process.exit(0); };
spin();
`;

interface Options {
  runs: number;
  load: number;
  files: string[];
}

export function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 1, load: availableParallelism(), files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${arg} takes a positive whole number`);
      return n;
    };
    if (arg === '--runs') options.runs = value();
    else if (arg === '--load') options.load = value();
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (--runs N, --load N, test files)`);
    else options.files.push(arg);
  }
  return options;
}

function startLoad(threads: number): () => Promise<void> {
  const workers = Array.from({ length: threads }, () => new Worker(SPIN, { eval: true }));
  return async () => {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.postMessage('stop');
            // A worker that does not stop within a second is ended.
            setTimeout(() => void worker.terminate(), 1_000).unref();
          }),
      ),
    );
  };
}

let running: ReturnType<typeof spawn> | undefined;

function runOnce(files: string[]): Promise<number> {
  const [command, args] = files.length ? ['npx', ['vitest', 'run', ...files]] : ['npm', ['test']];
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    running = child;
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(1));
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const what = options.files.length ? `vitest run ${options.files.join(' ')}` : 'npm test';
  const results: { run: number; code: number; ms: number }[] = [];
  const stopLoad = startLoad(options.load);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    // From a terminal the run got the signal too; from anything else it is passed on. Its exit ends the loop.
    interrupted = true;
    running?.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    for (let run = 1; run <= options.runs && !interrupted; run++) {
      console.log(`[test:busy] run ${run}/${options.runs}: ${what}, ${options.load} spinning threads`);
      const started = performance.now();
      const code = await runOnce(options.files);
      const ms = performance.now() - started;
      results.push({ run, code, ms });
      console.log(
        `[test:busy] run ${run}/${options.runs}: ${code === 0 ? 'GREEN' : `RED (exit ${code})`} in ${seconds(ms)}`,
      );
      if (code !== 0) break;
    }
  } finally {
    await stopLoad();
  }
  const green = results.filter((r) => r.code === 0).length;
  const summary = results.map((r) => `${r.code === 0 ? 'green' : 'red'} ${seconds(r.ms)}`).join(', ');
  console.log(
    `[test:busy] ${green}/${results.length} green under ${options.load} spinning threads` +
      `${results.length < options.runs ? ` (stopped after ${results.length} of ${options.runs})` : ''}: ${summary}`,
  );
  process.exitCode = green === options.runs ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
