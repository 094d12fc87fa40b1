// `npm run bench:cold`: bundles each function exactly as CDK does (infra/bundling.ts) and prints its bundle size and
// median cold import time over fresh processes, each as a ratio to a reference bundle holding only a
// SecretsManagerClient (bench/floor.ts), measured in the same run. Goal: size ≤ 1.1×, import ≤ 1.15× the floor.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundling, deployedFunctions, entryOf } from '../infra/bundling.js';

const RUNS = Number(process.env.COLD_RUNS ?? 11);
const GOAL = { size: 1.1, import: 1.15 };

async function bundle(name: string, entry: string, outdir: string): Promise<string> {
  const outfile = join(outdir, name, 'index.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: bundling.platform,
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourcemap,
    banner: { js: bundling.banner },
    mainFields: [...bundling.mainFields],
    external: [...bundling.external],
    logLevel: 'error',
  });
  return outfile;
}

/** One fresh Node process per run: the time to import the bundle, as Lambda's init does before the first call. */
function importMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, AWS_REGION: 'eu-west-1', PARTNER_CENTER_SECRET_ID: 'bench', LOG_LEVEL: 'ERROR' },
  });
  return Number(out.toString());
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

export interface ColdResult {
  name: string;
  bytes: number;
  importMs: number;
  sizeRatio: number;
  importRatio: number;
}

export async function measureCold(
  runs = RUNS,
): Promise<{ floor: { bytes: number; importMs: number }; functions: ColdResult[] }> {
  const outdir = mkdtempSync(join(tmpdir(), 'partner-orders-cold-'));
  const targets = [
    ['floor', new URL('./floor.ts', import.meta.url).pathname],
    ...deployedFunctions.map((name) => [name, entryOf(name)]),
  ] as const;
  const files = await Promise.all(targets.map(([name, entry]) => bundle(name, entry, outdir)));
  const times = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  // Interleaved, so that drift on a shared machine hits every bundle alike.
  for (let run = 0; run < runs; run++) {
    targets.forEach(([name], i) => {
      times.get(name)?.push(importMs(files[i] ?? ''));
    });
  }
  const floor = { bytes: statSync(files[0] ?? '').size, importMs: median(times.get('floor') ?? []) };
  const functions = targets.slice(1).map(([name], i) => {
    const bytes = statSync(files[i + 1] ?? '').size;
    const ms = median(times.get(name) ?? []);
    return { name, bytes, importMs: ms, sizeRatio: bytes / floor.bytes, importRatio: ms / floor.importMs };
  });
  return { floor, functions };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { floor, functions } = await measureCold();
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(`cold start, median of ${RUNS} fresh processes, Node ${process.versions.node}`);
  console.log(`floor (SecretsManagerClient only): ${kb(floor.bytes)}, import ${floor.importMs.toFixed(1)} ms\n`);
  console.log('function        bundle     size×   import     import×   goal');
  for (const f of functions) {
    const ok = f.sizeRatio <= GOAL.size && f.importRatio <= GOAL.import;
    console.log(
      `${f.name.padEnd(15)} ${kb(f.bytes).padStart(9)}  ${f.sizeRatio.toFixed(2).padStart(5)}  ${`${f.importMs.toFixed(1)} ms`.padStart(9)}  ${f.importRatio.toFixed(2).padStart(7)}   ${ok ? 'met' : `missed (≤ ${GOAL.size}× / ≤ ${GOAL.import}×)`}`,
    );
  }
}
