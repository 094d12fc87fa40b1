// docs/deploy.md's going-live checklist, walked as far as it goes without AWS: the synth, `npm run cost`, the
// credentials check against the simulator's Entra stand-in, making yourself a buyer (and the policy deciding so), the
// customer check, the purchase with --what-if, then for real, then `order wait`, against the local server. Each step
// first checks that the checklist still says the command it runs.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Io, main } from '../../cli/main.js';
import { policyMain } from '../../cli/policy.js';
import { costReport, summaryLine, synthTemplate } from '../../scripts/cost.js';
import { captureLogs } from '../support/logs.js';
import { AS_NPM_START, type Stack, startStack } from '../support/stack.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const checklist = (() => {
  const deploy = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
  return /## Going live\n([\s\S]*?)\n## /.exec(deploy)?.[1] ?? '';
})();
/** The checklist names the command (its line breaks are only wrapping). */
const says = (command: string) => expect(checklist.replace(/\s+/g, ' ')).toContain(command);

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ROLE = 'arn:aws:iam::111122223333:role/PartnerAdmin';
const LINE = 'offerId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=1,termDuration=P1Y';
captureLogs();

describe('going live, as far as it goes without AWS (docs/deploy.md)', () => {
  let stack: Stack;
  const policies = mkdtempSync(join(tmpdir(), 'partner-orders-policies-'));
  async function cli(args: string[], io: Partial<Io> = {}) {
    let stdout = '';
    let stderr = '';
    const code = await main([...args, '--endpoint', stack.url], {
      env: {},
      interactive: false,
      sleep: async () => {},
      ...io,
      stdout: { write: (chunk: string) => (stdout += chunk) },
      stderr: { write: (chunk: string) => (stderr += chunk) },
    });
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  }
  async function policy(args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await policyMain(
      args,
      { write: (chunk: string) => (stdout += chunk) },
      { write: (chunk: string) => (stderr += chunk) },
    );
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    expect(checklist).not.toBe('');
    cpSync(join(ROOT, 'policies'), policies, { recursive: true });
    stack = await startStack({ ...AS_NPM_START, duplicates: {} });
  });
  afterAll(async () => {
    await stack.stop();
    rmSync(policies, { recursive: true, force: true });
  });

  it('2. npm run synth: the template, cdk-nag satisfied, no feature-flag notice', async () => {
    says('npm run synth');
    const { stdout, stderr } = await run('npm', ['run', 'synth', '--silent', '--', '-q'], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const output = `${stdout}${stderr}`;
    expect(output).not.toMatch(/AwsSolutions-\w+/);
    expect(output).not.toMatch(/feature flags are not configured/i);
  }, 600_000);

  it('3. npm run cost: the figures the checklist quotes', () => {
    says('npm run cost');
    const rows = costReport(synthTemplate());
    const line = summaryLine(rows);
    const figures = /about (\$[\d.]+) a month fixed, plus (\$[\d.]+) per 1,000 purchases/.exec(line);
    says(`about ${figures?.[1]} a month fixed, ${figures?.[2]} per 1,000 purchases`);
  }, 120_000);

  it('6. credentials check: a token from the (simulated) Entra ID with the stored refresh token', async () => {
    says('npx partner-orders credentials check --endpoint <ApiUrl>');
    const check = await cli(['credentials', 'check']);
    expect(check.code).toBe(0);
    expect(check.json()).toMatchObject({ tokenAcquired: true, authMode: 'app+user' });
  });

  it('7. make yourself a buyer: denied by default, allowed once in buyers', async () => {
    says('npx partner-orders policy add-buyer <your IAM role ARN>');
    says('npx partner-orders policy explain --caller <your IAM role ARN> --action CreateOrder');
    const explain = [
      'explain',
      '--policies',
      policies,
      '--caller',
      ROLE,
      '--action',
      'CreateOrder',
      '--customer-id',
      CUSTOMER,
      '--line-item',
      LINE,
    ];
    const before = await policy(explain);
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout)).toMatchObject({ decision: 'deny', policies: [] });
    const added = await policy(['add-buyer', ROLE, '--policies', policies]);
    expect(added.code).toBe(0);
    const entities = JSON.parse(readFileSync(join(policies, 'entities.json'), 'utf8'));
    expect(entities).toContainEqual({
      uid: { type: 'PartnerOrders::Role', id: ROLE },
      attrs: {},
      parents: [{ type: 'PartnerOrders::Group', id: 'buyers' }],
    });
    expect((await policy(['check', '--policies', policies])).code).toBe(0);
    const after = await policy(explain);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ decision: 'allow', policies: ['buyers-for-every-customer'] });
    // Once is enough: a second add changes nothing.
    expect((await policy(['add-buyer', ROLE, '--policies', policies])).stdout).toContain('already there');
  });

  it('8-11. customer check, --what-if, the order for real (confirmed), order wait', async () => {
    says('npx partner-orders customer check <customer> --endpoint <ApiUrl>');
    const customer = await cli(['customer', 'check', CUSTOMER]);
    expect(customer.code).toBe(0);
    says('npx partner-orders order create --what-if --endpoint <ApiUrl> --customer-id <customer> --line-item');
    const order = ['order', 'create', '--customer-id', CUSTOMER, '--line-item', LINE, '--billing-cycle', 'monthly'];
    const whatIf = await cli([...order, '--what-if']);
    expect(whatIf.code).toBe(0);
    expect(whatIf.json()).toMatchObject({
      dryRun: true,
      preflight: { verdict: 'pass' },
      authorization: { decision: 'allow' },
    });
    expect(whatIf.json().duplicate).toBeUndefined();
    says('--idempotency-key first-order-0001');
    const questions: string[] = [];
    const real = await cli([...order, '--idempotency-key', 'first-order-0001'], {
      interactive: true,
      confirm: async (question) => {
        questions.push(question);
        return true;
      },
    });
    expect(questions).toEqual(['Buy this? [y/N] ']);
    expect(real.code).toBe(0);
    const placed = real.json();
    expect(placed).toMatchObject({ id: expect.any(String), status: expect.any(String) });
    // The same command after a timeout: the first answer again, never a second order.
    const again = await cli([...order, '--idempotency-key', 'first-order-0001', '--yes']);
    expect(again.json().id).toBe(placed.id);
    says('npx partner-orders order wait --endpoint <ApiUrl> --customer-id <customer> --order-id <order id>');
    const waited = await cli(['order', 'wait', '--customer-id', CUSTOMER, '--order-id', placed.id, '--timeout', '2m']);
    expect(waited.code).toBe(0);
    expect(waited.json()).toMatchObject({ id: placed.id, state: 'provisioned' });
  });
});
