import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { eventBridgeEvent as localEvent, sqsRecord } from '../../local/event-records.js';

export { sqsRecord };

/** An EventBridge event as the rule delivers it to SQS (the message body), from a producer in eu-west-1. */
export const eventBridgeEvent = (detailType: string, detail: unknown, overrides: Record<string, string> = {}) =>
  localEvent(detailType, detail, { account: '123456789012', region: 'eu-west-1', ...overrides });

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });
