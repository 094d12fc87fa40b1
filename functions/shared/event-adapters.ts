// The AWS side of event-triggered ordering: outcome events to EventBridge, message delays through SQS.
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { OUTCOME_SOURCE, type OutcomeEvent } from './events.js';

export function eventBridgePublisher(busName: string, client = new EventBridgeClient({})) {
  return async (events: OutcomeEvent[]): Promise<void> => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          EventBusName: busName,
          Source: OUTCOME_SOURCE,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
        })),
      }),
    );
    if (result.FailedEntryCount) {
      const codes = result.Entries?.map((e) => e.ErrorCode)
        .filter(Boolean)
        .join(', ');
      throw new Error(`EventBridge refused ${result.FailedEntryCount} outcome event(s): ${codes}`);
    }
  };
}

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
