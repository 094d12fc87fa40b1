// The two engines decide alike: cedar-wasm in the process (local server, tests, CLI) and Amazon Verified Permissions
// (deployed), here through the real SDK client against a loopback stand-in holding a policy store made from the same
// files. The stand-in evaluates with cedar-wasm too, so what this shows is that the requests we send Verified
// Permissions carry exactly what the local engine judges, and that its answers are read back the same way: the same
// decisions, the same deciding policies (by @id), the same fields. And that the deployed engine fails closed.
import { VerifiedPermissionsClient } from '@aws-sdk/client-verifiedpermissions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/shared/config.js';
import { createDependencies } from '../../functions/shared/dependencies.js';
import type { PolicyDeniedError } from '../../functions/shared/errors.js';
import { PolicyUnavailableError } from '../../functions/shared/errors.js';
import { VerifiedPermissionsEngine } from '../../functions/shared/policy/avp.js';
import { type Decision, PurchasePolicy } from '../../functions/shared/policy/check.js';
import type { PolicyEngine } from '../../functions/shared/policy/engine.js';
import { CedarEngine, loadPolicyFiles, type PolicyFiles } from '../../functions/shared/policy/local.js';
import {
  type EntityJson,
  entitiesFor,
  type PurchaseToJudge,
  policyLine,
  principalOf,
  requestsOf,
} from '../../functions/shared/policy/model.js';
import { ReadPolicy } from '../../functions/shared/policy/read.js';
import { lambdaContext } from '../support/events.js';
import { invokeOrder } from '../support/invoke.js';
import { captureLogs } from '../support/logs.js';
import { FakeVerifiedPermissions } from '../support/verified-permissions.js';

captureLogs();

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const CONTOSO = '0b6f1c3e-2d4a-4e8b-9c7d-1a2b3c4d5e6f';
const member = (type: string, id: string, ...groups: [string, string][]): EntityJson => ({
  uid: { type: `PartnerOrders::${type}`, id },
  attrs: {},
  parents: groups.map(([t, g]) => ({ type: `PartnerOrders::${t}`, id: g })),
});

function files(): PolicyFiles {
  const loaded = loadPolicyFiles();
  loaded.entities.push(
    member('Role', 'arn:aws:iam::111122223333:role/Buyer', ['Group', 'buyers']),
    member('TokenGroup', 'groups:Purchasers', ['Group', 'buyers']),
    member('Producer', 'com.example.billing', ['Group', 'buyers'], ['Group', 'automation']),
    member('Producer', 'com.contoso.billing', ['Group', 'contoso-systems']),
    member('Customer', CONTOSO, ['CustomerGroup', 'contoso']),
  );
  return loaded;
}

const line = (more: Partial<Parameters<typeof policyLine>[0]> = {}) =>
  policyLine({ id: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, term: 'P1Y', ...more });

/** A purchase as the command layer makes one, with lines only (the request's pointers as HTTP has them). */
const purchase = (
  actions: PurchaseToJudge['actions'],
  lines: ReturnType<typeof policyLine>[],
  customerId = CUSTOMER,
): PurchaseToJudge => ({
  actions,
  customerId,
  paths: { customer: '/path/customerId', totalSeats: '/body/lineItems', lineCount: '/body/lineItems' },
  lines: lines.map((l, i) => ({
    line: l,
    paths: { quantity: `/body/lineItems/${i}/quantity`, term: `/body/lineItems/${i}/termDuration` },
    at: `/body/lineItems/${i}`,
    origin: `line item ${i}`,
  })),
});

