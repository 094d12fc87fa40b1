// Issue 21's CLI: the confirmation a real purchase asks for on a terminal (--yes, non-TTY), --allow-duplicate, the
// lists and `customer check`, PowerShell-style flags and did-you-mean hints, help that tells the truth, tolerant
// enums, and where to point the CLI when nothing answers.

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/args.js';
import { COMMAND_HELP } from '../../cli/help.js';
import { type Io, main } from '../../cli/main.js';
import { toApiRequest } from '../../cli/request.js';
import { SIMULATOR_UNKNOWN_CUSTOMER_ID } from '../../local/simulator/index.js';
import { captureLogs } from '../support/logs.js';
import { AS_NPM_START, type Stack, startStack } from '../support/stack.js';

const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
captureLogs();
let counter = 0;
const customer = () =>
  `4a8c3e2d-1b6f-4c7e-9d2a-${String(Date.now() % 1e6).padStart(6, '0')}${String(counter++).padStart(6, '0')}`;

describe('partner-orders for a person at a terminal', () => {
  let stack: Stack;
  async function cli(args: string[], io: Partial<Io> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await main([...args, '--endpoint', stack.url], {
      env: {},
      interactive: false,
      ...io,
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: (chunk: string) => (stderr += chunk) },
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  }
  const order = (id: string, key: string, ...extra: string[]) => [
    'order',
    'create',
    '--customer-id',
    id,
    '--line-item',
    `offerId=${NCE},quantity=3,termDuration=p1y`,
    '--billing-cycle',
    'Monthly',
    '--idempotency-key',
    key,
    ...extra,
  ];
  const ordersOf = (id: string) => stack.simulator.ledger.orders.filter((o) => o.referenceCustomerId === id);

  beforeAll(async () => {
    stack = await startStack({ ...AS_NPM_START, duplicates: {} });
  });
  afterAll(() => stack.stop());

  it('asks before a real purchase on a terminal: shows customer, lines, term and billing; no answer, nothing sent', async () => {
    const id = customer();
    const questions: string[] = [];
    const declined = await cli(order(id, `k-${id}`), {
      interactive: true,
      confirm: async (question) => {
        questions.push(question);
        return false;
      },
    });
    expect(questions).toEqual(['Buy this? [y/N] ']);
    expect(declined.stderr).toContain(`About to create an order for customer ${id}:`);
    expect(declined.stderr).toContain(`${NCE}  quantity 3  term p1y  billing Monthly`);
    expect(declined.stderr).toContain('nothing was sent');
    expect(declined.code).toBe(1);
    expect(ordersOf(id)).toHaveLength(0);
    const yes = await cli(order(id, `k-${id}`), { interactive: true, confirm: async () => true });
    expect(yes.code).toBe(0);
    expect(ordersOf(id)).toHaveLength(1);
    // --yes, a non-TTY stdin (interactive: false) and --what-if never ask.
    const never = async () => {
      throw new Error('asked');
    };
    expect((await cli(order(customer(), 'k-yes', '--yes'), { interactive: true, confirm: never })).code).toBe(0);
    expect((await cli(order(customer(), 'k-pipe'), { confirm: never })).code).toBe(0);
    const whatIf = [
      'order',
      'create',
      '--what-if',
      '--customer-id',
      customer(),
      '--line-item',
      `offerId=${NCE},quantity=1,termDuration=P1Y`,
    ];
    expect((await cli(whatIf, { interactive: true, confirm: never })).code).toBe(0);
  });

  it('a retry with a new key is refused as a possible duplicate, naming the first key; --allow-duplicate buys', async () => {
    const id = customer();
    expect((await cli(order(id, 'first'))).code).toBe(0);
    const whatIf = await cli([
      'order',
      'create',
      '--what-if',
      '--customer-id',
      id,
      '--line-item',
      `offerId=${NCE},quantity=3,termDuration=P1Y`,
    ]);
    expect(whatIf.code).toBe(1);
    expect(whatIf.json().duplicate).toMatchObject({
      verdict: 'possible-duplicate',
      earlier: { idempotencyKey: 'first' },
    });
    const again = await cli(order(id, 'second'));
    expect(again.code).toBe(1);
    expect(again.json()).toMatchObject({ status: 409, earlier: { idempotencyKey: 'first' } });
    expect(again.stderr).toContain('--allow-duplicate');
    const meant = await cli(order(id, 'second', '--allow-duplicate'));
    expect(meant.code).toBe(0);
    expect(ordersOf(id)).toHaveLength(2);
  });

  it('order list and subscription list print compact tables, --json the whole answer; customer check', async () => {
    const id = customer();
    await cli(order(id, `list-${id}`));
    const list = await cli(['order', 'list', '--customer-id', id, '--all']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ORDER +CREATED +STATUS +BILLING +LINES$/m);
    expect(list.stdout).toContain(`${NCE} x3`);
    const json = await cli(['order', 'list', '--customer-id', id, '--json']);
    expect(json.json()).toMatchObject({ items: [{ referenceCustomerId: id }], totalCount: 1 });
    const subscriptions = await cli(['subscription', 'list', '--customer-id', id]);
    expect(subscriptions.stdout).toMatch(/^SUBSCRIPTION +STATUS +QTY +TERM +BILLING +ORDER +NAME \/ OFFER$/m);
    expect(subscriptions.stdout.trim().split('\n')).toHaveLength(2);
    const ok = await cli(['customer', 'check', id]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('relationship reseller');
    const unknown = await cli(['customer', 'check', SIMULATOR_UNKNOWN_CUSTOMER_ID]);
    expect(unknown.code).toBe(1);
    expect(unknown.json()).toMatchObject({ type: 'urn:partner-orders:problem:customer-not-found' });
  });

  it('says where it looked and how to point it elsewhere when nothing answers', async () => {
    // A port nothing listens on: one just bound and released.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    let stderr = '';
    const code = await main(['credentials', 'check', '--endpoint', `http://127.0.0.1:${port}`], {
      env: {},
      stdout: { write: () => true },
      stderr: { write: (chunk: string) => (stderr += chunk) },
    });
    expect(code).toBe(4);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).toContain('--endpoint');
    expect(stderr).toContain('PARTNER_ORDERS_ENDPOINT');
    expect(stderr).toContain('PORT');
  });
});

describe('partner-orders for someone coming from PowerShell', () => {
  const refuse = (argv: string[]) => {
    try {
      parseCommandLine(argv, {});
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error(`accepted: ${argv.join(' ')}`);
  };

  it('hints the option for PowerShell-style flags', () => {
    expect(refuse(['order', 'create', '-CustomerId', 'x'])).toBe('-CustomerId is PowerShell style: use --customer-id');
    expect(refuse(['order', 'create', '-LineItems', 'x'])).toMatch(/use --line-item/);
    expect(refuse(['order', 'create', '-WhatIf'])).toBe('-WhatIf is PowerShell style: use --what-if');
    expect(refuse(['order', 'create', '-Confirm:$false'])).toMatch(/use --yes/);
    expect(refuse(['order', 'create', '-OrderId', 'x'])).toMatch(/use --order-id/);
    expect(refuse(['order', 'create', '-CurrencyCode', 'EUR'])).toMatch(/no counterpart/);
  });

  it('did-you-mean inside --line-item keys, and offerId on a cart line points at catalogItemId', () => {
    const base = ['--customer-id', '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90'];
    expect(refuse(['order', 'create', ...base, '--line-item', `offerId=${NCE},quantiy=5`])).toMatch(
      /unknown key 'quantiy' .*\(did you mean quantity\?\)/,
    );
    expect(refuse(['cart', 'create', ...base, '--line-item', `OfferId=${NCE},quantity=5`])).toMatch(
      /\(did you mean catalogItemId\?\)/,
    );
  });

  it('help tells the truth: a cart line takes CatalogItemId=, not OfferId=', () => {
    expect(COMMAND_HELP['cart create']).not.toContain('OfferId= works');
    expect(COMMAND_HELP['cart create']).toContain('CatalogItemId= works');
    expect(COMMAND_HELP['order create']).toContain('OfferId= works');
    expect(COMMAND_HELP['order create']).toContain('--allow-duplicate');
    expect(COMMAND_HELP['order create']).toContain('--yes');
  });

  it('sends --allow-duplicate as Allow-Duplicate: true; lists carry their filter and token', () => {
    const run = (argv: string[]) => {
      const parsed = parseCommandLine(argv, {});
      if (parsed.kind !== 'run') throw new Error('not a command');
      return toApiRequest(parsed.command);
    };
    const id = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
    const request = run([
      'order',
      'create',
      '--customer-id',
      id,
      '--line-item',
      `offerId=${NCE},quantity=1`,
      '--allow-duplicate',
    ]);
    expect(request.headers['allow-duplicate']).toBe('true');
    const list = run(['order', 'list', '--customer-id', id, '--billing-cycle', 'annual', '--continuation-token', 't']);
    expect(`${list.url.pathname}${list.url.search}`).toBe(
      `/customers/${id}/orders?billingType=annual&continuationToken=t`,
    );
    const subs = run(['subscription', 'list', '--customer-id', id, '--order-id', 'Cs_1']);
    expect(subs.url.search).toBe('?orderId=Cs_1');
    expect(() =>
      parseCommandLine(['cart', 'checkout', '--customer-id', id, '--cart-id', id, '--allow-duplicate'], {}),
    ).toThrow(/not an option/);
  });
});
