// The tracking queue's one SQS call, in a module of its own: tracking.ts loads it on the first message (a dynamic
// import of the SDK package itself would keep every SQS command in the bundle).
import { SendMessageCommand, type SendMessageCommandInput, SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

export const sqsSender = (config: SQSClientConfig, client: SQSClient = new SQSClient(config)) => {
  return async (input: SendMessageCommandInput) => {
    await client.send(new SendMessageCommand(input));
  };
};
