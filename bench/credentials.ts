// Credential reuse: how often a warm container calls Secrets Manager (GetSecretValue, the real SDK client against the
// loopback stand-in of test/support/secrets-manager.ts) and Entra ID (token requests to the instant upstream).
//
// Each phase is a fresh container (its own createDependencies, its own secret and tenant, so the counts cannot mix):
//   warm      1,000 sequential invocations: one read and one token for the whole run, none per request.
//   cold burst 50 invocations at once on a container that has nothing yet: still one read and one token.
//   both expire  credentials TTL 1 s and a token of 302 s (inside the 300 s renewal margin after 2 s), then 50
//              invocations at once: one more read and one more token, shared by all 50 (no stampede).
//   credentials only  credentials TTL 0.5 s, token 3600 s, then 50 at once: no read and no token at all — credentials
//              are read when a token must be redeemed (or after a 401), not on their own TTL.
//
// `tsx bench/credentials.ts` runs this part alone.
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createHandler as createOrderHandler } from '../functions/create-order/handler.js';
import { readConfig } from '../functions/shared/config.js';
import { secretsManagerCredentials } from '../functions/shared/credentials.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import { iamIdentity } from '../functions/shared/identity/http.js';
import { PurchasePolicy } from '../functions/shared/policy/check.js';
import { localPolicyEngine } from '../functions/shared/policy/local.js';
import { httpEvent } from '../test/support/events.js';
import { FakeSecretsManager } from '../test/support/secrets-manager.js';
import { orderBody } from './bodies.js';
import { type RunningUpstream, startUpstream } from './upstream.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';

export interface PhaseCounts {
  phase: string;
  invocations: number;
  concurrency: number;
  /** GetSecretValue calls and token requests during this phase (after the container's earlier phases). */
  getSecretValue: number;
  tokenRequests: number;
  expected: { getSecretValue: number; tokenRequests: number };
  met: boolean;
}

export interface CredentialReuseResult {
  phases: PhaseCounts[];
  /** Per request, over the warm phase after the first invocation. */
  perRequest: { getSecretValue: number; tokenRequests: number };
  met: boolean;
}

const context = () =>
  ({ functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 29_000 }) as never;

export async function measureCredentialReuse(
  options: { invocations?: number; burst?: number; upstream?: RunningUpstream } = {},
): Promise<CredentialReuseResult> {
  const invocations = options.invocations ?? 1000;
  const burst = options.burst ?? 50;
  const upstream = options.upstream ?? (await startUpstream());
  const secrets = new FakeSecretsManager();
  const endpoint = await secrets.start();
  const client = new SecretsManagerClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
  });
  let containers = 0;

  /** A fresh container: its own secret (and tenant, which sets the token lifetime upstream), its own caches. */
  const container = (tenantId: string, ttlSeconds: string) => {
    const secretId = `partner-center-${++containers}`;
    secrets.put(
      secretId,
      JSON.stringify({ tenantId, clientId: 'bench-client', clientSecret: 'bench-secret', refreshToken: 'bench-rt' }),
    );
    const config = readConfig({
      PARTNER_CENTER_URL: upstream.url,
      PARTNER_CENTER_AUTHORITY_URL: upstream.url,
      CREDENTIALS_TTL_SECONDS: ttlSeconds,
      // Reads and tokens are counted per request without a key (no idempotency store here).
      IDEMPOTENCY_KEY_REQUIRED: 'false',
    });
    const deps = {
      ...createDependencies(config, secretsManagerCredentials({ secretId, ttlMs: config.credentialsTtlMs, client })),
      identity: iamIdentity,
      // The local server's policy, decided in the process: the purchase policy reads no secret and asks for no token.
      policy: new PurchasePolicy(localPolicyEngine()),
    };
    const handler = createOrderHandler(deps);
    const invoke = async () => {
      const result = await handler(
        httpEvent('POST /customers/{customerId}/orders', {
          pathParameters: { customerId: CUSTOMER },
          body: orderBody(1),
        }),
        context(),
      );
      if (result.statusCode !== 201)
        throw new Error(`credentials bench: answered ${result.statusCode}: ${result.body}`);
    };
    const counts = async () => ({
      getSecretValue: secrets.calls.filter((c) => c.target === 'GetSecretValue' && c.body.SecretId === secretId).length,
      tokenRequests: (await upstream.stats()).tokens[tenantId] ?? 0,
    });
    return { invoke, counts };
  };

  const phases: PhaseCounts[] = [];
  const phase = async (
    name: string,
    c: ReturnType<typeof container>,
    run: () => Promise<unknown>,
    shape: { invocations: number; concurrency: number },
    expected: PhaseCounts['expected'],
  ) => {
    const before = await c.counts();
    await run();
    const after = await c.counts();
    const counts = {
      getSecretValue: after.getSecretValue - before.getSecretValue,
      tokenRequests: after.tokenRequests - before.tokenRequests,
    };
    phases.push({
      phase: name,
      ...shape,
      ...counts,
      expected,
      met: counts.getSecretValue === expected.getSecretValue && counts.tokenRequests === expected.tokenRequests,
    });
  };
  const concurrently = (c: ReturnType<typeof container>, n: number) => () =>
    Promise.all(Array.from({ length: n }, () => c.invoke()));

  try {
    // 1. A warm container: the first invocation reads and redeems, the next 999 reuse.
    const warm = container('bench-warm', '300');
    await phase(
      'first invocation',
      warm,
      warm.invoke,
      { invocations: 1, concurrency: 1 },
      {
        getSecretValue: 1,
        tokenRequests: 1,
      },
    );
    await phase(
      `next ${invocations - 1} invocations (warm)`,
      warm,
      async () => {
        for (let i = 1; i < invocations; i++) await warm.invoke();
      },
      { invocations: invocations - 1, concurrency: 1 },
      { getSecretValue: 0, tokenRequests: 0 },
    );
    // 2. A new container hit by a burst before it has anything cached.
    const cold = container('bench-cold', '300');
    await phase(
      `${burst} at once on a new container`,
      cold,
      concurrently(cold, burst),
      {
        invocations: burst,
        concurrency: burst,
      },
      { getSecretValue: 1, tokenRequests: 1 },
    );
    // 3. Credentials TTL (1 s) and token (302 s lifetime, renewed 300 s early) both run out.
    const both = container('bench-exp-302', '1');
    await both.invoke();
    await sleep(2_200);
    await phase(
      `${burst} at once after TTL and token renewal time`,
      both,
      concurrently(both, burst),
      {
        invocations: burst,
        concurrency: burst,
      },
      { getSecretValue: 1, tokenRequests: 1 },
    );
    // 4. Only the credentials TTL (0.5 s) runs out; the token (3600 s) is still good.
    const creds = container('bench-long-token', '0.5');
    await creds.invoke();
    await sleep(700);
    await phase(
      `${burst} at once after the credentials TTL only`,
      creds,
      concurrently(creds, burst),
      {
        invocations: burst,
        concurrency: burst,
      },
      { getSecretValue: 0, tokenRequests: 0 },
    );
  } finally {
    client.destroy();
    await secrets.stop();
    if (!options.upstream) await upstream.stop();
  }
  const steady = phases[1];
  return {
    phases,
    perRequest: {
      getSecretValue: (steady?.getSecretValue ?? Number.NaN) / (steady?.invocations ?? 1),
      tokenRequests: (steady?.tokenRequests ?? Number.NaN) / (steady?.invocations ?? 1),
    },
    met: phases.every((p) => p.met),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureCredentialReuse(), null, 2));
}