/** Who asks what: every kind of caller, allowed and refused, each guardrail. */
const CASES: [string, string, string[], PurchaseToJudge][] = [
  ['a buyer role', 'http:iam:arn:aws:iam::111122223333:role/Buyer', [], purchase(['CreateOrder'], [line()])],
  ['a stranger role', 'http:iam:arn:aws:iam::111122223333:role/Other', [], purchase(['CreateOrder'], [line()])],
  ['a token group', 'http:jwt:["https://issuer","alice"]', ['groups:Purchasers'], purchase(['CreateCart'], [line()])],
  ['no token group', 'http:jwt:["https://issuer","bob"]', ['Readers'], purchase(['CreateCart'], [line()])],
  ['seats per line', 'events:com.example.billing', [], purchase(['CreateOrder'], [line(), line({ quantity: 301 })])],
  [
    'seats per request',
    'events:com.example.billing',
    [],
    purchase(
      ['CreateOrder'],
      [1, 2, 3, 4].map(() => line({ quantity: 260 })),
    ),
  ],
  ['P3Y for automation', 'events:com.example.billing', [], purchase(['CreateOrder'], [line({ term: 'P3Y' })])],
  ['P36M for automation', 'events:com.example.billing', [], purchase(['CreateOrder'], [line({ term: 'P36M' })])],
  [
    'a renewal to P3Y for automation',
    'events:com.example.billing',
    [],
    purchase(['CreateCart'], [line({ renewsToTerm: 'P3Y', billingCycle: 'annual' })]),
  ],
  ['no term for automation', 'events:com.example.billing', [], purchase(['CreateOrder'], [line({ term: '' })])],
  [
    'a trial',
    'events:com.example.billing',
    [],
    purchase(['CreateCart', 'CheckoutCart'], [line({ billingCycle: 'none' })]),
  ],
  ['an add-on', 'events:com.example.billing', [], purchase(['AddOn'], [line()])],
  ['contoso for its customer', 'events:com.contoso.billing', [], purchase(['CreateOrder'], [line()], CONTOSO)],
  ['contoso for another', 'events:com.contoso.billing', [], purchase(['CreateOrder'], [line()])],
];

