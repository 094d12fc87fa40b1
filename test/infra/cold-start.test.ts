// What the cold-start work took out of the bundles stays out (docs/performance.md, "Cold start"): bundled as CDK does
// (infra/bundling.ts), each function is checked for what it must not carry or load.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../infra/builtins/aws-credentials.js';
import { deployedFunctions, entryOf, esbuildOptions } from '../../infra/bundling.js';
import { httpEvent, lambdaContext } from '../support/events.js';

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

/** The SDK's default chain beyond its environment link: what the deployed bundles leave out. */
const CHAIN_BEYOND_ENV =
  /@aws-sdk\/(credential-provider-(node|sso|ini|process|web-identity|http|login)|nested-clients|token-providers)\/|@smithy\/credential-provider-imds\//;

describe('AWS credentials in the deployed bundles (infra/builtins/aws-credentials.ts)', () => {
  it("no bundle carries the SDK's default chain beyond the environment (SSO, STS, ini files, process, metadata)", () => {
    for (const name of deployedFunctions) {
      const inputs = bundles.get(name)?.inputs ?? [];
      expect(
        inputs.filter((input) => CHAIN_BEYOND_ENV.test(input)),
        name,
      ).toEqual([]);
      // Every function holds an AWS client, and its credentials come from the stand-in.
      expect(inputs, name).toContain('infra/builtins/aws-credentials.ts');
    }
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('one provider for every client, whatever each passes; it reads the environment on each call (an expiry too)', async () => {
    expect(defaultProvider({ profile: 'dev' })).toBe(defaultProvider());
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFIRST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'first');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-1');
    vi.stubEnv('AWS_CREDENTIAL_EXPIRATION', '2026-12-05T12:00:00Z');
    expect(await defaultProvider()()).toMatchObject({
      accessKeyId: 'AKIDFIRST',
      secretAccessKey: 'first',
      sessionToken: 'session-1',
      expiration: new Date('2026-12-05T12:00:00Z'),
    });
    // Refreshed credentials in the environment are what the next call (a signer's refresh before expiry) returns.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDSECOND');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-2');
    expect(await defaultProvider()()).toMatchObject({ accessKeyId: 'AKIDSECOND', sessionToken: 'session-2' });
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    await expect(defaultProvider()()).rejects.toThrow(/No AWS credentials in the environment/);
  });

  /** A loopback Secrets Manager and Entra ID token endpoint that records how each AWS request was signed. */
  async function loopback() {
    const signed: { target: string; authorization: string; sessionToken: string }[] = [];
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const target = String(request.headers['x-amz-target'] ?? '');
        if (target) {
          signed.push({
            target,
            authorization: String(request.headers.authorization ?? ''),
            sessionToken: String(request.headers['x-amz-security-token'] ?? ''),
          });
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          response.end(
            JSON.stringify({
              ARN: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:pc',
              Name: 'pc',
              VersionId: 'v1',
              SecretString: JSON.stringify({ tenantId: 'tenant', clientId: 'client', clientSecret: 'secret' }),
              CreatedDate: Date.now() / 1000,
            }),
          );
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ token_type: 'Bearer', access_token: 'token', expires_in: 3600 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url, signed, stop: () => new Promise((resolve) => server.close(resolve)) };
  }

  /** credentials-health's bundle, called once in a fresh process: it reads its secret (Secrets Manager) first. */
  async function healthCheck(url: string, env: Record<string, string>) {
    const script = `const { handler } = await import(${JSON.stringify(bundles.get('credentials-health')?.file)});
      const context = { ...${JSON.stringify(lambdaContext())}, getRemainingTimeInMillis: () => 20000 };
      const result = await handler(${JSON.stringify(httpEvent('GET /health/credentials'))}, context);
      process.stdout.write('\\n@@' + JSON.stringify({ status: result.statusCode }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
        PARTNER_CENTER_AUTHORITY_URL: url,
        PARTNER_CENTER_URL: url,
        PARTNER_CENTER_SECRET_ID: 'pc',
        LOG_LEVEL: 'ERROR',
        ...env,
      },
    });
    const [logs = '', answer = '{}'] = stdout.split('\n@@');
    return { status: (JSON.parse(answer) as { status: number }).status, logs };
  }

  it("a bundled function signs with the role's session credentials Lambda puts in its environment", async () => {
    const server = await loopback();
    try {
      const { status } = await healthCheck(server.url, {
        AWS_ACCESS_KEY_ID: 'AKIDLAMBDAROLE',
        AWS_SECRET_ACCESS_KEY: 'role-secret',
        AWS_SESSION_TOKEN: 'role-session-token',
      });
      expect(status).toBe(200);
      expect(server.signed).toEqual([
        {
          target: 'secretsmanager.GetSecretValue',
          authorization: expect.stringContaining('Credential=AKIDLAMBDAROLE/'),
          sessionToken: 'role-session-token',
        },
      ]);
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('without them it fails at once, naming the cause: no shared credentials file is read, no metadata service asked', async () => {
    // A default profile on disk, which the SDK's full chain would take: a deployed bundle must not.
    const home = mkdtempSync(join(tmpdir(), 'partner-orders-home-'));
    mkdirSync(join(home, '.aws'));
    writeFileSync(
      join(home, '.aws', 'credentials'),
      '[default]\naws_access_key_id = AKIDFROMFILE\naws_secret_access_key = file\n',
    );
    const server = await loopback();
    try {
      const { status, logs } = await healthCheck(server.url, { HOME: home });
      expect(status).toBe(503);
      expect(server.signed).toEqual([]);
      // The secret could not be read for want of credentials (a log line names the error, never its message).
      expect(logs).toContain('Could not read the Partner Center credentials secret (CredentialsProviderError)');
    } finally {
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
