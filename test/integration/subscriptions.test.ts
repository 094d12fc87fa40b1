import type { Context } from 'aws-lambda';
// Undoing a purchase (issue 23), against the simulator at its worst: no MS-RequestId deduplication, answers lost
// after the change was made, a clock moved to day 8. Each change must happen once and answer the truth; a change
// outside its window must be refused with nothing sent; an immediate change must report the scheduled changes it drops.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createInvokeHandler } from '../../functions/invoke-purchase/handler.js';
import { lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';
import { localPolicy } from '../support/policy.js';
import { orderOf, unique } from '../support/purchases.js';
import { scaledSleep } from '../support/reliability.js';
import { eventBridgeEvent, recordingEventsHandler, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const DAY = 24 * 3_600_000;
captureLogs();

/** A subscription change as a direct invocation: invoke-purchase's ChangeSubscription command. */
const invokeChange = (deps: Parameters<typeof createInvokeHandler>[0]) => {
  const invoke = createInvokeHandler(deps);
  return (payload: Record<string, unknown>, context: Context) =>
    invoke({ command: 'ChangeSubscription', ...payload }, context);
};

describe('subscriptions after the purchase, against a Partner Center that does not deduplicate', () => {
  let stack: Stack;
  let clock = Date.now();
  const base = (id: string) => `/customers/${CUSTOMER}/subscriptions/${id}`;
  const patches = (id: string) =>
    stack.simulator.requests.filter((r) => r.method === 'PATCH' && r.path.includes(`/subscriptions/${id}`));

  /** A new one-line order of `seats`; its subscription id. */
  const buy = async (seats: number) => {
    const tag = unique('sub');
    const placed = await stack.request('POST', `/customers/${CUSTOMER}/orders`, orderOf(tag, seats));
    expect(placed.status).toBe(201);
    return placed.json.lineItems[0].subscriptionId as string;
  };

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { dedupe: 'off', now: () => clock, tokenLifetimeSeconds: 60 * 24 * 3600 },
      env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '250' },
      client: { sleep: scaledSleep(20) },
      subscriptions: { now: () => clock },
    });
  });
  afterAll(() => stack.stop());
  beforeEach(() => {
    stack.simulator.clearFaults();
    clock = Date.now();
  });

  it('shows the refund window and the removable seats before anything is sent', async () => {
    const id = await buy(5);
    const read = await stack.request('GET', base(id));
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    expect(read.json.windows).toMatchObject({
      cancellable: true,
      removableSeats: 5,
      source: 'partner-center',
      refundableUntil: new Date(Date.parse(read.json.subscription.creationDate) + 7 * DAY).toISOString(),
    });
    expect(read.json.windows.seatWindows).toEqual([{ quantity: 5, until: read.json.windows.refundableUntil }]);
    expect(read.json.renewal).toMatchObject({ autoRenewEnabled: true, scheduledNextTermInstructions: null });
  });

  it('a cancel whose answer is lost (made, then the connection dropped, every attempt) happens once and answers the truth', async () => {
    const id = await buy(3);
    stack.simulator.injectFault({ kind: 'commit-then-drop', match: { method: 'PATCH', path: `/subscriptions/${id}` } });
    const key = unique('cancel');
    const cancelled = await stack.request('POST', `${base(id)}/cancel`, undefined, { 'Idempotency-Key': key });
    expect(cancelled.status).toBe(200);
    expect(cancelled.headers.get('idempotent-reconciled')).toBe('true');
    expect(cancelled.json.subscription.status).toBe('deleted');
    // The first PATCH cancelled it; every repeat the client sent was refused by Partner Center (already cancelled).
    expect(patches(id).length).toBeGreaterThan(1);
    stack.simulator.clearFaults();
    const again = await stack.request('POST', `${base(id)}/cancel`, undefined, { 'Idempotency-Key': key });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('a cancel whose answer comes too late is answered 502 (not stored), and its retry with the key answers the truth without cancelling again', async () => {
    const id = await buy(3);
    // Every attempt commits 3 s later, after its client gave up (250 ms): the read-back still shows it active.
    stack.simulator.injectFault({
      kind: 'delay',
      delayMs: 3_000,
      match: { method: 'PATCH', path: `/subscriptions/${id}` },
    });
    const key = unique('cancel-late');
    const first = await stack.request('POST', `${base(id)}/cancel`, undefined, { 'Idempotency-Key': key });
    expect([502, 504]).toContain(first.status);
    stack.simulator.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const sent = patches(id).length;
    const retry = await stack.request('POST', `${base(id)}/cancel`, undefined, { 'Idempotency-Key': key });
    expect(retry.status).toBe(200);
    expect(retry.json).toMatchObject({ alreadyDone: true, subscription: { status: 'deleted' } });
    expect(patches(id).length).toBe(sent);
  });

  it('a reduction whose answers are lost is applied once: the absolute target recorded under the key, never subtracted twice', async () => {
    const id = await buy(10);
    stack.simulator.injectFault({
      kind: 'delay',
      delayMs: 3_000,
      match: { method: 'PATCH', path: `/subscriptions/${id}` },
    });
    const key = unique('reduce');
    const first = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 3 }, { 'Idempotency-Key': key });
    expect([502, 504]).toContain(first.status);
    stack.simulator.clearFaults();
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    // Without the simulator's deduplication every late attempt was made: each set the same absolute quantity.
    expect(patches(id).length).toBeGreaterThan(1);
    for (const patch of patches(id)) expect(JSON.parse(patch.body).quantity).toBe(7);
    const retry = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 3 }, { 'Idempotency-Key': key });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-reconciled')).toBe('true');
    expect(retry.json).toMatchObject({ alreadyDone: true, targetQuantity: 7, subscription: { quantity: 7 } });
    const read = await stack.request('GET', base(id));
    expect(read.json.subscription.quantity).toBe(7);
  });

  it('a reduction whose answer is dropped after it was made answers the truth and removes the seats once', async () => {
    const id = await buy(6);
    stack.simulator.injectFault({ kind: 'commit-then-drop', match: { method: 'PATCH', path: `/subscriptions/${id}` } });
    const reduced = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 2 });
    expect(reduced.status).toBe(200);
    expect(reduced.headers.get('idempotent-reconciled')).toBe('true');
    expect(reduced.json).toMatchObject({ targetQuantity: 4, seatsRemoved: 2, subscription: { quantity: 4 } });
  });

  it('a cancel on day 8 is refused with 422 outside-refund-window, naming the window and the alternative, with nothing sent', async () => {
    const id = await buy(2);
    clock += 8 * DAY;
    const refused = await stack.request('POST', `${base(id)}/cancel`);
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json).toMatchObject({
      type: 'urn:partner-orders:problem:outside-refund-window',
      refundWindow: { kind: 'cancel', source: 'partner-center' },
      errors: [{ path: '/path/subscriptionId' }],
    });
    expect(refused.json.detail).toMatch(/Schedule the change for renewal/);
    expect(refused.json.refundWindow.refundableUntil).toMatch(/^\d{4}-/);
    expect(patches(id)).toHaveLength(0);
  });

  it('a reduction past the seats’ window is refused with the seats that can still be removed, nothing sent', async () => {
    const id = await buy(4);
    clock += 7 * DAY + 60_000;
    const refused = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 1 });
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      type: 'urn:partner-orders:problem:outside-refund-window',
      refundWindow: { kind: 'reduce', removableSeats: 0, requestedSeats: 1 },
      errors: [{ path: '/body/seatsToRemove' }],
    });
    expect(patches(id)).toHaveLength(0);
  });

  it('a scheduled change is dropped by a mid-term change, and the answer says so (the dry run before it too)', async () => {
    const id = await buy(8);
    const scheduled = await stack.request('POST', `${base(id)}/scheduled-changes`, { quantity: 5 });
    expect(scheduled.status).toBe(200);
    expect(scheduled.json.renewal.scheduledNextTermInstructions).toMatchObject({ quantity: 5 });
    const dry = await stack.request('POST', `${base(id)}/reduce?dryRun=true`, { seatsToRemove: 1 });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ dryRun: true, willDropScheduledChanges: { quantity: 5 } });
    expect(dry.json.requests[0]).toMatchObject({ method: 'PATCH', body: { quantity: 7 } });
    const reduced = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 1 });
    expect(reduced.status).toBe(200);
    expect(reduced.json).toMatchObject({
      droppedScheduledChanges: { quantity: 5 },
      subscription: { quantity: 7 },
      renewal: { scheduledNextTermInstructions: null },
    });
    expect(reduced.json.warning).toMatch(/deletes the changes scheduled/);
  });

  it('schedules, reads and cancels next-term changes; renewal applies what was scheduled and opens a new window', async () => {
    const id = await buy(6);
    expect(
      (await stack.request('POST', `${base(id)}/scheduled-changes`, { quantity: 4, termDuration: 'P1M' })).status,
    ).toBe(200);
    const read = await stack.request('GET', base(id));
    expect(read.json.renewal.scheduledNextTermInstructions).toMatchObject({
      quantity: 4,
      product: { termDuration: 'P1M' },
    });
    const cancelled = await stack.request('POST', `${base(id)}/scheduled-changes/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.renewal.scheduledNextTermInstructions).toBeNull();
    expect((await stack.request('POST', `${base(id)}/scheduled-changes`, { quantity: 2 })).status).toBe(200);
    // A year and a day later: renewed with 2 seats, and cancellable again for 7 days.
    clock = Date.parse(read.json.windows.renewsOn) + 3_600_000;
    const renewed = await stack.request('GET', base(id));
    expect(renewed.json.subscription.quantity).toBe(2);
    expect(renewed.json.windows).toMatchObject({ cancellable: true, removableSeats: 2 });
  });

  it('auto-renew off drops what was scheduled; scheduling then needs it on (422, nothing sent)', async () => {
    const id = await buy(3);
    await stack.request('POST', `${base(id)}/scheduled-changes`, { quantity: 2 });
    const off = await stack.request('POST', `${base(id)}/auto-renew`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({
      renewal: { autoRenewEnabled: false, renewsOn: null },
      droppedScheduledChanges: { quantity: 2 },
    });
    const sent = patches(id).length;
    const refused = await stack.request('POST', `${base(id)}/scheduled-changes`, { quantity: 2 });
    expect(refused.status).toBe(422);
    expect(refused.json.type).toBe('urn:partner-orders:problem:subscription-state');
    expect(patches(id).length).toBe(sent);
    const again = await stack.request('POST', `${base(id)}/auto-renew`, { enabled: false });
    expect(again.json.alreadyDone).toBe(true);
    expect(patches(id).length).toBe(sent);
  });

  it('refuses bad input with RFC 9457 problems naming the field, before anything is sent', async () => {
    const id = await buy(3);
    const before = stack.simulator.requests.length;
    const cases: [string, string, unknown, string][] = [
      ['POST', `/customers/${CUSTOMER}/subscriptions/not-a-guid/cancel`, undefined, '/path/subscriptionId'],
      ['POST', `${base(id)}/reduce`, { seatsToRemove: 0 }, '/body/seatsToRemove'],
      ['POST', `${base(id)}/reduce`, { seats: 1 }, '/body/seats'],
      ['POST', `${base(id)}/auto-renew`, { enabled: 'no' }, '/body/enabled'],
      ['POST', `${base(id)}/scheduled-changes`, {}, '/body'],
      ['POST', `${base(id)}/scheduled-changes`, { termDuration: 'one year' }, '/body/termDuration'],
      ['POST', `${base(id)}/cancel`, { reason: 'x' }, '/body/reason'],
      ['GET', `${base(id)}?verbose=1`, undefined, '/query/verbose'],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await stack.request(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.json.errors.map((e: { path: string }) => e.path)).toContain(field);
    }
    expect(stack.simulator.requests.length).toBe(before);
    // A keyed change without a key is refused too.
    const keyless = await stack.request('POST', `${base(id)}/cancel`, undefined, { 'Idempotency-Key': undefined });
    expect(keyless.json.type).toBe('urn:partner-orders:problem:idempotency-key-required');
  });

  it('a reduction that would leave no seat is refused (cancel instead), nothing sent', async () => {
    const id = await buy(2);
    const refused = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 2 });
    expect(refused.status).toBe(422);
    expect(refused.json.type).toBe('urn:partner-orders:problem:subscription-state');
    expect(refused.json.detail).toMatch(/Cancel the subscription instead/);
    expect(patches(id)).toHaveLength(0);
  });

  it('runs as EventBridge commands: outcome events on success, SubscriptionChangeRejected on a refusal', async () => {
    const id = await buy(9);
    const late = await buy(2);
    const { handler, published } = recordingEventsHandler(stack.deps);
    const command = (type: string, detail: object, key: string) =>
      sqsRecord(eventBridgeEvent(type, { customerId: CUSTOMER, subscriptionId: id, idempotencyKey: key, ...detail }));
    const result = await handler(
      sqsEvent([command('ReduceSeats', { seatsToRemove: 2 }, unique('ev-reduce'))]),
      lambdaContext(),
    );
    expect(result.batchItemFailures).toEqual([]);
    await handler(
      sqsEvent([command('ScheduleRenewalChange', { changes: { quantity: 5 } }, unique('ev-schedule'))]),
      lambdaContext(),
    );
    await handler(sqsEvent([command('ChangeAutoRenew', { enabled: false }, unique('ev-renew'))]), lambdaContext());
    await handler(sqsEvent([command('CancelSubscription', {}, unique('ev-cancel'))]), lambdaContext());
    clock += 8 * DAY;
    await handler(
      sqsEvent([
        sqsRecord(
          eventBridgeEvent('CancelSubscription', {
            customerId: CUSTOMER,
            subscriptionId: late,
            idempotencyKey: unique('l'),
          }),
        ),
        // Without a key, as for purchases: a producer's SDK retry would carry a new event id.
        sqsRecord(eventBridgeEvent('ReduceSeats', { customerId: CUSTOMER, subscriptionId: late, seatsToRemove: 1 })),
      ]),
      lambdaContext(),
    );
    expect(published.map((e) => e.detailType)).toEqual([
      'SeatsReduced',
      'RenewalScheduled',
      'AutoRenewChanged',
      'SubscriptionCancelled',
      'SubscriptionChangeRejected',
      'SubscriptionChangeRejected',
    ]);
    expect(published[0]?.detail).toMatchObject({ command: 'ReduceSeats', result: { targetQuantity: 7 } });
    expect(published[2]?.detail.result).toMatchObject({ droppedScheduledChanges: { quantity: 5 } });
    // The two records of the last batch run at once: their rejections in either order.
    const problems = published.slice(4).map((e) => e.detail.problem as { type: string; errors: { path: string }[] });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'urn:partner-orders:problem:outside-refund-window',
          errors: [expect.objectContaining({ path: '/detail/subscriptionId' })],
        }),
        expect.objectContaining({
          type: 'urn:partner-orders:problem:idempotency-key-required',
          errors: [expect.objectContaining({ path: '/detail/idempotencyKey' })],
        }),
      ]),
    );
  });

  it('runs as a direct invocation of invoke-purchase (ChangeSubscription), dry run and key included', async () => {
    const id = await buy(4);
    const handler = invokeChange(stack.deps);
    const dry = (await handler(
      { operation: 'cancelSubscription', customerId: CUSTOMER, subscriptionId: id, dryRun: true },
      lambdaContext(),
    )) as Record<string, unknown>;
    expect(dry).toMatchObject({
      dryRun: true,
      windows: { cancellable: true },
      authorization: { actions: ['CancelSubscription'] },
    });
    expect(patches(id)).toHaveLength(0);
    const reduced = (await handler(
      {
        operation: 'reduceSeats',
        customerId: CUSTOMER,
        subscriptionId: id,
        seatsToRemove: 1,
        idempotencyKey: unique('inv'),
      },
      lambdaContext(),
    )) as Record<string, unknown>;
    expect(reduced).toMatchObject({ targetQuantity: 3, subscription: { quantity: 3 } });
    const bad = (await handler(
      { operation: 'reduceSeats', customerId: CUSTOMER, subscriptionId: id, seatsToRemove: -1, idempotencyKey: 'k' },
      lambdaContext(),
    )) as Record<string, unknown>;
    expect(bad).toMatchObject({ status: 400, errors: [{ path: '/seatsToRemove' }] });
  });

  it('knows each seat batch’s window: seats added on day 5 can still be removed on day 8, the others not', async () => {
    const id = await buy(5);
    clock += 5 * DAY;
    // Seats added mid-term (as Partner Center's own quantity change does it): a PATCH straight to the simulator.
    const before = await stack.request('GET', base(id));
    await stack.deps.partnerCenter.send(
      {
        method: 'PATCH',
        path: `/v1/customers/${CUSTOMER}/subscriptions/${id}`,
        body: { ...before.json.subscription, quantity: 8 },
      },
      { correlationId: crypto.randomUUID(), deadline: Date.now() + 10_000 },
    );
    clock += 3 * DAY;
    const read = await stack.request('GET', base(id));
    expect(read.json.windows).toMatchObject({ cancellable: false, removableSeats: 3 });
    expect(read.json.windows.seatWindows).toEqual([
      { quantity: 3, until: new Date(clock - 3 * DAY + 7 * DAY).toISOString() },
    ]);
    const tooMany = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 4 });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json.refundWindow).toMatchObject({ removableSeats: 3, requestedSeats: 4 });
    const reduced = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 3 });
    expect(reduced.status).toBe(200);
    expect(reduced.json.subscription.quantity).toBe(5);
    expect(reduced.json.windows.removableSeats).toBe(0);
  });

  it('fails a keyed reduction closed (503, nothing sent) when there is no store to record its target', async () => {
    const id = await buy(4);
    const handler = invokeChange({ ...stack.deps, subscriptions: { now: () => clock } });
    await expect(
      handler(
        {
          operation: 'reduceSeats',
          customerId: CUSTOMER,
          subscriptionId: id,
          seatsToRemove: 1,
          idempotencyKey: unique('k'),
        },
        lambdaContext(),
      ),
    ).rejects.toThrow(/503 Idempotency store unavailable/);
    expect(patches(id)).toHaveLength(0);
  });

  it('is judged by the purchase policy: automation may not cancel, nobody removes 300+ seats; refusals name the field', async () => {
    const id = await buy(4);
    // npm start's policies: direct invocation is `automation` there (policies/local/entities.json).
    const handler = invokeChange({ ...stack.deps, policy: localPolicy() });
    const cancel = (await handler(
      { operation: 'cancelSubscription', customerId: CUSTOMER, subscriptionId: id, dryRun: true },
      lambdaContext(),
    )) as Record<string, unknown>;
    expect(cancel).toMatchObject({
      status: 403,
      type: 'urn:partner-orders:problem:policy-denied',
      policy: { action: 'CancelSubscription', policies: ['automation-no-cancel'] },
      errors: [{ path: '/subscriptionId' }],
    });
    const many = (await handler(
      {
        operation: 'reduceSeats',
        customerId: CUSTOMER,
        subscriptionId: id,
        seatsToRemove: 301,
        idempotencyKey: unique('p'),
      },
      lambdaContext(),
    )) as Record<string, unknown>;
    expect(many).toMatchObject({ status: 403, errors: [{ path: '/seatsToRemove' }] });
    // Reducing is allowed to automation.
    const reduced = (await handler(
      {
        operation: 'reduceSeats',
        customerId: CUSTOMER,
        subscriptionId: id,
        seatsToRemove: 1,
        idempotencyKey: unique('p'),
      },
      lambdaContext(),
    )) as Record<string, unknown>;
    expect(reduced).toMatchObject({ targetQuantity: 3 });
    expect(patches(id)).toHaveLength(1);
  });

  it('waits out throttling on the Subscription resource (Retry-After) and changes once', async () => {
    const id = await buy(5);
    stack.simulator.injectFault({
      kind: 'throttle',
      retryAfterSeconds: 1,
      times: 2,
      match: { method: 'PATCH', path: `/subscriptions/${id}` },
    });
    const reduced = await stack.request('POST', `${base(id)}/reduce`, { seatsToRemove: 1 });
    expect(reduced.status).toBe(200);
    expect(reduced.json.subscription.quantity).toBe(4);
    expect(patches(id).filter((r) => r.fault === 'throttle')).toHaveLength(2);
  });
});
