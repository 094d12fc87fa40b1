import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createHandler } from '../../functions/order-events/handler.js';
import type { OutcomeEvent } from '../../functions/shared/events.js';
import type { HttpDependencies } from '../../functions/shared/http.js';
import { eventBridgeEvent as localEvent, localQueueProvenance, sqsRecord } from '../../local/event-records.js';

export { localQueueProvenance, sqsRecord };

/** An EventBridge event as the rule delivers it to SQS (the message body), from a producer in eu-west-1. */
export const eventBridgeEvent = (detailType: string, detail: unknown, overrides: Record<string, string> = {}) =>
  localEvent(detailType, detail, { account: '123456789012', region: 'eu-west-1', ...overrides });

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

/** The event consumer on the given dependencies, publishing into an array and ignoring visibility changes. */
export function recordingEventsHandler(deps: HttpDependencies) {
  const published: OutcomeEvent[] = [];
  const handler = createHandler({
    ...deps,
    publish: async (events) => {
      published.push(...events);
    },
    delay: async () => undefined,
    proveOrigin: localQueueProvenance,
  });
  return { handler, published };
}
