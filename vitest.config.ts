import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Logs are asserted on (no secret may appear): keep Powertools writing JSON to stdout as in Lambda.
    env: { LOG_LEVEL: 'DEBUG', POWERTOOLS_DEV: '' },
  },
});
