// What the cold-start work took out of the bundles stays out (docs/performance.md, "Cold start"): bundled as CDK does
// (infra/bundling.ts), each function is checked for what it must not carry or load.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedFunctions, entryOf, esbuildOptions } from '../../infra/bundling.js';

const outdir = mkdtempSync(join(tmpdir(), 'partner-orders-cold-test-'));
const bundles = new Map<string, { file: string; inputs: string[] }>();

beforeAll(async () => {
  await Promise.all(
    deployedFunctions.map(async (name) => {
      const file = join(outdir, name, 'index.mjs');
      const { metafile } = (await build(esbuildOptions(entryOf(name), file))) as { metafile: Metafile };
      bundles.set(name, { file, inputs: Object.keys(metafile.inputs) });
    }),
  );
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cold start: what the bundles do not carry', () => {
  it('the functions that only buy carry no subscription change code (it comes with the command: Command.guard)', () => {
    for (const name of ['create-order', 'create-cart']) {
      const subscriptionCode = (bundles.get(name)?.inputs ?? []).filter(
        (input) =>
          input.includes('functions/shared/subscriptions/') &&
          // The seat reduction's record shares the table's wiring (dependencies.ts), and its errors the problem types.
          !/subscriptions\/(intents|errors)\.ts$/.test(input),
      );
      expect(subscriptionCode, name).toEqual([]);
    }
    // Those that change subscriptions still carry it.
    for (const name of ['subscriptions', 'invoke-purchase', 'order-events']) {
      expect(bundles.get(name)?.inputs, name).toContain('functions/shared/subscriptions/commands.ts');
    }
  });

  it('node:http is bundled as CommonJS sees it, in every function (an ESM import of it compiles undici)', () => {
    for (const name of deployedFunctions) {
      expect(bundles.get(name)?.inputs, name).toContain('infra/builtins/http.cjs');
    }
  });

  it('no function compiles undici (fetch) when it loads', () => {
    for (const name of deployedFunctions) {
      const file = bundles.get(name)?.file ?? '';
      const script = `await import(${JSON.stringify(file)});
        process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => m.includes('undici'))));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          PARTNER_CENTER_SECRET_ID: 'unused',
          LOG_LEVEL: 'SILENT',
        },
      }).toString();
      expect(JSON.parse(out), name).toEqual([]);
    }
  }, 120_000);
});
