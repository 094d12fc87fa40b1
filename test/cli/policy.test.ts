// `partner-orders policy check` and `policy explain`: offline, on the repository's policy files (and on broken copies of
// them), through main() as a person runs them. Neither sends anything: fetch is a spy that must stay unused.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { POLICY_DIR } from '../../functions/shared/policy/local.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const sent: string[] = [];
  const code = await main(args, {
    env: {},
    fetch: async (input) => {
      sent.push(String(input));
      throw new Error('policy commands send nothing');
    },
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  });
  expect(sent).toEqual([]);
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

/** A copy of policies/ with one file changed. */
function copyWith(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'policies-'));
  cpSync(POLICY_DIR, dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

describe('partner-orders policy check', () => {
  it('passes the repository’s files, deployed and local', async () => {
    const deployed = await cli(['policy', 'check']);
    expect(deployed).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok: 13 policies .*schema valid\n$/) });
    expect(deployed.stdout).not.toContain('local-allow-all');
    expect((await cli(['policy', 'check', '--local'])).stdout).toContain('local-allow-all');
  });

  it.each([
    [
      'a policy that reads an attribute the schema does not have',
      'guardrails.cedar',
      (t: string) => t.replace('context.line.quantity > 300', 'context.line.seats > 300'),
      /max-300-seats-per-line.*seats/,
    ],
    [
      'a policy without @id',
      'guardrails.cedar',
      (t: string) => t.replace('@id("max-300-seats-per-line")\n', ''),
      /a policy has no @id annotation/,
    ],
    [
      'two policies with one @id',
      'guardrails.cedar',
      (t: string) => t.replace('@id("max-1000-seats-per-request")', '@id("max-300-seats-per-line")'),
      /max-300-seats-per-line.*@id is also used/,
    ],
    [
      'an @field that names nothing',
      'guardrails.cedar',
      (t: string) => t.replace('@field("quantity")', '@field("seats")'),
      /@field\("seats"\) is not one of/,
    ],
    ['a syntax error', 'permits.cedar', (t: string) => t.replace('permit (', 'permit ('.repeat(2)), /permits\.cedar/],
    [
      'an entity of a type the schema does not have',
      'entities.json',
      (t: string) => t.replace('PartnerOrders::CustomerGroup', 'PartnerOrders::Tenant'),
      /entities\.json/,
    ],
  ])('finds %s: exit 1, one line per problem', async (_, file, edit, message) => {
    const run = await cli(['policy', 'check', '--policies', copyWith(file, edit)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(run.stderr).toContain('problem(s) in the policy files');
  });

  it('refuses options of explain', async () => {
    expect(await cli(['policy', 'check', '--caller', 'invoke'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--caller is not an option of 'policy check'"),
    });
  });
});

describe('partner-orders policy explain', () => {
  const order = (caller: string, line: string, ...more: string[]) => [
    'policy',
    'explain',
    '--caller',
    caller,
    '--action',
    'CreateOrder',
    '--customer-id',
    CUSTOMER,
    '--line-item',
    line,
    ...more,
  ];

  it('explains a refusal: the deciding policy, the field and the reason; exit 1', async () => {
    const run = await cli(order('events:com.example.billing', `offerId=${NCE},quantity=5,termDuration=P3Y`, '--local'));
    expect(run.code).toBe(1);
    expect(run.json()).toEqual({
      decision: 'deny',
      principal: 'PartnerOrders::Producer::"com.example.billing"',
      actions: ['CreateOrder'],
      policies: ['automation-no-three-year-terms'],
      field: '/body/lineItems/0/termDuration',
      reason: 'automation may not buy three-year terms (P3Y)',
      line: 'line item 0',
    });
    expect(run.stderr).toContain('refused: /body/lineItems/0/termDuration');
  });

  it('explains an allow: the permits behind it; exit 0', async () => {
    const run = await cli(order('events:com.example.billing', `offerId=${NCE},quantity=5,termDuration=P1Y`, '--local'));
    expect(run).toMatchObject({ code: 0, stderr: expect.stringContaining('allowed by local-allow-all') });
    expect(run.json()).toMatchObject({ decision: 'allow', policies: ['local-allow-all'] });
  });

  it('uses the deployed files by default: nobody is named, so nothing is permitted', async () => {
    const run = await cli(order('arn:aws:sts::111122223333:assumed-role/Billing/s1', `offerId=${NCE},quantity=5`));
    expect(run.code).toBe(1);
    expect(run.json()).toMatchObject({
      principal: 'PartnerOrders::Role::"arn:aws:iam::111122223333:role/Billing"',
      policies: [],
      field: '/path/customerId',
    });
  });

  it('takes a JWT caller’s groups, and judges a checkout on the cart lines given', async () => {
    const dir = copyWith('entities.json', (t) =>
      t.replace(
        '{ "uid": { "type": "PartnerOrders::Group", "id": "buyers" }, "attrs": {}, "parents": [] }',
        `{ "uid": { "type": "PartnerOrders::Group", "id": "buyers" }, "attrs": {}, "parents": [] },
         { "uid": { "type": "PartnerOrders::TokenGroup", "id": "Purchasers" }, "attrs": {},
           "parents": [{ "type": "PartnerOrders::Group", "id": "buyers" }] }`,
      ),
    );
    const caller = 'http:jwt:["https://login.example.com/t/v2.0","alice"]';
    const checkout = (quantity: number, ...more: string[]) =>
      cli([
        'policy',
        'explain',
        '--policies',
        dir,
        '--caller',
        caller,
        '--action',
        'CheckoutCart',
        '--customer-id',
        CUSTOMER,
        '--line-item',
        `catalogItemId=${NCE},quantity=${quantity},billingCycle=monthly`,
        ...more,
      ]);
    expect((await checkout(5, '--group', 'Purchasers')).json()).toMatchObject({
      decision: 'allow',
      actions: ['CheckoutCart'],
      policies: ['buyers-for-every-customer'],
    });
    expect((await checkout(5)).code).toBe(1);
    expect((await checkout(301, '--group', 'Purchasers')).json()).toMatchObject({
      field: '/path/cartId',
      reason: 'cart line 0: at most 300 seats per line item',
    });
  });

  it.each([
    [['--caller', 'invoke'], '--customer-id is required'],
    [
      ['--caller', 'somebody', '--customer-id', CUSTOMER, '--action', 'CreateOrder'],
      "--caller 'somebody' is not a caller",
    ],
    [['--caller', 'invoke', '--customer-id', CUSTOMER, '--action', 'Buy'], '--action must be one of'],
    [['--caller', 'invoke', '--customer-id', CUSTOMER, '--action', 'CreateOrder'], 'at least one --line-item'],
    [
      [
        '--caller',
        'invoke',
        '--customer-id',
        CUSTOMER,
        '--action',
        'CreateOrder',
        '--line-item',
        `offerId=${NCE},quantity=0`,
      ],
      'not a valid request: /body/lineItems/0/quantity',
    ],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j: exit 2', async (args, message) => {
    const run = await cli(['policy', 'explain', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('has help, and is listed in the top help', async () => {
    expect(await cli(['policy', 'explain', '--help'])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('--caller CALLER'),
    });
    expect((await cli(['--help'])).stdout).toContain('policy explain');
    expect((await cli(['policy'])).code).toBe(2);
  });
});
