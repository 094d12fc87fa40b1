// The CLI after the purchase, against the local stack (local server → real handlers → Partner Center simulator on a
// clock the test moves): `order status`, `order wait` (backoff until provisioned, cancelled or the timeout) and
// `purchase show --idempotency-key`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WAIT_MS, parseCommandLine } from '../../cli/args.js';
import { type Io, main } from '../../cli/main.js';
import { toApiRequest } from '../../cli/request.js';
import { WAIT_BACKOFF_MS } from '../../cli/wait.js';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const PROVISIONING_MS = 3 * 60_000;
captureLogs();

let counter = 0;
const unique = (name: string) => `${name}-${Date.now()}-${counter++}`;

describe('partner-orders order status, order wait, purchase show', () => {
  let stack: Stack;
  let clock = Date.now();
  const sleeps: number[] = [];

  /** main() with captured output; `order wait` sleeps on the simulator's clock, not the wall's. */
  async function cli(args: string[], io: Partial<Io> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await main([...args, '--endpoint', stack.url], {
      env: {},
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      now: () => clock,
      ...io,
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: (chunk: string) => (stderr += chunk) },
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  }
  const buy = async (key = unique('cli')) => {
    const placed = await cli([
      'order',
      'create',
      '--customer-id',
      CUSTOMER,
      '--line-item',
      `offerId=${NCE},quantity=2,termDuration=P1Y`,
      '--idempotency-key',
      key,
    ]);
    expect(placed.code).toBe(0);
    return { key, order: placed.json() };
  };

  beforeAll(async () => {
    stack = await startStack({
      idempotency: {},
      simulator: { now: () => clock, provisioningDelayMs: PROVISIONING_MS, tokenLifetimeSeconds: 30 * 86_400 },
      client: { baseDelayMs: 5 },
    });
  });
  afterAll(() => stack.stop());

  it('parses the three commands into reads, and refuses what they do not take', () => {
    const run = (argv: string[]) => {
      const parsed = parseCommandLine(argv, {});
      if (parsed.kind !== 'run') throw new Error('not a command');
      return parsed.command;
    };
    const status = run(['order', 'status', '--customer-id', CUSTOMER, '--order-id', 'Cs_1']);
    expect(toApiRequest(status)).toMatchObject({ method: 'GET' });
    expect(toApiRequest(status).url.pathname).toBe(`/customers/${CUSTOMER}/orders/Cs_1`);
    expect(status.idempotencyKey).toBeUndefined();
    const wait = run(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', 'Cs_1']);
    expect(wait).toMatchObject({ name: 'order wait', timeoutMs: DEFAULT_WAIT_MS });
    expect(run(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', 'Cs_1', '--timeout', '90s'])).toMatchObject({
      timeoutMs: 90_000,
    });
    expect(run(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', 'Cs_1', '--timeout', '2h'])).toMatchObject({
      timeoutMs: 7_200_000,
    });
    const show = run(['purchase', 'show', '--idempotency-key', 'a key/with?odd#chars']);
    const request = toApiRequest(show);
    expect(request.url.pathname).toBe('/purchases/a%20key%2Fwith%3Fodd%23chars');
    expect(request.headers['idempotency-key']).toBeUndefined();
    for (const [argv, message] of [
      [['order', 'status', '--customer-id', CUSTOMER], /--order-id is required/],
      [['order', 'status', '--customer-id', CUSTOMER, '--order-id', 'x', '--what-if'], /not an option/],
      [['order', 'status', '--customer-id', CUSTOMER, '--order-id', 'x', '--idempotency-key', 'k'], /not an option/],
      [['order', 'wait', '--customer-id', CUSTOMER, '--order-id', 'x', '--timeout', 'soon'], /not a duration/],
      [['order', 'wait', '--customer-id', CUSTOMER, '--order-id', 'x', '--timeout', '0'], /not a duration/],
      [['purchase', 'show'], /--idempotency-key is required/],
      [['purchase', 'show', '--idempotency-key', 'k', '--customer-id', CUSTOMER], /not an option/],
      [['purchase', 'list'], /unknown command 'purchase list'/],
    ] as const) {
      expect(() => parseCommandLine([...argv], {}), argv.join(' ')).toThrow(message);
    }
  });

  it('order status: the order with its lines’ provisioning status and one state, and nothing bought', async () => {
    const { order } = await buy();
    const posts = stack.simulator.requests.filter((r) => r.method === 'POST').length;
    const table = await cli(['order', 'status', '--customer-id', CUSTOMER, '--order-id', order.id]);
    expect(table.code).toBe(0);
    // A compact table for a person; --json the whole answer.
    expect(table.stdout.split('\n')[0]).toBe(
      `order ${order.id}  state pending  status pending  billing monthly  created ${order.creationDate}`,
    );
    expect(table.stdout).toMatch(/^LINE +OFFER \/ CATALOG ID +QTY +TERM +PROVISIONING +SUBSCRIPTION$/m);
    expect(table.stdout).toMatch(new RegExp(`^0 +${NCE} +2 +P1Y +Unfulfilled +[0-9a-f-]{36}$`, 'm'));
    expect(table.stdout.split('\n').length).toBeLessThan(6);
    const shown = await cli(['order', 'status', '--customer-id', CUSTOMER, '--order-id', order.id, '--json']);
    expect(shown.code).toBe(0);
    expect(shown.json()).toMatchObject({ id: order.id, state: 'pending' });
    expect(shown.json().lineItems[0].provisioningStatus).toBe('Unfulfilled');
    expect(shown.stderr).toBe('');
    const missing = await cli(['order', 'status', '--customer-id', CUSTOMER, '--order-id', 'Cs_nosuchorder']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('HTTP 404');
    expect(stack.simulator.requests.filter((r) => r.method === 'POST').length).toBe(posts);
  });

  it('order wait: asks with backoff until provisioned (exit 0), the states on stderr, the order on stdout', async () => {
    const { order } = await buy();
    sleeps.length = 0;
    const started = clock;
    const waited = await cli(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', order.id]);
    expect(waited.code).toBe(0);
    expect(waited.json()).toMatchObject({ id: order.id, state: 'provisioned' });
    expect(waited.stderr.trim().split('\n')).toEqual([
      `partner-orders: order ${order.id}: pending`,
      `partner-orders: order ${order.id}: provisioned`,
    ]);
    // 5, 10, 20, 30 s, then every minute, until the 3 minutes of provisioning have passed.
    expect(sleeps).toEqual([5_000, 10_000, 20_000, 30_000, 60_000, 60_000]);
    expect(sleeps.slice(0, 5)).toEqual([...WAIT_BACKOFF_MS]);
    expect(clock - started).toBeGreaterThanOrEqual(PROVISIONING_MS);
  });

  it('order wait: gives up at the timeout (exit 5) with the last answer, and stops at a cancelled order (exit 1)', async () => {
    const { order } = await buy();
    sleeps.length = 0;
    const waited = await cli(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', order.id, '--timeout', '40s']);
    expect(waited.code).toBe(5);
    expect(waited.json().state).toBe('pending');
    expect(sleeps).toEqual([5_000, 10_000, 20_000, 5_000]);
    expect(waited.stderr).toContain("run 'order wait' again to wait longer");

    const { order: other } = await buy();
    stack.simulator.setOrderStatus(other.id, 'cancelled');
    const cancelled = await cli(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', other.id]);
    expect(cancelled.code).toBe(1);
    expect(cancelled.json().state).toBe('cancelled');

    const missing = await cli(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', 'Cs_nosuchorder']);
    expect(missing.code).toBe(1);
  });

  it('order wait: keeps asking through failures (5xx, unreachable) until the timeout says which it was', async () => {
    const { order } = await buy();
    stack.simulator.injectFault({ kind: 'unavailable', match: { method: 'GET', path: order.id } });
    try {
      const failing = await cli([
        'order',
        'wait',
        '--customer-id',
        CUSTOMER,
        '--order-id',
        order.id,
        '--timeout',
        '10s',
      ]);
      expect(failing.code).toBe(3);
      expect(failing.stderr).toMatch(/HTTP 50\d from the API; asking again/);
    } finally {
      stack.simulator.clearFaults();
    }
    const unreachable = await cli(
      ['order', 'wait', '--customer-id', CUSTOMER, '--order-id', order.id, '--timeout', '6s'],
      {
        fetch: async () => {
          throw Object.assign(new TypeError('fetch failed'), {
            cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
          });
        },
      },
    );
    expect(unreachable.code).toBe(4);
    expect(unreachable.stdout).toBe('');
  });

  it('purchase show: what became of the purchase sent with the key', async () => {
    const { key, order } = await buy();
    const shown = await cli(['purchase', 'show', '--idempotency-key', key]);
    expect(shown.code).toBe(0);
    expect(shown.json()).toMatchObject({
      idempotencyKey: key,
      purchases: [{ operation: 'createOrder', state: 'succeeded', orderIds: [order.id] }],
    });
    const unknownKey = await cli(['purchase', 'show', '--idempotency-key', unique('never')]);
    expect(unknownKey.code).toBe(1);
    expect(unknownKey.json().type).toBe('urn:partner-orders:problem:not-found');
  });

  it('lists the new commands in the help', async () => {
    const help = await cli(['--help']);
    for (const command of ['order status', 'order wait', 'purchase show']) expect(help.stdout).toContain(command);
    const wait = await cli(['order', 'wait', '--help']);
    expect(wait.stdout).toContain('5  not provisioned by the timeout');
  });
});
