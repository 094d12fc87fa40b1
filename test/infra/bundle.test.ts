// The one test that bundles for real, as `cdk synth` does, and runs what would be deployed: ESM output with
// CommonJS dependencies inside fails only at import time (Powertools #2290), so import it and call it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployedFunctions } from '../../infra/bundling.js';
import { PartnerOrdersStack } from '../../infra/stack.js';
import { httpEvent, lambdaContext } from '../support/events.js';

describe('deployed bundles', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'partner-orders-synth-'));
  let assets: Record<string, string>;

  beforeAll(() => {
    const app = new App({ outdir });
    const stack = new PartnerOrdersStack(app, 'Bundled');
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
    };
    assets = Object.fromEntries(
      Object.entries(template.Resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        // The asset's S3 key is `<hash>.zip`; its staged folder in the cloud assembly is `asset.<hash>`.
        .map(([id, r]) => [id, join(outdir, `asset.${r.Properties.Code?.S3Key?.replace(/\.zip$/, '')}`, 'index.mjs')]),
    );
  }, 240_000);

  it('are ESM files that load and answer a bad request with a problem', () => {
    expect(Object.keys(assets)).toHaveLength(deployedFunctions.length);
    for (const [id, file] of Object.entries(assets)) {
      // The event consumer, the keeper, the tracker and the reconciler are only loaded: answering needs SQS records,
      // EventBridge, DynamoDB or Secrets Manager.
      const call = ['OrderEvents', 'TokenKeeper', 'TrackProvisioning', 'ReconcilePurchases'].some((name) =>
        id.startsWith(name),
      )
        ? 'const result = { statusCode: 400, headers: { "Content-Type": "application/problem+json" } };'
        : id.startsWith('InvokePurchase')
          ? // Direct invocation answers a problem object (RFC 9457 fields), not an HTTP response.
            `const context = { ...${JSON.stringify(lambdaContext())}, getRemainingTimeInMillis: () => 29000 };
             const problem = await handler({ command: 'CreateOrder', customerId: 'x' }, context);
             const result = { statusCode: problem.status, headers: { 'Content-Type': problem.type.startsWith('urn:partner-orders:problem:') ? 'application/problem+json' : '' } };`
          : `const event = ${JSON.stringify(
              id.startsWith('CredentialsHealth')
                ? httpEvent('GET /health/credentials', { query: { verbose: 'true' } })
                : httpEvent('POST /customers/{customerId}/orders', { pathParameters: { customerId: 'x' }, body: {} }),
            )};
           const context = { ...${JSON.stringify(lambdaContext())}, getRemainingTimeInMillis: () => 29000 };
           const result = await handler(event, context);`;
      const script = `
        const { handler } = await import(${JSON.stringify(file)});
        ${call}
        // fetch's undici is never compiled (docs/performance.md, "Cold start"): the alias for node:http reached CDK.
        const undici = process.moduleLoadList.some((m) => m.includes('undici'));
        process.stdout.write(JSON.stringify({ type: typeof handler, status: result.statusCode, contentType: result.headers['Content-Type'], undici }));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          PARTNER_CENTER_SECRET_ID: 'unused',
          LOG_LEVEL: 'SILENT',
        },
      }).toString();
      expect(JSON.parse(out), id).toEqual({
        type: 'function',
        status: 400,
        contentType: 'application/problem+json',
        undici: false,
      });
      // The credentials stand-in reached CDK too (infra/bundling.ts, `alias`): no SDK default chain in the asset.
      const { sources } = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[] };
      expect(
        sources.filter((source) => /credential-provider-(node|sso|ini)|nested-clients/.test(source)),
        id,
      ).toEqual([]);
      expect(
        sources.some((source) => source.endsWith('infra/builtins/aws-credentials.ts')),
        id,
      ).toBe(true);
    }
  }, 180_000);
});
