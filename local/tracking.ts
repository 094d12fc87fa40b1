// Provisioning tracking under `npm start`: purchases put their orders on an in-memory delay queue, and every second the
// messages that are due go to the real track-provisioning handler, on the same simulator and the same polling budget
// (in-process DynamoDB). What would be published on the bus is logged ("(local) would publish …"). The schedule is
// the deployed one (PROVISIONING_POLL_DELAYS_SECONDS to shorten it, e.g. `5,10,30`).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { IDEMPOTENCY_CLIENT_CONFIG } from '../functions/shared/idempotency.js';
import { dynamoDBPollBudget } from '../functions/shared/lifecycle/budget.js';
import { readLifecycleConfig } from '../functions/shared/lifecycle/config.js';
import { type ProvisioningTracking, provisioningTracking } from '../functions/shared/lifecycle/tracking.js';
import { logger } from '../functions/shared/log.js';
import type { ServiceContext } from '../functions/shared/services/context.js';
import { createHandler as createTrackerHandler } from '../functions/track-provisioning/handler.js';
import { toContext } from './api-gateway.js';
import { deliverEvery, MemoryTrackingQueue } from './tracking-queue.js';

export function localTracking(
  partnerCenter: ServiceContext['partnerCenter'],
  tableName: string | undefined,
): { tracking: ProvisioningTracking; stop: () => void } {
  const lifecycle = readLifecycleConfig();
  const queue = new MemoryTrackingQueue();
  const handler = createTrackerHandler({
    partnerCenter,
    queue,
    publish: async (events) => {
      for (const event of events) logger.info(`(local) would publish ${event.detailType}`, { detail: event.detail });
    },
    budget: tableName
      ? dynamoDBPollBudget({
          tableName,
          client: new DynamoDBClient(IDEMPOTENCY_CLIENT_CONFIG),
          perMinute: lifecycle.pollBudgetPerMinute,
        })
      : { take: async () => true },
    windowMs: lifecycle.trackingWindowMs,
    delays: lifecycle.pollDelaysSeconds,
  });
  const stop = deliverEvery(queue, (records) =>
    handler({ Records: records } as SQSEvent, toContext('track-provisioning', 60_000)),
  );
  return { tracking: provisioningTracking(queue, { delays: lifecycle.pollDelaysSeconds }), stop };
}
