// What the rule and the queue make of a PutEvents entry: an EventBridge event, delivered as the body of an SQS record.
// The local /events endpoint, the tests and the benchmarks all build them here.
import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';

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
    receiptHandle: `handle-${messageId}`,
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
    eventSourceARN: 'arn:aws:sqs:local:000000000000:partner-orders-commands',
    awsRegion: 'local',
  };
}
