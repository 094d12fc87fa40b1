// The AWS side of event-triggered ordering: outcome events to EventBridge, message delays through SQS.
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { eventBridgePublisher } from './bus.js';
import type { OutcomeEvent } from './events.js';

/** Purchase outcomes to the bus. */
export const outcomePublisher = (busName: string, client?: EventBridgeClient) =>
  eventBridgePublisher<OutcomeEvent>(busName, client);

/** `arn:aws:sqs:<region>:<account>:<name>` → the queue URL SQS wants. */
export const queueUrlOf = (arn: string) => {
  const [, partition, , region, account, name] = arn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
};

export function sqsDelay(client = new SQSClient({})) {
  return async (record: SQSRecord, seconds: number): Promise<void> => {
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrlOf(record.eventSourceARN),
        ReceiptHandle: record.receiptHandle,
        // SQS allows at most 12 hours.
        VisibilityTimeout: Math.min(Math.max(0, Math.ceil(seconds)), 43_200),
      }),
    );
  };
}
