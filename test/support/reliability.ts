// Shared by the reliability suites (test/reliability): the short/full switch, outcome histograms, the summary lines
// they print, and the checks every answer must pass whatever the input was.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `npm run test:soak` sets SOAK=1: full counts. `npm test` runs the short version of every suite. */
export const SOAK = process.env.SOAK === '1' || process.env.SOAK === 'true';

/** The short count inside `npm test`, the full one under SOAK. */
export const count = (short: number, full: number) => (SOAK ? full : short);

/** Generous per-test timeouts: the soak runs are long by design. */
export const timeout = (shortMs: number, fullMs: number) => (SOAK ? fullMs : shortMs);

/** Counts by label, printed sorted by count. */
export class Histogram {
  private readonly counts = new Map<string, number>();

  add(label: string, n = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + n);
  }

  get(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  entries(): [string, number][] {
    return [...this.counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.entries());
  }

  toString(): string {
    return this.entries()
      .map(([label, n]) => `${label}: ${n}`)
      .join(', ');
  }
}

/**
 * Prints the figures of one suite as `[reliability] …` lines (vitest shows them), and writes them as JSON to
 * `$RELIABILITY_RESULTS_DIR/<name>.json` when that variable is set (how the README figures are gathered).
 */
export function report(name: string, figures: Record<string, unknown>): void {
  const lines = Object.entries(figures).map(
    ([key, value]) =>
      `[reliability] ${name} ${key}: ${value instanceof Histogram ? `${value.total} (${value})` : typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
  );
  console.log(`${SOAK ? '[soak] ' : ''}${lines.join('\n')}`);
  const dir = process.env.RELIABILITY_RESULTS_DIR;
  if (dir) {
    mkdirSync(dir, { recursive: true });
    const json = Object.fromEntries(
      Object.entries(figures).map(([key, value]) => [
        key,
        value instanceof Histogram ? { total: value.total, ...value.toJSON() } : value,
      ]),
    );
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify({ soak: SOAK, ...json }, null, 2)}\n`);
  }
}

export const PROBLEM_TYPE = /^urn:partner-orders:problem:[a-z-]+$/;

/** What a stack trace, a source path or an internal module looks like in a text meant for a caller. */
const INTERNALS = /\n\s+at\s|\bat [\w.<>]+ \(|node:internal|node_modules|\/work\/|\.ts:\d+|\.js:\d+|file:\/\//;

/**
 * Why an answer is not a well-formed RFC 9457 problem for `status` (undefined when it is). Never a stack trace,
 * a path into the source, or a 5xx dressed as a 4xx.
 */
export function problemDefect(status: number, body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return 'problem body is not an object';
  const problem = body as Record<string, unknown>;
  if (typeof problem.type !== 'string' || !PROBLEM_TYPE.test(problem.type)) return `bad type ${String(problem.type)}`;
  if (typeof problem.title !== 'string' || problem.title === '') return 'no title';
  if (problem.status !== status) return `status ${String(problem.status)} in the body, ${status} on the response`;
  if (typeof problem.detail !== 'string' || problem.detail === '') return 'no detail';
  if (INTERNALS.test(JSON.stringify(body))) return 'internals (stack trace or source path) in the problem';
  if (problem.errors !== undefined) {
    if (!Array.isArray(problem.errors)) return 'errors is not an array';
    for (const error of problem.errors as unknown[]) {
      const e = error as { path?: unknown; message?: unknown };
      if (typeof e?.path !== 'string' || typeof e.message !== 'string') return 'an error without path and message';
    }
  }
  return undefined;
}

/** The slug of a problem type (`validation`), or what the answer was. */
export function outcomeLabel(status: number, body: unknown): string {
  const type = (body as { type?: unknown } | undefined)?.type;
  if (typeof type === 'string' && type.startsWith('urn:partner-orders:problem:')) {
    return `${status} ${type.slice('urn:partner-orders:problem:'.length)}`;
  }
  if ((body as { dryRun?: unknown } | undefined)?.dryRun === true) return `${status} dry-run`;
  return `${status} success`;
}

/** `setTimeout` as a promise. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits scaled down to keep fault runs fast while keeping their order: Retry-After and backoff waits become 1/100
 * of what was asked, at most `capMs`.
 */
export const scaledSleep =
  (capMs = 25) =>
  (ms: number) =>
    sleep(Math.min(capMs, Math.ceil(ms / 100)));

/** Runs `tasks` with at most `limit` in flight; resolves with their results in order. */
export async function pool<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < tasks.length; i = next++) results[i] = await (tasks[i] as () => Promise<T>)();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
