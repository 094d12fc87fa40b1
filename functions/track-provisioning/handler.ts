// The tracking delay queue's consumer: one poll per message (lifecycle/tracking.ts), partial batch failures. A message
// that could not be handled (the next poll not queued, the outcome not published) is delivered again, and after 5
// receives goes to the tracking DLQ, whose depth is alarmed.
import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ValidationError } from '../shared/errors.js';
import { parseJsonText } from '../shared/json-text.js';
import { eventBridgeLifecyclePublisher } from '../shared/lifecycle/events.js';
import {
  sqsTrackingQueue,
  type TrackerDependencies,
  TrackingMessage,
  type TrackResult,
  trackProvisioning,
} from '../shared/lifecycle/tracking.js';
import { lifecycleWiring } from '../shared/lifecycle/wiring.js';
import { injectLambdaContext, logger } from '../shared/log.js';
import {
  handleRefundWarning,
  isRefundWarning,
  RefundWarningMessage,
  refundWarnings,
  type WarningResult,
} from '../shared/subscriptions/warnings.js';
import { parse } from '../shared/validation.js';

/** Time kept back from the invocation's remaining time to queue the next poll and answer. */
const MARGIN_MS = 5_000;

/** A message that is not a tracking message is dropped (logged): delivering it again would not change it. */
export async function handleTrackingRecord(
  record: SQSRecord,
  deps: TrackerDependencies,
  deadline: number,
): Promise<TrackResult | WarningResult | 'dropped'> {
  let message: TrackingMessage;
  try {
    const text = parseJsonText(record.body, '/body');
    if ('error' in text) throw new ValidationError([text.error]);
    // A refund window warning on its way (subscriptions/warnings.ts) shares the queue.
    if (isRefundWarning(text.value)) {
      const warning = parse(RefundWarningMessage, text.value, 'body');
      return logger.withKeys(
        { messageId: record.messageId, customerId: warning.customerId, subscriptionId: warning.subscriptionId },
        () => handleRefundWarning(warning, deps, { correlationId: randomUUID(), deadline }),
      );
    }
    message = parse(TrackingMessage, text.value, 'body');
  } catch (error) {
    logger.error('tracking message dropped: not a tracking message', { messageId: record.messageId, error });
    return 'dropped';
  }
  return logger.withKeys(
    { messageId: record.messageId, customerId: message.customerId, orderId: message.orderId },
    () => trackProvisioning(message, deps, { correlationId: message.correlationId ?? randomUUID(), deadline }),
  );
}

export const createHandler = (deps: TrackerDependencies) =>
  middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext())
    .handler((event, context) =>
      processPartialResponse(
        event,
        (record: SQSRecord) =>
          handleTrackingRecord(record, deps, Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS),
        new BatchProcessor(EventType.SQS),
        { context },
      ),
    );

const wiring = lifecycleWiring();
const { lifecycle } = wiring;
const queue = sqsTrackingQueue(lifecycle.trackingQueueUrl ?? '');
export const handler = createHandler({
  partnerCenter: wiring.partnerCenter,
  queue,
  ...(lifecycle.refundWarningMs
    ? { refundWarnings: refundWarnings(queue, { leadMs: lifecycle.refundWarningMs }) }
    : {}),
  publish: eventBridgeLifecyclePublisher(lifecycle.eventBusName),
  // Without a table there is no budget to share: every poll is refused (and logged) rather than unbounded.
  budget: wiring.table?.budget ?? { take: async () => false },
  windowMs: lifecycle.trackingWindowMs,
  delays: lifecycle.pollDelaysSeconds,
});
