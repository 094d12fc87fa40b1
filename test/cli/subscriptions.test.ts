// `partner-orders subscription show|cancel|reduce|auto-renew|schedule` against the local stack (local server → real
// handlers → the simulator on a clock the test moves): undoing a purchase in one command, --what-if, day 8.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/args.js';
import { main } from '../../cli/main.js';
import { toApiRequest } from '../../cli/request.js';
import { captureLogs } from '../support/logs.js';
import { NCE } from '../support/purchases.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const DAY = 24 * 3_600_000;
captureLogs();

describe('partner-orders subscription', () => {
  let stack: Stack;
  let clock = Date.now();
  async function cli(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await main([...args, '--endpoint', stack.url], {
      env: {},
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: (chunk: string) => (stderr += chunk) },
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  }
  const buy = async (seats: number) => {
    const placed = await cli([
      'order',
      'create',
      '--customer-id',
      CUSTOMER,
      '--line-item',
      `offerId=${NCE},quantity=${seats},termDuration=P1Y`,
    ]);
    expect(placed.code).toBe(0);
    return placed.json().lineItems[0].subscriptionId as string;
  };
  const ids = (id: string) => ['--customer-id', CUSTOMER, '--subscription-id', id];

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { now: () => clock, tokenLifetimeSeconds: 30 * 86_400 },
      subscriptions: { now: () => clock },
    });
  });
  afterAll(() => stack.stop());

  it('undoes a purchase in one command, after a --what-if that sends nothing', async () => {
    const id = await buy(3);
    const show = await cli(['subscription', 'show', ...ids(id)]);
    expect(show.code).toBe(0);
    expect(show.json().windows).toMatchObject({ cancellable: true, removableSeats: 3 });
    const whatIf = await cli(['subscription', 'cancel', ...ids(id), '--what-if']);
    expect(whatIf.code).toBe(0);
    expect(whatIf.json()).toMatchObject({ dryRun: true, requests: [{ method: 'PATCH', body: { status: 'deleted' } }] });
    const cancelled = await cli(['subscription', 'cancel', ...ids(id)]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stderr).toMatch(/no --idempotency-key given: using/);
    expect(cancelled.json().subscription.status).toBe('deleted');
  });

  it('reduces, schedules, turns auto-renew off; day 8 is refused (exit 1) with the alternative', async () => {
    const id = await buy(6);
    expect((await cli(['subscription', 'reduce', ...ids(id), '--seats', '2'])).json()).toMatchObject({
      targetQuantity: 4,
    });
    const scheduled = await cli(['subscription', 'schedule', ...ids(id), '--quantity', '3', '--term-duration', 'P1M']);
    expect(scheduled.json().renewal.scheduledNextTermInstructions).toMatchObject({ quantity: 3 });
    expect((await cli(['subscription', 'schedule', ...ids(id), '--cancel'])).json().renewal).toMatchObject({
      scheduledNextTermInstructions: null,
    });
    expect((await cli(['subscription', 'auto-renew', ...ids(id), '--off'])).json().renewal.autoRenewEnabled).toBe(
      false,
    );
    clock += 8 * DAY;
    const late = await cli(['subscription', 'reduce', ...ids(id), '--seats', '1']);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/HTTP 422 Outside the refund window: .*Schedule the change for renewal/);
  });

  it('refuses what it can judge itself (exit 2, nothing sent) and builds the routes', () => {
    const env = {};
    expect(() => parseCommandLine(['subscription', 'reduce', ...ids('x')], env)).toThrow(/--seats is required/);
    expect(() => parseCommandLine(['subscription', 'auto-renew', ...ids('x')], env)).toThrow(/give --on or --off/);
    expect(() => parseCommandLine(['subscription', 'schedule', ...ids('x')], env)).toThrow(/name a change/);
    expect(() => parseCommandLine(['subscription', 'show', ...ids('x'), '--seats', '1'], env)).toThrow(
      /--seats is not an option of 'subscription show'/,
    );
    const run = parseCommandLine(['subscription', 'schedule', ...ids('s1'), '--cancel', '--what-if'], env);
    if (run.kind !== 'run') throw new Error('expected a command');
    const request = toApiRequest(run.command);
    expect(request.method).toBe('POST');
    expect(request.url.pathname).toBe(`/customers/${CUSTOMER}/subscriptions/s1/scheduled-changes/cancel`);
    expect(request.url.searchParams.get('dryRun')).toBe('true');
  });
});
