// Scheduled (EventBridge, daily by default): redeem the stored refresh token and write the one Entra ID hands back as
// a new secret version, so the token never reaches its 90 days of inactivity. Concurrent keepers are safe (the write
// is optimistic and checks the version it read is still current); reserved concurrency 1 is a deploy option.
// Metrics (EMF, namespace partner-orders): RefreshTokenAgeDays, CredentialCheckFailed — both alarmed in the stack.

import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { readConfig } from '../shared/config.js';
import { SECRETS_MANAGER_CLIENT_CONFIG } from '../shared/credentials.js';
import { CredentialsError } from '../shared/errors.js';
import { injectLambdaContext, logger } from '../shared/log.js';
import { type KeeperOptions, type KeeperReport, keepCredentialsAlive } from '../shared/token-keeper.js';

export const METRICS_NAMESPACE = 'partner-orders';

export const createHandler = (
  options: KeeperOptions,
  metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'token-keeper' }),
) =>
  middy<unknown, KeeperReport, Error, Context>()
    .use(injectLambdaContext())
    .use(logMetrics(metrics, { throwOnEmptyMetrics: false }))
    .handler(async () => {
      try {
        const report = await keepCredentialsAlive(options);
        metrics.addMetric('CredentialCheckFailed', MetricUnit.Count, 0);
        if (report.refreshTokenAgeDays !== undefined) {
          metrics.addMetric('RefreshTokenAgeDays', MetricUnit.NoUnit, report.refreshTokenAgeDays);
        }
        logger.info(report.rotated ? 'refresh token rotated' : 'credentials checked', { ...report });
        return report;
      } catch (error) {
        metrics.addMetric('CredentialCheckFailed', MetricUnit.Count, 1);
        // The AADSTS code tells a person what to do (README, "Credentials"); the token itself is never logged.
        logger.error('credential check failed', {
          ...(error instanceof CredentialsError
            ? { credentialProblem: error.entra?.error, aadsts: error.entra?.aadsts, unavailable: error.unavailable }
            : {}),
          error,
        });
        throw error;
      }
    });

const config = readConfig();
export const handler = createHandler({
  client: new SecretsManagerClient(SECRETS_MANAGER_CLIENT_CONFIG),
  secretId: config.secretId ?? '',
  authorityUrl: config.authorityUrl,
});
