// Captures everything written to stdout and stderr (where Powertools Logger writes in Lambda) so that tests can
// assert on log lines, and that no secret ever appears in one.
import { afterAll, beforeAll } from 'vitest';

export function captureLogs(): { lines: () => string[]; text: () => string; clear: () => void } {
  const captured: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  beforeAll(() => {
    const tap =
      (original: typeof process.stdout.write) =>
      (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
        captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return process.env.SHOW_LOGS
          ? (original as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest)
          : true;
      };
    process.stdout.write = tap(originals.out) as typeof process.stdout.write;
    process.stderr.write = tap(originals.err) as typeof process.stderr.write;
  });
  afterAll(() => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  });
  const text = () => captured.join('');
  return { text, lines: () => text().split('\n').filter(Boolean), clear: () => captured.splice(0) };
}
