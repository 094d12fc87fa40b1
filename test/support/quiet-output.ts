// Test output is the results. What the code under test writes straight to stdout (the handlers' JSON log lines,
// DEBUG included: vitest.config.ts sets LOG_LEVEL) is held per test and printed only when that test fails, under
// its name. Tests that assert on logs (captureLogs) still see every line. SHOW_LOGS=1 prints everything as written.
// console.* output (the reliability figures) is vitest's own to show and is left alone.
import { beforeEach } from 'vitest';

/** At most this much is held for one test; past it the oldest output is dropped (the end explains a failure). */
const MAX_HELD_CHARS = 1_000_000;

if (!process.env.SHOW_LOGS) {
  const write = process.stdout.write.bind(process.stdout) as (chunk: string) => boolean;
  let held: string[] = [];
  let heldChars = 0;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    held.push(text);
    heldChars += text.length;
    while (heldChars > MAX_HELD_CHARS && held.length > 1) heldChars -= (held.shift() as string).length;
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    if (callback) queueMicrotask(callback);
    return true;
  }) as typeof process.stdout.write;

  beforeEach(({ task, onTestFailed }) => {
    // Output from before this test (another test's hooks, module loading) is not this test's.
    held = [];
    heldChars = 0;
    onTestFailed(() => {
      if (held.length === 0) return;
      write(`\n--- stdout of the failed test "${task.name}" ---\n${held.join('')}--- end of its stdout ---\n`);
      held = [];
      heldChars = 0;
    });
  });
}
