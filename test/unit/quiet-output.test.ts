// `npm test` prints results, not the handlers' log lines: test/support/quiet-output.ts holds what a test writes to
// stdout and prints it only when that test fails. Checked by running vitest on a fixture in a child process.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const config = fileURLToPath(new URL('../fixtures/quiet-output/vitest.config.ts', import.meta.url));
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

async function run(env: Record<string, string>): Promise<string> {
  const { SHOW_LOGS: _, ...rest } = process.env;
  const result = await promisify(execFile)(process.execPath, [vitest, 'run', '--config', config], {
    env: { ...rest, ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
  }).catch((error: { stdout: string; stderr: string }) => error);
  return `${result.stdout}${result.stderr}`;
}

describe('test output', () => {
  it('holds the stdout of passing tests and prints that of a failing one under its name', async () => {
    const passing = await run({});
    expect(passing).toContain('2 passed');
    expect(passing).not.toContain('line of the passing test');
    expect(passing).not.toContain('line of the failing test');

    const failing = await run({ FAIL_ONE: '1' });
    expect(failing).toContain('1 failed');
    expect(failing).not.toContain('line of the passing test');
    expect(failing).toContain('--- stdout of the failed test "fails loudly" ---');
    expect(failing).toContain('line of the failing test');
  }, 60_000);

  it('prints everything with SHOW_LOGS=1', async () => {
    expect(await run({ SHOW_LOGS: '1' })).toContain('line of the passing test');
  }, 60_000);
});
