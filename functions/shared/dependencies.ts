// Wires the shared pieces from configuration, once per container: clients are built at module load (no I/O);
// credentials are read on first use and cached.
import { TokenProvider } from './auth.js';
import { type Config, readConfig } from './config.js';
import { type CredentialsSource, secretsManagerCredentials, staticCredentials } from './credentials.js';
import { CredentialsError } from './errors.js';
import type { HttpDependencies } from './http.js';
import { dynamoDBIdempotency } from './idempotency.js';
import { logger } from './log.js';
import { PartnerCenterClient } from './partner-center/client.js';

function credentialsFrom(config: Config): CredentialsSource {
  if (config.secretId) return secretsManagerCredentials({ secretId: config.secretId, ttlMs: config.credentialsTtlMs });
  if (config.credentialsJson) {
    const json = config.credentialsJson;
    let source: CredentialsSource | undefined;
    // Parsed on first use so that a malformed value is a 502 problem on a request, not a crash at start-up.
    return {
      load: (options) => {
        source ??= staticCredentials(json);
        return source.load(options);
      },
    };
  }
  const missing = new CredentialsError('No Partner Center credentials configured (PARTNER_CENTER_SECRET_ID)');
  return { load: () => Promise.reject(missing) };
}

export function createDependencies(
  config: Config = readConfig(),
  credentials: CredentialsSource = credentialsFrom(config),
): HttpDependencies & { tokens: TokenProvider } {
  const tokens = new TokenProvider({ authorityUrl: config.authorityUrl, credentials });
  const partnerCenter = new PartnerCenterClient({
    baseUrl: config.partnerCenterUrl,
    tokens,
    applicationName: config.applicationName,
    attemptTimeoutMs: config.attemptTimeoutMs,
    onRetry: ({ attempt, reason, delayMs, ids }) =>
      logger.warn('retrying Partner Center call', { attempt, reason, delayMs, upstreamRequestId: ids.requestId }),
  });
  const idempotency = config.idempotencyTableName
    ? dynamoDBIdempotency({ tableName: config.idempotencyTableName, expiresAfterSeconds: config.idempotencyTtlSeconds })
    : undefined;
  return {
    partnerCenter,
    tokens,
    ...(idempotency ? { idempotency } : {}),
    maxRequestMs: config.maxRequestMs,
    deadlineMarginMs: config.deadlineMarginMs,
  };
}
