// Wires the shared pieces from configuration, once per container: clients are built at module load (no I/O);
// credentials are read on first use and cached.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TokenProvider } from './auth.js';
import { Preflight } from './catalog/preflight.js';
import { Catalog } from './catalog/reads.js';
import { type Config, readConfig } from './config.js';
import { type CredentialsSource, credentialsFrom } from './credentials.js';
import { DuplicateGuard } from './duplicates/guard.js';
import { dynamoDBRecentPurchases } from './duplicates/recent.js';
import type { HttpDependencies } from './http.js';
import { dynamoDBIdempotency, IDEMPOTENCY_CLIENT_CONFIG } from './idempotency.js';
import { readLifecycleConfig } from './lifecycle/config.js';
import { provisioningTracking, sqsTrackingQueue } from './lifecycle/tracking.js';
import { partnerCenterFrom } from './partner-center/from-config.js';
import { PurchasePolicy } from './policy/check.js';
import { policyEngineFromConfig } from './policy/from-config.js';
import { dynamoDBIntents } from './subscriptions/intents.js';

export function createDependencies(
  config: Config = readConfig(),
  credentials: CredentialsSource = credentialsFrom(config),
): Omit<HttpDependencies, 'identity'> & {
  tokens: TokenProvider;
  credentials: CredentialsSource;
  authorityUrl: string;
  catalog: Catalog;
} {
  const { tokens, partnerCenter } = partnerCenterFrom(config, credentials);
  const tableName = config.idempotencyTableName;
  const dynamodb = tableName ? new DynamoDBClient(IDEMPOTENCY_CLIENT_CONFIG) : undefined;
  const idempotency =
    tableName && dynamodb
      ? dynamoDBIdempotency({ tableName, expiresAfterSeconds: config.idempotencyTtlSeconds, client: dynamodb })
      : undefined;
  // One catalog per container: the pre-flight's reads and the catalog search share its cache.
  const catalog = new Catalog({ ttlMs: config.catalogCacheMs });
  return {
    partnerCenter,
    catalog,
    preflight: new Preflight({
      mode: config.preflight,
      ...(config.preflight === 'off' ? {} : { catalog }),
      timeoutMs: config.preflightTimeoutMs,
    }),
    tokens,
    credentials,
    authorityUrl: config.authorityUrl,
    ...(idempotency ? { idempotency } : {}),
    // A keyed seat reduction records its target on the same table before it is sent (subscriptions/intents.ts).
    ...(tableName && dynamodb
      ? {
          subscriptions: {
            intents: dynamoDBIntents({
              tableName,
              client: dynamodb,
              expiresAfterSeconds: config.idempotencyTtlSeconds,
            }),
          },
        }
      : {}),
    // Its records live in the same table (duplicates/recent.ts); DUPLICATE_WINDOW_HOURS=0 turns it off.
    ...(tableName && dynamodb && config.duplicateWindowMs > 0
      ? {
          duplicates: new DuplicateGuard({
            recent: dynamoDBRecentPurchases({ client: dynamodb, tableName }),
            windowMs: config.duplicateWindowMs,
          }),
        }
      : {}),
    requireIdempotencyKey: config.requireIdempotencyKey,
    policy: new PurchasePolicy(policyEngineFromConfig(config)),
    exactlyOnce: { retryDelayMs: config.purchaseRetryDelayMs },
    maxRequestMs: config.maxRequestMs,
    deadlineMarginMs: config.deadlineMarginMs,
    ...trackingFrom(),
  };
}

/** Provisioning tracking (lifecycle/tracking.ts) when the stack gave the delay queue (TRACKING_QUEUE_URL). */
function trackingFrom(lifecycle = readLifecycleConfig()) {
  const url = lifecycle.trackingQueueUrl;
  return url ? { tracking: provisioningTracking(sqsTrackingQueue(url), { delays: lifecycle.pollDelaysSeconds }) } : {};
}
