// SQS (fed by the EventBridge rule) → CreateOrder / CreateCart commands, with partial batch responses: only the
// records that should be tried again are reported as failures. SQS batches only (entry-points.ts), and each record
// proves it came from the command queue before anything is bought (events.ts `proveOrigin`); every refusal is one log
// line with `provenance: "refused"`, which the stack's metric filter counts as partner-orders/CommandsNotFromQueue
// (alarmed) — a filter rather than the Powertools metrics client, which would add ~14 KB to this bundle.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { readConfig } from '../shared/config.js';
import { createDependencies } from '../shared/dependencies.js';
import { requireSqsBatch } from '../shared/entry-points.js';
import { outcomePublisher, sqsDelay, sqsProvenance } from '../shared/event-adapters.js';
import {
  boundedConcurrency,
  type EventDependencies,
  FOREIGN_RECORDS_METRIC,
  handleCommandRecord,
  REFUSED,
} from '../shared/events.js';

export { FOREIGN_RECORDS_METRIC };

import { injectLambdaContext, logger } from '../shared/log.js';
import { toProblem } from '../shared/problem.js';

/** Records of one batch run concurrently, at most this many at once (the queue's batch size is 10). */
export const DEFAULT_EVENT_CONCURRENCY = 10;

export const createHandler = (deps: EventDependencies, concurrency = DEFAULT_EVENT_CONCURRENCY) => {
  const limit = boundedConcurrency(concurrency);
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext())
    .handler(async (event, context) => {
      try {
        requireSqsBatch(event);
      } catch (error) {
        deps.countForeign?.();
        const { problem } = toProblem(error);
        logger.error('invocation refused: not an SQS batch', {
          ...REFUSED,
          status: problem.status,
          reason: problem.detail,
        });
        // Only a direct invoker gets here (the event source mapping sends batches): it gets the problem.
        return problem as unknown as SQSBatchResponse;
      }
      return processPartialResponse(
        event,
        (record: SQSRecord) =>
          limit(() => handleCommandRecord(record, context.getRemainingTimeInMillis(), deps, context)),
        // One processor per invocation: it keeps the batch's successes and failures.
        new BatchProcessor(EventType.SQS),
        { context },
      );
    });
};

const config = readConfig();
const queue = {
  url: process.env.COMMAND_QUEUE_URL ?? '',
  arn: process.env.COMMAND_QUEUE_ARN ?? '',
  visibilityTimeoutSeconds: Number(process.env.COMMAND_QUEUE_VISIBILITY_SECONDS ?? 360),
};
export const handler = createHandler(
  {
    ...createDependencies(config),
    eventIdAsKey: config.eventIdAsKey,
    // A day less than the key lifetime: a command redriven from the DLQ again and again is refused before its key can
    // have expired (events.ts, maxCommandAgeMs).
    maxCommandAgeMs: (config.idempotencyTtlSeconds - 86_400) * 1000,
    publish: outcomePublisher(process.env.EVENT_BUS_NAME ?? 'default'),
    delay: sqsDelay(undefined, queue.url || undefined),
    // Without the queue configured every record is refused (fail closed): its ARN cannot match ''.
    proveOrigin: sqsProvenance(queue),
    holdThrottled: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
  Number(process.env.EVENT_CONCURRENCY ?? DEFAULT_EVENT_CONCURRENCY),
);
