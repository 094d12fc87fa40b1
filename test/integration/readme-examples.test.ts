import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examples } from '../../local/examples.js';
import { README, withExamples } from '../../scripts/readme-examples.js';
import { AS_NPM_START, type Stack, startStack } from '../support/stack.js';

const run = promisify(execFile);

describe('README curl examples', () => {
  let stack: Stack;
  beforeAll(async () => {
    // dynalite behind the idempotency store, the catalog pre-flight and the possible-duplicate guard on
    stack = await startStack({ ...AS_NPM_START, duplicates: {} });
  });
  afterAll(() => stack.stop());

  it('are the ones in local/examples.ts (run `npm run docs` after changing them)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).toBe(withExamples(readme));
    expect(readme).toContain('<!-- examples:start -->');
  });

  it.each(examples.map((e) => [e.title, e]))('work as printed: %s', async (title, example) => {
    const { stdout } = await run('bash', ['-c', example.command(stack.url)], { env: process.env });
    const answer = JSON.parse(stdout);
    if (title.startsWith('A bad request')) {
      expect(answer).toMatchObject({ status: 400, type: 'urn:partner-orders:problem:validation' });
      expect(answer.errors.map((e: { path: string }) => e.path)).toEqual(
        expect.arrayContaining([
          '/path/customerId',
          '/body/lineItems/0/offerId',
          '/body/lineItems/0/quantity',
          '/body/lineItems/0/quantiy',
        ]),
      );
    } else if (title.startsWith('Find what to buy')) {
      // The order examples' catalog id is the simulator's; this one finds E3's, ready to paste.
      expect(answer.products[0]).toMatchObject({ productId: 'CFQ7TTC0LFLZ', title: 'Microsoft 365 E3' });
      expect(answer.products[0].skus[0].availabilities[0].catalogItemId).toMatch(/^CFQ7TTC0LFLZ:0001:\w+$/);
    } else {
      expect(answer.type, JSON.stringify(answer)).toBeUndefined(); // not a problem
      // With the pre-flight on (as `npm start` runs), the dry run says the catalog accepts the order.
      if (answer.dryRun) expect(answer.preflight).toMatchObject({ mode: 'on', verdict: 'pass' });
      expect(
        answer.id ??
          answer.cart?.id ??
          answer.orders?.[0]?.id ??
          answer.requests?.[0]?.url ??
          answer.outcomes?.[0]?.detail.result.id ??
          answer.tokenAcquired,
      ).toBeTruthy();
    }
  });
});
