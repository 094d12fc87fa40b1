// SQS (fed by the EventBridge rule) → CreateOrder / CreateCart commands, with partial batch responses: only the
// records that should be tried again are reported as failures.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { readConfig } from '../shared/config.js';
import { createDependencies } from '../shared/dependencies.js';
import { outcomePublisher, sqsDelay } from '../shared/event-adapters.js';
import { boundedConcurrency, type EventDependencies, handleCommandRecord } from '../shared/events.js';
import { injectLambdaContext } from '../shared/log.js';

/** Records of one batch run concurrently, at most this many at once (the queue's batch size is 10). */
export const DEFAULT_EVENT_CONCURRENCY = 10;

export const createHandler = (deps: EventDependencies, concurrency = DEFAULT_EVENT_CONCURRENCY) => {
  const limit = boundedConcurrency(concurrency);
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext())
    .handler((event, context) =>
      processPartialResponse(
        event,
        (record: SQSRecord) =>
          limit(() => handleCommandRecord(record, context.getRemainingTimeInMillis(), deps, context)),
        // One processor per invocation: it keeps the batch's successes and failures.
        new BatchProcessor(EventType.SQS),
        { context },
      ),
    );
};

const config = readConfig();
export const handler = createHandler(
  {
    ...createDependencies(config),
    eventIdAsKey: config.eventIdAsKey,
    // A day less than the key lifetime: a command redriven from the DLQ again and again is refused before its key can
    // have expired (events.ts, maxCommandAgeMs).
    maxCommandAgeMs: (config.idempotencyTtlSeconds - 86_400) * 1000,
    publish: outcomePublisher(process.env.EVENT_BUS_NAME ?? 'default'),
    delay: sqsDelay(),
    holdThrottled: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
  Number(process.env.EVENT_CONCURRENCY ?? DEFAULT_EVENT_CONCURRENCY),
);