describe('cedar-wasm and Verified Permissions decide alike', () => {
  const fake = new FakeVerifiedPermissions(files());
  let endpoint: string;
  let client: VerifiedPermissionsClient;
  const local = new CedarEngine(files());
  let avp: VerifiedPermissionsEngine;

  beforeAll(async () => {
    endpoint = await fake.start();
    client = new VerifiedPermissionsClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    avp = new VerifiedPermissionsEngine({ policyStoreId: fake.policyStoreId, client, entities: files().entities });
  });
  afterAll(() => fake.stop());

  const judge = (
    policy: PurchasePolicy,
    [_, caller, groups, what]: (typeof CASES)[number],
    deadline = Date.now() + 5_000,
  ): Promise<Decision> => policy.judge(what, { caller, callerGroups: groups, dryRun: false }, 'createOrder', deadline);

  it.each([
    ['a buyer', 'http:iam:arn:aws:iam::111122223333:role/Buyer', [CUSTOMER, CONTOSO], true],
    ['a stranger', 'http:iam:arn:aws:iam::111122223333:role/Other', [CUSTOMER], false],
    ['contoso for its customer', 'events:com.contoso.billing', [CONTOSO], true],
    ['contoso for another', 'events:com.contoso.billing', [CONTOSO, CUSTOMER], false],
  ] as const)('Read by %s: the same decision from both engines', async (_, caller, customers, allowed) => {
    const read = (engine: PolicyEngine) =>
      new ReadPolicy(engine).check({ caller }, 'order', customers, '/path/customerId', Date.now() + 5_000).then(
        () => 'allowed',
        (error: PolicyDeniedError) => error.denial,
      );
    const [here, there] = await Promise.all([read(local), read(avp)]);
    expect(there).toEqual(here);
    expect(here === 'allowed').toBe(allowed);
  });

  it.each(CASES)('%s: the same decision, deciding policies and field', async (...testCase) => {
    const [here, there] = await Promise.all([
      judge(new PurchasePolicy(local), testCase),
      judge(new PurchasePolicy(avp), testCase),
    ]);
    expect(there).toEqual(here);
  });

  it('covers both outcomes and every guardrail kind above', async () => {
    const decisions = await Promise.all(CASES.map((c) => judge(new PurchasePolicy(local), c)));
    expect(decisions.filter((d) => d.allowed).length).toBeGreaterThanOrEqual(3);
    expect(new Set(decisions.flatMap((d) => d.denial?.policies ?? []))).toEqual(
      new Set([
        'max-300-seats-per-line',
        'max-1000-seats-per-request',
        'automation-no-three-year-terms',
        'automation-no-three-year-renewals',
        'automation-names-the-term',
        'automation-no-trials',
        'automation-no-add-ons',
      ]),
    );
  });

  it('sends Verified Permissions the Cedar JSON the local engine evaluates', async () => {
    const [_, caller, groups, what] = CASES[2] as (typeof CASES)[number];
    const principal = principalOf(caller, groups);
    const requests = requestsOf(what, principal);
    const entities = entitiesFor(files().entities, principal, requests[0]?.resource ?? { type: '', id: '' });
    const before = fake.calls.length;
    await avp.authorize({ requests, entities }, Date.now() + 5_000);
    const call = fake.calls.slice(before).find((c) => c.target === 'BatchIsAuthorized');
    expect(call?.body).toEqual({
      policyStoreId: fake.policyStoreId,
      entities: { cedarJson: JSON.stringify(entities) },
      requests: requests.map((r) => ({
        principal: { entityType: 'PartnerOrders::User', entityId: 'https://issuer|alice' },
        action: { actionType: 'PartnerOrders::Action', actionId: 'CreateCart' },
        resource: { entityType: 'PartnerOrders::Customer', entityId: CUSTOMER },
        context: { cedarJson: JSON.stringify(r.context) },
      })),
    });
    // The token's group rides along as the principal's parent, with the group above it.
    expect(JSON.parse((call?.body.entities as { cedarJson: string } | undefined)?.cedarJson ?? '[]')).toEqual(
      expect.arrayContaining([
        { uid: principal.uid, attrs: {}, parents: [{ type: 'PartnerOrders::TokenGroup', id: 'groups:Purchasers' }] },
        member('TokenGroup', 'groups:Purchasers', ['Group', 'buyers']),
      ]),
    );
  });

  it('asks in batches of 30 and keeps the order: line 61 of 75 is the one refused', async () => {
    // Lines that differ (lines alike are asked once: the next test).
    const lines = Array.from({ length: 75 }, (_, i) => line({ id: `P${i}:0001:A`, quantity: i === 61 ? 301 : 1 }));
    const what = purchase(['CreateOrder'], lines);
    const before = fake.count('BatchIsAuthorized');
    const decision = await new PurchasePolicy(avp).judge(
      what,
      { caller: 'http:iam:arn:aws:iam::111122223333:role/Buyer', dryRun: false },
      'createOrder',
      Date.now() + 5_000,
    );
    expect(fake.count('BatchIsAuthorized') - before).toBe(3);
    expect(decision.denial).toMatchObject({
      path: '/body/lineItems/61/quantity',
      policies: ['max-300-seats-per-line'],
    });
  });

  it('asks once for lines alike: 100 lines of one SKU are one request', async () => {
    const before = fake.calls.length;
    const decision = await new PurchasePolicy(avp).judge(
      purchase(
        ['CreateOrder'],
        Array.from({ length: 100 }, () => line({ quantity: 2 })),
      ),
      { caller: 'http:iam:arn:aws:iam::111122223333:role/Buyer', dryRun: false },
      'createOrder',
      Date.now() + 5_000,
    );
    expect(decision.allowed).toBe(true);
    const calls = fake.calls.slice(before).filter((c) => c.target === 'BatchIsAuthorized');
    expect(calls.map((c) => (c.body.requests as unknown[]).length)).toEqual([1]);
    expect(
      JSON.parse(
        ((calls[0]?.body.requests ?? []) as { context: { cedarJson: string } }[])[0]?.context.cedarJson ?? '{}',
      ),
    ).toMatchObject({ lineCount: 100, totalSeats: 200 });
  });

  it('reads the policies’ names once, then from its cache', async () => {
    const engine = new VerifiedPermissionsEngine({
      policyStoreId: fake.policyStoreId,
      client,
      entities: files().entities,
    });
    const policy = new PurchasePolicy(engine);
    const before = fake.count('BatchGetPolicy');
    await judge(policy, CASES[0] as (typeof CASES)[number]);
    await judge(policy, CASES[0] as (typeof CASES)[number]);
    expect(fake.count('BatchGetPolicy') - before).toBe(1);
  });

  describe('fails closed', () => {
    const ask = () =>
      judge(new PurchasePolicy(avp), CASES[0] as (typeof CASES)[number]).catch((error: unknown) => error);

    it.each([
      [500, 'InternalServerException'],
      [400, 'ThrottlingException'],
      [400, 'AccessDeniedException'],
      [400, 'ResourceNotFoundException'],
    ])('Verified Permissions answering %i %s: policy unavailable', async (status, type) => {
      fake.failWith = { status, type };
      try {
        const error = await ask();
        expect(error).toBeInstanceOf(PolicyUnavailableError);
        expect((error as Error).message).toContain(type);
      } finally {
        fake.failWith = undefined;
      }
    });

    it('no answer before the deadline: policy unavailable at the deadline', async () => {
      fake.delayMs = 3_000;
      try {
        const started = Date.now();
        const error = await judge(new PurchasePolicy(avp), CASES[0] as (typeof CASES)[number], started + 500).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(PolicyUnavailableError);
        expect(Date.now() - started).toBeGreaterThanOrEqual(450);
        // Before the fake's answer at 3 s (a policy that waited for it would take that long), whatever the load.
        expect(Date.now() - started).toBeLessThan(3_000);
      } finally {
        fake.delayMs = 0;
      }
    });
  });

  it('a batch that fails stops the batches still running beside it (nothing runs on into the next invocation)', async () => {
    const signals: AbortSignal[] = [];
    const client = {
      send: (_command: unknown, options: { abortSignal: AbortSignal }) => {
        signals.push(options.abortSignal);
        if (signals.length === 1)
          return Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
        return new Promise((_resolve, reject) =>
          options.abortSignal.addEventListener('abort', () => reject(options.abortSignal.reason)),
        );
      },
    };
    const engine = new VerifiedPermissionsEngine({ policyStoreId: 'ps', client: client as never, entities: [] });
    const request = (i: number) => ({
      principal: { type: 'P', id: 'p' },
      action: { type: 'A', id: 'a' },
      resource: { type: 'R', id: `${i}` },
      context: {},
    });
    // 31 requests are two batches (30 + 1); the deadline is far away, so only the failure can stop the second.
    const requests = Array.from({ length: 31 }, (_, i) => request(i));
    await expect(engine.authorize({ requests, entities: [] } as never, Date.now() + 60_000)).rejects.toThrow();
    expect(signals).toHaveLength(2);
    expect(signals[1]?.aborted).toBe(true);
  });

  it('a function wired from its configuration asks the policy store it is given, and denies by default', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_VERIFIEDPERMISSIONS: endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    try {
      const deps = createDependencies(
        readConfig({
          POLICY_STORE_ID: fake.policyStoreId,
          PARTNER_CENTER_URL: 'http://127.0.0.1:9',
          PARTNER_CENTER_CREDENTIALS: '{"tenantId":"t","clientId":"c","clientSecret":"s"}',
        }),
      );
      const before = fake.count('BatchIsAuthorized');
      const answer = await invokeOrder(deps)(
        {
          customerId: CUSTOMER,
          dryRun: true,
          lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }],
        },
        lambdaContext(),
      );
      expect(fake.count('BatchIsAuthorized') - before).toBe(1);
      // The deployed entities name nobody: the invoker is in no group, so nothing permits it.
      expect(answer).toMatchObject({
        status: 403,
        type: 'urn:partner-orders:problem:policy-denied',
        policy: { principal: 'PartnerOrders::Invoker::"invoke"', policies: [] },
      });
      // Verified Permissions down: the same function fails closed, and a caller's retry policy applies.
      fake.failWith = { status: 500, type: 'InternalServerException' };
      await expect(
        invokeOrder(deps)(
          {
            customerId: CUSTOMER,
            dryRun: true,
            lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }],
          },
          lambdaContext(),
        ),
      ).rejects.toThrow(/503 The purchase policy could not be evaluated/);
    } finally {
      fake.failWith = undefined;
      process.env = saved;
    }
  });
});
