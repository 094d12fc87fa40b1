// What the rule and the queue make of a PutEvents entry: an EventBridge event, delivered as the body of an SQS record.
// The local /events endpoint, the tests and the benchmarks all build them here, as the one local command queue: its
// receipt handles are signed with a key of this process, so `localQueueProvenance` can tell its records from forged
// ones the way SQS does for the deployed consumer (ChangeMessageVisibility, event-adapters.ts `sqsProvenance`).
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { ForeignRecordError } from '../functions/shared/events.js';

/** The local command queue's ARN: every record `sqsRecord` makes claims it. */
export const LOCAL_COMMAND_QUEUE_ARN = 'arn:aws:sqs:local:000000000000:partner-orders-commands';
const HANDLE_KEY = randomBytes(32);
const sign = (messageId: string) => createHmac('sha256', HANDLE_KEY).update(messageId).digest('base64url');

/** The local stand-in for SQS's check of a receipt handle: issued by this queue, for this message. */
export async function localQueueProvenance(record: SQSRecord): Promise<void> {
  if (record.eventSourceARN !== LOCAL_COMMAND_QUEUE_ARN) {
    throw new ForeignRecordError('its eventSourceARN is not the command queue');
  }
  const expected = Buffer.from(`handle-${record.messageId}.${sign(String(record.messageId))}`);
  const given = Buffer.from(String(record.receiptHandle));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ForeignRecordError('SQS refused its receipt handle (ReceiptHandleIsInvalid)');
  }
}

export function eventBridgeEvent(
  detailType: string,
  detail: unknown,
  overrides: Partial<{ id: string; source: string; account: string; region: string }> = {},
) {
  return {
    version: '0',
    id: overrides.id ?? randomUUID(),
    'detail-type': detailType,
    source: overrides.source ?? 'com.example.billing',
    account: overrides.account ?? '000000000000',
    time: new Date().toISOString(),
    region: overrides.region ?? 'local',
    resources: [] as string[],
    detail,
  };
}

export function sqsRecord(body: unknown, messageId: string = randomUUID()): SQSRecord {
  return {
    messageId,
    receiptHandle: `handle-${messageId}.${sign(messageId)}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: LOCAL_COMMAND_QUEUE_ARN,
    awsRegion: 'local',
  };
}
