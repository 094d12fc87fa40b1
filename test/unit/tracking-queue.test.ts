// The tracking queue's SQS client (lifecycle/tracking.ts) is loaded and built on the first message, not at load, and
// sends what it sent before: checked with the real SDK client against a loopback stand-in for SQS's JSON protocol.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsTrackingQueue } from '../../functions/shared/lifecycle/tracking.js';

let server: Server;
const received: { target: string; body: Record<string, unknown> }[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      received.push({ target: String(request.headers['x-amz-target']), body });
      const md5 = createHash('md5')
        .update(String(body.MessageBody ?? ''))
        .digest('hex');
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ MessageId: `m-${received.length}`, MD5OfMessageBody: md5 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
});

afterAll(async () => {
  process.env = saved;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('sqsTrackingQueue', () => {
  it('sends each message to the queue, with the client it loads on the first', async () => {
    // The SQS client sends to the queue's URL (useQueueUrlAsEndpoint): the stand-in's.
    const queueUrl = `${process.env.AWS_ENDPOINT_URL_SQS}/123456789012/tracking`;
    const queue = sqsTrackingQueue(queueUrl);
    expect(received).toHaveLength(0);
    const message = { customerId: 'c-1', orderId: 'o-1', attempt: 1 } as unknown as Parameters<typeof queue.send>[0];
    await queue.send(message, 60.2);
    await queue.send(message, 5_000);
    expect(received.map((r) => r.target)).toEqual(['AmazonSQS.SendMessage', 'AmazonSQS.SendMessage']);
    expect(received[0]?.body).toEqual({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: 61 });
    // SQS delays at most 15 minutes.
    expect(received[1]?.body.DelaySeconds).toBe(900);
  });
});
