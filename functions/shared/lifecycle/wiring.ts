// What the after-purchase functions (status, track-provisioning, reconcile-purchases) are built from, once per
// container: the Partner Center client, and on the idempotency table the store's reads, the journals and the polling
// budget. Lighter than dependencies.ts: no catalog, no policy, no purchase settings.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Config, readConfig } from '../config.js';
import type { PurchaseJournals } from '../exactly-once/journals.js';
import { dynamoDBIdempotency, IDEMPOTENCY_CLIENT_CONFIG, type IdempotencyStore } from '../idempotency.js';
import type { PartnerCenterClient } from '../partner-center/client.js';
import { partnerCenterFrom } from '../partner-center/from-config.js';
import { dynamoDBPollBudget, type PollBudget } from './budget.js';
import { type LifecycleConfig, readLifecycleConfig } from './config.js';

export interface LifecycleWiring {
  config: Config;
  lifecycle: LifecycleConfig;
  partnerCenter: PartnerCenterClient;
  /** Absent without IDEMPOTENCY_TABLE_NAME. */
  table?: { idempotency: IdempotencyStore; journals: PurchaseJournals; budget: PollBudget };
}

export function lifecycleWiring(
  config: Config = readConfig(),
  lifecycle: LifecycleConfig = readLifecycleConfig(),
): LifecycleWiring {
  const { partnerCenter } = partnerCenterFrom(config);
  const tableName = config.idempotencyTableName;
  if (!tableName) return { config, lifecycle, partnerCenter };
  const client = new DynamoDBClient(IDEMPOTENCY_CLIENT_CONFIG);
  const idempotency = dynamoDBIdempotency({ tableName, expiresAfterSeconds: config.idempotencyTtlSeconds, client });
  return {
    config,
    lifecycle,
    partnerCenter,
    table: {
      idempotency,
      journals: idempotency.journals as PurchaseJournals,
      budget: dynamoDBPollBudget({ tableName, client, perMinute: lifecycle.pollBudgetPerMinute }),
    },
  };
}
