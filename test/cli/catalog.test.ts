// `partner-orders catalog search` and the pre-flight in `--what-if`: argument parsing, the request, and whole runs of
// main() against the local stack (local server → real handlers → Partner Center simulator), the pre-flight on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../cli/args.js';
import { type Io, main } from '../../cli/main.js';
import { toApiRequest } from '../../cli/request.js';
import { CatalogSearchResult } from '../../functions/shared/schemas/catalog.js';
import { captureLogs } from '../support/logs.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
captureLogs();

async function cli(args: string[], io: Partial<Io> = {}) {
  let stdout = '';
  let stderr = '';
  const sent: string[] = [];
  const code = await main(args, {
    env: {},
    ...io,
    fetch: async (input, init) => {
      sent.push(`${init?.method ?? 'GET'} ${String(input)}`);
      return fetch(input, init);
    },
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  });
  return { code, stdout, stderr, sent };
}

describe('catalog search: arguments', () => {
  const parse = (argv: string[]) => parseCommandLine(argv, {});

  it('takes the words to search for as its arguments, and its own options', () => {
    const invocation = parse([
      'catalog',
      'search',
      '--customer-id',
      CUSTOMER,
      'Microsoft',
      '365',
      'E3',
      '--target-view',
      'Software',
      '--json',
    ]);
    expect(invocation).toMatchObject({
      kind: 'run',
      command: {
        name: 'catalog search',
        customerId: CUSTOMER,
        search: 'Microsoft 365 E3',
        targetView: 'Software',
        json: true,
      },
    });
    if (invocation.kind !== 'run') throw new Error('not a run');
    const request = toApiRequest(invocation.command);
    expect(request.method).toBe('GET');
    expect(request.body).toBeUndefined();
    expect(request.headers['idempotency-key']).toBeUndefined();
    expect(String(request.url)).toBe(
      `http://127.0.0.1:3000/customers/${CUSTOMER}/catalog?search=Microsoft+365+E3&targetView=Software`,
    );
  });

  it.each([
    [['catalog', 'search', '--customer-id', CUSTOMER], /give the words to search for/],
    [['catalog', 'search', 'E3'], /--customer-id is required/],
    [
      ['catalog', 'search', '--customer-id', CUSTOMER, '--idempotency-key', 'k', 'E3'],
      /not an option of 'catalog search'/,
    ],
    [['catalog', 'search', '--customer-id', CUSTOMER, '--what-if', 'E3'], /not an option of 'catalog search'/],
    [['catalog', 'find', 'E3'], /unknown command 'catalog find'/],
    [
      ['order', 'create', 'E3', '--customer-id', CUSTOMER, '--line-item', 'offerId=x,quantity=1'],
      /unexpected argument 'E3'/,
    ],
  ])('refuses %j before sending anything', async (argv, message) => {
    const run = await cli(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.sent).toEqual([]);
  });

  it('has its help, listed with the other commands', async () => {
    expect((await cli(['--help'])).stdout).toContain('catalog search');
    const help = await cli(['catalog', 'search', '--help']);
    expect(help.stdout).toContain('--target-view VIEW');
    expect(help.stdout).not.toContain('--idempotency-key KEY'); // a read: no key option (only said to need none)
  });
});

describe('catalog search and --what-if against the local stack (pre-flight on)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ idempotency: {}, env: { PREFLIGHT: 'on' }, simulator: { catalogChecks: true } });
  });
  afterAll(() => stack.stop());
  const endpoint = () => ['--endpoint', stack.url];

  it('prints a table whose first column pastes into order create', async () => {
    const run = await cli(['catalog', 'search', ...endpoint(), '--customer-id', CUSTOMER, 'Microsoft', '365', 'E3']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CATALOG ID\s+TERM\s+BILLING CYCLES\s+QUANTITY\s+PRODUCT \/ SKU$/);
    expect(lines).toContain(
      'CFQ7TTC0LFLZ:0001:CFQ7TTC0K4RX  P3Y   monthly, annual, triennial  1-5000    Microsoft 365 E3',
    );
    expect(lines.some((l) => /^CFQ7TTC0LFLZ:0002:CFQ7TTC0K4S0\s+P1M\s+none\s+1-25\s+.*Trial \(trial\)$/.test(l))).toBe(
      true,
    );
    expect(lines).toHaveLength(1 + 3 + 1 + 3); // E3: 3 terms; its trial: 1; E3 (no Teams): 3
    expect(run.stderr).toContain('catalog ids change over time');

    // The id and term from the table, pasted: the purchase goes through the pre-flight and is placed.
    const [id, term] = (lines.find((l) => l.includes(' P1Y ')) ?? '').split(/\s+/);
    const order = await cli([
      'order',
      'create',
      ...endpoint(),
      '--customer-id',
      CUSTOMER,
      '--line-item',
      `offerId=${id},quantity=5,termDuration=${term}`,
      '--billing-cycle',
      'annual',
    ]);
    expect(order.code, order.stdout).toBe(0);
  });

  it('--json prints the API answer', async () => {
    const run = await cli([
      'catalog',
      'search',
      ...endpoint(),
      '--customer-id',
      CUSTOMER,
      '--json',
      'business',
      'basic',
    ]);
    expect(run.code).toBe(0);
    const result = CatalogSearchResult.parse(JSON.parse(run.stdout));
    expect(result.products.map((p) => p.productId)).toEqual(['CFQ7TTC0LH18']);
  });

  it('says so when nothing matches, and passes the API refusal on (exit 1)', async () => {
    const none = await cli(['catalog', 'search', ...endpoint(), '--customer-id', CUSTOMER, 'no such product']);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toContain("no product of the OnlineServices view matches 'no such product'");
    const bad = await cli([
      'catalog',
      'search',
      ...endpoint(),
      '--customer-id',
      CUSTOMER,
      '--target-view',
      'Nope',
      'x',
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).errors[0].path).toBe('/query/targetView');
  });

  it('--what-if prints the pre-flight verdict, and exits 1 when it predicts a refusal', async () => {
    // Earlier tests bought through carts: a what-if adds none.
    const cartsBefore = stack.simulator.ledger.carts.length;
    const ordersBefore = stack.simulator.ledger.orders.length;
    const refused = await cli([
      'order',
      'create',
      '--what-if',
      ...endpoint(),
      '--customer-id',
      CUSTOMER,
      '--line-item',
      'offerId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=5,termDuration=P3Y',
    ]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).preflight).toMatchObject({ verdict: 'refused' });
    expect(refused.stderr).toContain('the catalog pre-flight would refuse this purchase (422 catalog-mismatch)');
    expect(refused.stderr).toMatch(/\/body\/lineItems\/0\/termDuration: P3Y is not a term/);
    const passes = await cli([
      'cart',
      'create',
      '--what-if',
      ...endpoint(),
      '--customer-id',
      CUSTOMER,
      '--line-item',
      'catalogItemId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=5,billingCycle=monthly,termDuration=P1M',
    ]);
    expect(passes.code).toBe(0);
    expect(JSON.parse(passes.stdout).preflight).toMatchObject({ verdict: 'pass' });
    expect(passes.stderr).not.toContain('pre-flight');
    expect(stack.simulator.ledger.carts).toHaveLength(cartsBefore);
    expect(stack.simulator.ledger.orders).toHaveLength(ordersBefore);
  });
});
