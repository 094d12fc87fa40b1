// The whole local stack for integration tests: the Partner Center simulator, the real handlers wired from
// configuration exactly as in Lambda, and the local server in front, all on loopback.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readConfig } from '../../functions/shared/config.js';
import { secretsManagerCredentials } from '../../functions/shared/credentials.js';
import { createDependencies } from '../../functions/shared/dependencies.js';
import { DuplicateGuard } from '../../functions/shared/duplicates/guard.js';
import { dynamoDBRecentPurchases } from '../../functions/shared/duplicates/recent.js';
import { dynamoDBIdempotency } from '../../functions/shared/idempotency.js';
import { identityFrom } from '../../functions/shared/identity/http.js';
import { provisioningTracking } from '../../functions/shared/lifecycle/tracking.js';
import { logger } from '../../functions/shared/log.js';
import { dynamoDBQuotes } from '../../functions/shared/mcp/dynamodb-quotes.js';
import { PartnerCenterClient, type PartnerCenterClientOptions } from '../../functions/shared/partner-center/client.js';
import type { PurchasePolicy } from '../../functions/shared/policy/check.js';
import { ReadPolicy } from '../../functions/shared/policy/read.js';
import { dynamoDBIntents } from '../../functions/shared/subscriptions/intents.js';
import { createLocalApp } from '../../local/app.js';
import { createIdempotencyTable, type LocalDynamoDB, startDynamoDB } from '../../local/dynamodb.js';
import {
  DEFAULT_SIMULATOR_CREDENTIALS,
  PartnerCenterSimulator,
  type SimulatorOptions,
} from '../../local/simulator/index.js';
import { MemoryTrackingQueue } from '../../local/tracking-queue.js';
import { ALLOW_ALL_POLICY, localPolicy } from './policy.js';
import type { FakeSecretsManager } from './secrets-manager.js';

export interface Stack {
  url: string;
  simulator: PartnerCenterSimulator;
  /** The dependencies the handlers were built with (to build more handlers on the same simulator). */
  deps: Parameters<typeof createLocalApp>[0] & { readPolicy: Pick<ReadPolicy, 'check'> };
  /** The dynalite behind the idempotency store, when asked for. */
  dynamodb?: LocalDynamoDB;
  /** The provisioning tracking delay queue every purchase puts its orders on, when asked for. */
  tracking?: MemoryTrackingQueue;
  request: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string | undefined>,
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of every shape
  ) => Promise<{ status: number; headers: Headers; json: any }>;
  stop: () => Promise<void>;
}

/** The stack as `npm start` runs it: an idempotency store, the catalog pre-flight on, a simulator that checks purchases. */
export const AS_NPM_START = {
  idempotency: {},
  policy: 'local',
  env: { PREFLIGHT: 'on' },
  simulator: { catalogChecks: true },
} as const satisfies Parameters<typeof startStack>[0];

