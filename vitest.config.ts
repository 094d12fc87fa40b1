import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two files at once: on CI's 2 cores the suite took ~8 minutes one file at a time (vitest's default there is one
    // worker), ~5 with two; every test holds with both cores busy (`npm run test:busy`).
    maxWorkers: 2,
    environment: 'node',
    // Only there to end a hang: generous, since with both cores busy (`npm run test:busy`) the longest tests took 19 s
    // of the 20 s this was. Tests about time bound it themselves (test/support/timing.ts).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Logs are asserted on (no secret may appear), at every level: keep them written as JSON to stdout as in Lambda.
    env: { LOG_LEVEL: 'DEBUG', POWERTOOLS_DEV: '' },
    // ...and out of the test output unless a test fails (SHOW_LOGS=1 shows them all).
    setupFiles: ['test/support/quiet-output.ts'],
  },
});
