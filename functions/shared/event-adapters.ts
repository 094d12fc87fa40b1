// The AWS side of event-triggered ordering: outcome events to EventBridge, message delays through SQS.
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { eventBridgePublisher } from './bus.js';
import { ForeignRecordError, type OutcomeEvent } from './events.js';

/** Purchase outcomes to the bus. */
export const outcomePublisher = (busName: string, client?: EventBridgeClient) =>
  eventBridgePublisher<OutcomeEvent>(busName, client);

/** `arn:aws:sqs:<region>:<account>:<name>` → the queue URL SQS wants. */
export const queueUrlOf = (arn: string) => {
  const [, partition, , region, account, name] = arn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
};

/** SQS's answers to a receipt handle that is not one of this queue's messages in flight. */
const FOREIGN_HANDLE = new Set([
  'ReceiptHandleIsInvalid',
  'MessageNotInflight',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidIdFormat',
]);

/**
 * Queue provenance (pitfall #20): a record is the command queue's when its `eventSourceARN` is that queue and SQS
 * accepts its receipt handle for that queue — ChangeMessageVisibility on the configured queue URL (never one taken from
 * the record), setting the visibility the message already has from its receive. A forged handle, or one of another
 * queue, is refused by SQS. One call per record, made while the batch's other records make theirs.
 */
export function sqsProvenance(
  queue: { url: string; arn: string; visibilityTimeoutSeconds: number },
  client = new SQSClient({}),
) {
  return async (record: SQSRecord): Promise<void> => {
    if (record.eventSourceARN !== queue.arn)
      throw new ForeignRecordError('its eventSourceARN is not the command queue');
    if (typeof record.receiptHandle !== 'string' || record.receiptHandle === '') {
      throw new ForeignRecordError('it has no receipt handle');
    }
    try {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queue.url,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: queue.visibilityTimeoutSeconds,
        }),
      );
    } catch (error) {
      const name = (error as { name?: string })?.name ?? '';
      if (FOREIGN_HANDLE.has(name)) throw new ForeignRecordError(`SQS refused its receipt handle (${name})`);
      throw error;
    }
  };
}

/** The command queue's visibility changes, on the configured queue (COMMAND_QUEUE_URL), never the record's ARN's. */
export function sqsDelay(client = new SQSClient({}), queueUrl?: string) {
  return async (record: SQSRecord, seconds: number): Promise<void> => {
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl ?? queueUrlOf(record.eventSourceARN),
        ReceiptHandle: record.receiptHandle,
        // SQS allows at most 12 hours.
        VisibilityTimeout: Math.min(Math.max(0, Math.ceil(seconds)), 43_200),
      }),
    );
  };
}
