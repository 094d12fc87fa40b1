import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
// Each command carries its producer's idempotency key, as producers must.
const detail = () => ({
  customerId: CUSTOMER,
  lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }],
  idempotencyKey: randomUUID(),
});
captureLogs();

describe('local POST /events', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ idempotency: {} });
  });
  afterAll(() => stack.stop());

  it('runs a PutEvents entry through the event consumer and answers with the outcome events', async () => {
    const result = await stack.request('POST', '/events', {
      Source: 'com.example',
      DetailType: 'CreateOrder',
      Detail: JSON.stringify(detail()),
    });
    expect(result.status).toBe(200);
    expect(result.json.batchItemFailures).toEqual([]);
    expect(result.json.outcomes).toMatchObject([
      { detailType: 'OrderCreated', detail: { commandId: result.json.events[0], result: { id: expect.any(String) } } },
    ]);
  });

  it('takes several entries, and rejects an invalid command with OrderRejected', async () => {
    const result = await stack.request('POST', '/events', {
      Entries: [
        { Source: 'a', DetailType: 'CreateOrder', Detail: JSON.stringify(detail()) },
        { Source: 'a', DetailType: 'CreateOrder', Detail: JSON.stringify({ ...detail(), customerId: 'x' }) },
      ],
    });
    expect(result.json.outcomes.map((o: { detailType: string }) => o.detailType).sort()).toEqual([
      'OrderCreated',
      'OrderRejected',
    ]);
  });

  it('reports every failed record when Partner Center is down, as the queue would redeliver them', async () => {
    stack.simulator.injectFault({ kind: 'unavailable' });
    const result = await stack.request('POST', '/events', {
      Source: 'a',
      DetailType: 'CreateOrder',
      Detail: JSON.stringify(detail()),
    });
    stack.simulator.clearFaults();
    expect(result.json.batchItemFailures).toHaveLength(1);
    expect(result.json.outcomes).toEqual([]);
  });

  it.each([
    [{ Source: 'a', DetailType: 'DeleteOrder', Detail: '{}' }, '/body/DetailType'],
    [{ Source: 'partner-orders', DetailType: 'CreateOrder', Detail: '{}' }, '/body/Source'],
    [{ Entries: [{ Source: 'a', DetailType: 'Nope', Detail: '{}' }] }, '/body/Entries/0/DetailType'],
    [{ Source: 'a', DetailType: 'CreateOrder' }, '/body/Detail'],
    ['{', '/body'],
  ])('answers 400 naming the problem for %j', async (body, path) => {
    const result = await stack.request('POST', '/events', body);
    expect(result.status).toBe(400);
    expect(result.json.errors.map((e: { path: string }) => e.path)).toContain(path);
  });
});
