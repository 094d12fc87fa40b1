// Wires the shared pieces from configuration, once per container: clients are built at module load (no I/O);
// credentials are read on first use and cached.
import type { TokenProvider } from './auth.js';
import { Preflight } from './catalog/preflight.js';
import { Catalog } from './catalog/reads.js';
import { type Config, readConfig } from './config.js';
import { type CredentialsSource, credentialsFrom } from './credentials.js';
import type { HttpDependencies } from './http.js';
import { dynamoDBIdempotency } from './idempotency.js';
import { readLifecycleConfig } from './lifecycle/config.js';
import { provisioningTracking, sqsTrackingQueue } from './lifecycle/tracking.js';
import { partnerCenterFrom } from './partner-center/from-config.js';
import { UNCONFIGURED_POLICY, VerifiedPermissionsEngine } from './policy/avp.js';
import { PurchasePolicy } from './policy/check.js';

export function createDependencies(
  config: Config = readConfig(),
  credentials: CredentialsSource = credentialsFrom(config),
): HttpDependencies & {
  tokens: TokenProvider;
  credentials: CredentialsSource;
  authorityUrl: string;
  catalog: Catalog;
} {
  const { tokens, partnerCenter } = partnerCenterFrom(config, credentials);
  const idempotency = config.idempotencyTableName
    ? dynamoDBIdempotency({ tableName: config.idempotencyTableName, expiresAfterSeconds: config.idempotencyTtlSeconds })
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
    requireIdempotencyKey: config.requireIdempotencyKey,
    policy: new PurchasePolicy(
      config.policyStoreId
        ? new VerifiedPermissionsEngine({ policyStoreId: config.policyStoreId })
        : UNCONFIGURED_POLICY,
    ),
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
