// The Partner Center client and its token source as configured, for every function that talks to Partner Center
// (the purchase functions' dependencies.ts and the after-purchase functions' lifecycle/wiring.ts).
import { TokenProvider } from '../auth.js';
import type { Config } from '../config.js';
import { type CredentialsSource, credentialsFrom } from '../credentials.js';
import { logger } from '../log.js';
import { PartnerCenterClient } from './client.js';

export function partnerCenterFrom(config: Config, credentials: CredentialsSource = credentialsFrom(config)) {
  const tokens = new TokenProvider({ authorityUrl: config.authorityUrl, credentials });
  const partnerCenter = new PartnerCenterClient({
    baseUrl: config.partnerCenterUrl,
    tokens,
    applicationName: config.applicationName,
    attemptTimeoutMs: config.attemptTimeoutMs,
    onRetry: ({ attempt, reason, delayMs, ids }) =>
      logger.warn('retrying Partner Center call', { attempt, reason, delayMs, upstreamRequestId: ids.requestId }),
  });
  return { tokens, partnerCenter };
}