export async function startStack(
  options: {
    simulator?: SimulatorOptions;
    env?: Record<string, string>;
    /** POST /mcp lists the tools that buy (MCP_WRITES); its quotes are kept on the dynalite table when there is one. */
    mcp?: { writes?: boolean };
    /** Read the credentials from this Secrets Manager stand-in (secret id `partner-center`) instead of the env. */
    secrets?: { fake: FakeSecretsManager; endpoint: string };
    /** Run the idempotency store on dynalite (table created), with this key lifetime. */
    idempotency?: { expiresAfterSeconds?: number };
    /**
     * Options for the Partner Center client on top of the configured ones (e.g. a scaled-down `sleep`, a small
     * `baseDelayMs`). `onRetry` is called besides the usual log line.
     */
    client?: Partial<Omit<PartnerCenterClientOptions, 'baseUrl' | 'tokens'>>;
    /**
     * The purchase policy: allow-all unless a test names one; `local` is npm start's (policies/ and policies/local/:
     * allow-all plus the guardrails).
     */
    policy?: PurchasePolicy | 'local';
    /**
     * The possible-duplicate guard (duplicates/, on in `npm start` and a deployment) over the dynalite store, with this
     * window in hours; off unless asked, since most suites buy the same lines again on purpose.
     */
    duplicates?: { windowHours?: number; now?: () => number };
    /** Follow placed orders (lifecycle/tracking.ts) on an in-memory delay queue: its poll schedule and clock. */
    tracking?: { delays?: readonly number[]; now?: () => number };
    /** The clock refund windows are judged by (the simulator's, to move both to day 8). */
    subscriptions?: { now?: () => number };
  } = {},
): Promise<Stack> {
  const simulator = new PartnerCenterSimulator(options.simulator);
  const simulatorUrl = await simulator.start();
  const config = readConfig({
    PARTNER_CENTER_URL: simulatorUrl,
    PARTNER_CENTER_AUTHORITY_URL: simulatorUrl,
    PARTNER_CENTER_CREDENTIALS: JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS),
    // A stack without an idempotency store cannot take keys: it runs as a deployment that made them optional.
    ...(options.idempotency ? {} : { IDEMPOTENCY_KEY_REQUIRED: 'false' }),
    // Pauses between the checkouts of a cart within one request, scaled down.
    PURCHASE_RETRY_DELAY_MS: '5',
    // The catalog pre-flight is on in a deployment (and `npm start`); suites about other things buy made-up catalog
    // ids and terms, so here it is off unless a test turns it on (`env: { PREFLIGHT: 'on' }`, with the simulator's
    // `catalogChecks` for purchases that Partner Center would refuse: test/integration/catalog.test.ts).
    PREFLIGHT: 'off',
    ...options.env,
  });
  const credentials = options.secrets
    ? secretsManagerCredentials({
        secretId: 'partner-center',
        ttlMs: config.credentialsTtlMs,
        client: new SecretsManagerClient({
          endpoint: options.secrets.endpoint,
          region: 'eu-west-1',
          credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
        }),
      })
    : undefined;
  const dynamodb = options.idempotency ? await startDynamoDB() : undefined;
  if (dynamodb) await createIdempotencyTable(dynamodb.client, 'idempotency');
  const base = { ...createDependencies(config, credentials), identity: identityFrom(config) };
  const clientOptions = options.client;
  if (clientOptions) {
    base.partnerCenter = new PartnerCenterClient({
      baseUrl: config.partnerCenterUrl,
      tokens: base.tokens,
      applicationName: config.applicationName,
      attemptTimeoutMs: config.attemptTimeoutMs,
      ...clientOptions,
      onRetry: (event) => {
        logger.warn('retrying Partner Center call', {
          attempt: event.attempt,
          reason: event.reason,
          delayMs: event.delayMs,
          upstreamRequestId: event.ids.requestId,
        });
        clientOptions.onRetry?.(event);
      },
    });
  }
  const policy = options.policy === 'local' ? localPolicy() : (options.policy ?? ALLOW_ALL_POLICY);
  const deps = {
    ...base,
    policy,
    // Reads judged by the same policy's engine, as the local server does (local/app.ts).
    readPolicy: new ReadPolicy(policy.engine),
    ...(dynamodb
      ? {
          idempotency: dynamoDBIdempotency({
            tableName: 'idempotency',
            expiresAfterSeconds: options.idempotency?.expiresAfterSeconds ?? config.idempotencyTtlSeconds,
            client: dynamodb.client,
          }),
        }
      : {}),
    subscriptions: {
      ...(dynamodb
        ? {
            intents: dynamoDBIntents({
              tableName: 'idempotency',
              client: dynamodb.client,
              expiresAfterSeconds: config.idempotencyTtlSeconds,
            }),
          }
        : {}),
      ...(options.subscriptions?.now ? { now: options.subscriptions.now } : {}),
    },
  };
  if (dynamodb && options.duplicates) {
    Object.assign(deps, {
      duplicates: new DuplicateGuard({
        recent: dynamoDBRecentPurchases({ client: dynamodb.client, tableName: 'idempotency' }),
        windowMs: (options.duplicates.windowHours ?? 24) * 3_600_000,
        ...(options.duplicates.now ? { now: options.duplicates.now } : {}),
      }),
    });
  }
  const tracking = options.tracking && new MemoryTrackingQueue(options.tracking.now);
  if (tracking) {
    Object.assign(deps, {
      tracking: provisioningTracking(tracking, {
        delays: options.tracking?.delays ?? [60, 120, 300, 600, 900],
        ...(options.tracking?.now ? { now: options.tracking.now } : {}),
      }),
    });
  }
  const server = createLocalApp(deps, {
    mcp: {
      writes: options.mcp?.writes ?? false,
      ...(dynamodb
        ? {
            quotes: dynamoDBQuotes({
              tableName: 'idempotency',
              client: dynamodb.client,
              placedTtlSeconds: config.idempotencyTtlSeconds,
            }),
          }
        : {}),
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    simulator,
    deps,
    ...(dynamodb ? { dynamodb } : {}),
    ...(tracking ? { tracking } : {}),
    request: async (method, path, body, headers = {}) => {
      // With a store, a purchase that names no key gets a fresh one (keys are required); a test about the key itself
      // names it, or sets it to undefined to send none.
      const autoKey =
        dynamodb && method !== 'GET' && !Object.hasOwn(headers, 'Idempotency-Key') && !path.includes('dryRun=true')
          ? { 'Idempotency-Key': `auto-${randomUUID()}` }
          : {};
      const sent = Object.fromEntries(
        Object.entries({ ...autoKey, ...headers }).filter((entry): entry is [string, string] => entry[1] !== undefined),
      );
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...sent },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await simulator.stop();
      await dynamodb?.stop();
    },
  };
}
