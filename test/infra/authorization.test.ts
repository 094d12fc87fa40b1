// Who may buy, as the stack deploys it: JWT scopes per route, the bus's resource policy (producers bound to their
// source, outcomes only from the consumer), the queue's (only the rule), the purchase policy store from policies/, and
// the denial metric and alarm. The bus and queue policies are also evaluated, by the small IAM evaluator below, for
// every kind of caller: what a statement says matters less than what it lets through.
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { loadPolicyFiles } from '../../functions/shared/policy/local.js';
import { routes } from '../../functions/shared/routes.js';
import {
  DEFAULT_JWT_SCOPES,
  PURCHASE_FUNCTIONS,
  parseEventProducers,
  READ_FUNCTIONS,
} from '../../infra/authorization.js';
import { stackPropsFromContext } from '../../infra/context.js';
import { bundleInputs, synth } from '../support/infra.js';

const BILLING = 'arn:aws:iam::111122223333:role/Billing';
const CRM = 'arn:aws:iam::111122223333:role/Crm';
const producers = [
  { source: 'com.example.billing', principalArn: BILLING },
  { source: 'com.example.crm', principalArn: CRM },
  { source: 'com.example.crm.eu', principalArn: CRM },
];
const jwt = { type: 'jwt' as const, issuer: 'https://login.example.com/', audience: ['partner-orders'] };
const { template, stack } = synth({ eventProducers: producers, authorizer: jwt });
const iam = synth().template;
const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
const consumerRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
  id.startsWith('OrderEventsRole'),
) as string;
const CONSUMER = { 'Fn::GetAtt': [consumerRole, 'Arn'] };

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
type Json = any;
interface Request {
  principal: Json;
  sources?: string[];
  sourceArn?: Json;
  /** An identity policy of the caller's own account allows the action (same-account callers need no resource allow). */
  identityAllows: boolean;
}

const same = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);
const list = (value: Json): Json[] => (Array.isArray(value) ? value : [value]);

/** The condition operators these policies use, over a request's keys (absent keys as IAM treats them). */
function matches(condition: Record<string, Record<string, Json>>, request: Request): boolean {
  const keys: Record<string, Json[] | undefined> = {
    'aws:PrincipalArn': [request.principal],
    'events:source': request.sources,
    'aws:SourceArn': request.sourceArn === undefined ? undefined : [request.sourceArn],
    // Every request here comes over TLS.
    'aws:SecureTransport': ['true'],
  };
  return Object.entries(condition).every(([operator, tests]) =>
    Object.entries(tests).every(([key, wanted]) => {
      const values = keys[key];
      const hit = (v: Json) => list(wanted).some((w) => same(v, w));
      switch (operator) {
        case 'ArnEquals':
        case 'StringEquals':
        case 'Bool':
          return values?.some(hit) ?? false;
        case 'ArnNotEquals':
        case 'StringNotEquals':
          return values === undefined || !values.some(hit);
        case 'Null':
          return (values === undefined) === (wanted === 'true');
        default:
          throw new Error(`operator ${operator} not modelled`);
      }
    }),
  );
}

const principalMatches = (statement: Json, principal: Json) =>
  statement.Principal === '*' ||
  statement.Principal?.AWS === '*' ||
  list(statement.Principal?.AWS).some((p) => same(p, principal)) ||
  list(statement.Principal?.Service).some((p) => same(p, principal));

/** Allowed when nothing denies and something (the resource policy or the caller's identity policy) allows. */
function allowed(statements: Json[], action: string, request: Request): boolean {
  const applicable = statements.filter(
    (s) =>
      list(s.Action).some((a) => a === action || (a.endsWith('*') && action.startsWith(a.slice(0, -1)))) &&
      principalMatches(s, request.principal) &&
      matches(s.Condition ?? {}, request),
  );
  if (applicable.some((s) => s.Effect === 'Deny')) return false;
  return request.identityAllows || applicable.some((s) => s.Effect === 'Allow');
}

const busStatements = (t = template): Json[] =>
  Object.values(t.findResources('AWS::Events::EventBus')).flatMap((b) => b.Properties.Policy?.Statement ?? []);
const queueStatements = (t = template) =>
  Object.entries(t.findResources('AWS::SQS::QueuePolicy'))
    .filter(([id]) => id.startsWith('CommandsPolicy'))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);

describe('JWT scopes', () => {
  const scopesOf = (t = template) =>
    Object.fromEntries(
      Object.values(t.findResources('AWS::ApiGatewayV2::Route')).map((r) => [
        r.Properties.RouteKey,
        r.Properties.AuthorizationScopes,
      ]),
    );

  it('purchase routes require the purchase scope, the others the read scope (from the route table)', () => {
    const scopes = scopesOf();
    expect(Object.keys(scopes).sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of routes) {
      expect(scopes[`${route.method} ${route.path}`], route.path).toEqual([DEFAULT_JWT_SCOPES[route.scope]]);
    }
    expect(routes.filter((r) => r.scope === 'purchase').map((r) => r.method)).not.toContain('GET');
    expect(scopes['POST /customers/{customerId}/orders']).toEqual(['partner-orders/purchase']);
    expect(scopes['GET /health/credentials']).toEqual(['partner-orders/read']);
  });

  it('takes the scope names from the deploy options', () => {
    const named = synth({
      authorizer: jwt,
      jwtScopes: { purchase: 'api://po/Orders.Buy', read: 'api://po/Orders.Read' },
    });
    const scopes = scopesOf(named.template);
    expect(scopes['PATCH /customers/{customerId}/orders/{orderId}']).toEqual(['api://po/Orders.Buy']);
    expect(scopes['GET /health/credentials']).toEqual(['api://po/Orders.Read']);
    expect(
      stackPropsFromContext(
        (key) =>
          ({ authorizer: 'jwt', jwtIssuer: 'https://i/', jwtAudience: 'a', jwtPurchaseScope: 'buy' })[key] as string,
      ).jwtScopes,
    ).toEqual({ purchase: 'buy', read: 'partner-orders/read' });
    expect(() => stackPropsFromContext((key) => ({ jwtPurchaseScope: 'buy' })[key as 'jwtPurchaseScope'])).toThrow(
      /authorizer=jwt/,
    );
  });

  it('has no scopes with IAM, which has none', () => {
    for (const scopes of Object.values(scopesOf(iam))) expect(scopes).toBeUndefined();
  });
});

/** EventBridge judges each entry of a PutEvents call on its own `events:source`: all go through, or not all do. */
const putAll = (statements: Json[], principal: Json, sources: (string | undefined)[], identityAllows = true) =>
  sources.every((source) =>
    allowed(statements, 'events:PutEvents', {
      principal,
      ...(source === undefined ? {} : { sources: [source] }),
      identityAllows,
    }),
  );

describe('event producers bound to their source (the bus policy)', () => {
  const put = (principal: Json, ...sources: (string | undefined)[]) => putAll(busStatements(), principal, sources);

  it('is one policy on the bus, in the single-value form: StringEquals with a Null check, never ForAllValues', () => {
    expect(template.findResources('AWS::Events::EventBusPolicy')).toEqual({});
    const text = JSON.stringify(busStatements());
    expect(text).not.toMatch(/ForAllValues|ForAnyValue/);
    for (const statement of busStatements().filter((s) => s.Effect === 'Allow')) {
      expect(statement.Condition, statement.Sid).toMatchObject({
        StringEquals: { 'events:source': expect.anything() },
        Null: { 'events:source': 'false' },
      });
    }
  });

  it('refuses an entry that carries no source, even from a named producer', () => {
    expect(put(BILLING, undefined)).toBe(false);
    expect(put(CONSUMER, undefined)).toBe(false);
  });

  it('lets a named producer put its own sources, one at a time or together', () => {
    expect(put(BILLING, 'com.example.billing')).toBe(true);
    expect(put(CRM, 'com.example.crm')).toBe(true);
    expect(put(CRM, 'com.example.crm', 'com.example.crm.eu')).toBe(true);
  });

  it('refuses a producer another’s source, even in a batch with its own', () => {
    expect(put(BILLING, 'com.example.crm')).toBe(false);
    expect(put(BILLING, 'com.example.billing', 'com.example.crm')).toBe(false);
  });

  it('refuses every principal nobody named, whatever its own IAM policy allows', () => {
    expect(put('arn:aws:iam::111122223333:role/Admin', 'com.example.billing')).toBe(false);
    expect(put('arn:aws:iam::444455556666:role/Billing', 'com.example.billing')).toBe(false);
  });

  it('lets only the consumer put source partner-orders (outcomes), and the consumer nothing else', () => {
    expect(put(BILLING, 'partner-orders')).toBe(false);
    expect(put(BILLING, 'com.example.billing', 'partner-orders')).toBe(false);
    expect(put(CONSUMER, 'partner-orders')).toBe(true);
    expect(put(CONSUMER, 'com.example.billing')).toBe(false);
  });

  it('grants producers in another account too: the allow names them on the bus', () => {
    const cross = synth({
      eventProducers: [{ source: 'com.other', principalArn: 'arn:aws:iam::444455556666:role/P' }],
    });
    const statements = busStatements(cross.template);
    const other = 'arn:aws:iam::444455556666:role/P';
    expect(putAll(statements, other, ['com.other'], false)).toBe(true);
    expect(putAll(statements, other, ['com.example.billing'], false)).toBe(false);
    expect(putAll(statements, other, [undefined], false)).toBe(false);
  });

  it('with no producers named, nobody but the consumer may put events', () => {
    const statements = busStatements(iam);
    const request = (principal: Json, source: string) => ({ principal, sources: [source], identityAllows: true });
    expect(allowed(statements, 'events:PutEvents', request(BILLING, 'com.example.billing'))).toBe(false);
    const consumer = {
      'Fn::GetAtt': [
        Object.keys(iam.findResources('AWS::IAM::Role')).find((id) => id.startsWith('OrderEventsRole')),
        'Arn',
      ],
    };
    expect(allowed(statements, 'events:PutEvents', request(consumer, 'partner-orders'))).toBe(true);
  });

  it('reads eventProducers from the deploy options and refuses what it cannot bind', () => {
    expect(parseEventProducers(`com.example.billing=${BILLING}, com.example.crm=${CRM}`)).toEqual([
      { source: 'com.example.billing', principalArn: BILLING },
      { source: 'com.example.crm', principalArn: CRM },
    ]);
    expect(() => parseEventProducers(`partner-orders=${BILLING}`)).toThrow(/not a producer's/);
    expect(() => parseEventProducers(`aws.events=${BILLING}`)).toThrow(/not a producer's/);
    expect(() => parseEventProducers(`a=${BILLING},a=${CRM}`)).toThrow(/named twice/);
    expect(() => parseEventProducers('a=arn:aws:sts::111122223333:assumed-role/R/s')).toThrow(/role or user ARN/);
    expect(() => parseEventProducers(BILLING)).toThrow(/source=principalArn/);
    expect(
      stackPropsFromContext((key) => (key === 'eventProducers' ? `com.example.billing=${BILLING}` : undefined))
        .eventProducers,
    ).toEqual([{ source: 'com.example.billing', principalArn: BILLING }]);
  });
});

describe('the command queue takes messages from the rule only', () => {
  const rule = Object.keys(template.findResources('AWS::Events::Rule')).find((id) => id.startsWith('CommandRule'));
  const RULE = { 'Fn::GetAtt': [rule, 'Arn'] };
  const send = (request: Request) => allowed(queueStatements(), 'sqs:SendMessage', request);

  it('lets EventBridge deliver for the command rule', () => {
    expect(send({ principal: 'events.amazonaws.com', sourceArn: RULE, identityAllows: false })).toBe(true);
  });

  it('refuses everyone else: a role with SendMessage in its own policy, a producer, the consumer, another rule', () => {
    expect(send({ principal: 'arn:aws:iam::111122223333:role/Admin', identityAllows: true })).toBe(false);
    expect(send({ principal: BILLING, identityAllows: true })).toBe(false);
    expect(send({ principal: CONSUMER, identityAllows: true })).toBe(false);
    expect(
      send({
        principal: 'events.amazonaws.com',
        sourceArn: 'arn:aws:events:eu-west-1:111122223333:rule/other',
        identityAllows: true,
      }),
    ).toBe(false);
  });
});

describe('the purchase policy store', () => {
  const files = loadPolicyFiles();

  it('is a strict Verified Permissions store with the schema and one policy per statement of policies/*.cedar', () => {
    const stores = Object.values(template.findResources('AWS::VerifiedPermissions::PolicyStore'));
    expect(stores).toHaveLength(1);
    expect(stores[0]?.Properties.ValidationSettings).toEqual({ Mode: 'STRICT' });
    const schema = JSON.parse(stores[0]?.Properties.Schema.CedarJson);
    expect(Object.keys(schema)).toEqual(['PartnerOrders']);
    expect(Object.keys(schema.PartnerOrders.actions).sort()).toEqual([
      'AddOn',
      'CancelSubscription',
      'ChangeAutoRenew',
      'ChangeSubscription',
      'CheckoutCart',
      'CreateCart',
      'CreateOrder',
      'Purchase',
      'Read',
      'ReduceSeats',
      'ScheduleRenewalChange',
    ]);
    // The purchase actions are in the group the guardrails name; Read is not (a read has no line to judge).
    for (const action of ['AddOn', 'CheckoutCart', 'CreateCart', 'CreateOrder']) {
      expect(schema.PartnerOrders.actions[action].memberOf, action).toEqual([
        { id: 'Purchase', type: 'PartnerOrders::Action' },
      ]);
    }
    expect(schema.PartnerOrders.actions.Read.memberOf ?? []).toEqual([]);
    const policies = Object.values(template.findResources('AWS::VerifiedPermissions::Policy')).map(
      (p) => p.Properties.Definition.Static,
    );
    expect(Object.fromEntries(policies.map((p) => [p.Description, p.Statement]))).toEqual(files.policies);
    // Never the local allow-all.
    expect(JSON.stringify(policies)).not.toContain('local-allow-all');
    expect(files.policies['max-300-seats-per-line']).toContain('context.line.quantity > 300');
  });

  it('is asked by the functions that buy or read a customer, and only by them', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const store = Object.keys(template.findResources('AWS::VerifiedPermissions::PolicyStore'))[0];
    const asking = [...PURCHASE_FUNCTIONS, ...READ_FUNCTIONS];
    for (const [id, fn] of Object.entries(functions)) {
      const asks = asking.some((name) => id.startsWith(pascal(name)));
      expect(fn.Properties.Environment.Variables.POLICY_STORE_ID, id).toEqual(
        asks ? { 'Fn::GetAtt': [store, 'PolicyStoreId'] } : undefined,
      );
    }
    const grants = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => JSON.stringify(s.Action).includes('verifiedpermissions'));
    expect(grants).toHaveLength(asking.length);
    for (const grant of grants) {
      expect(grant).toEqual({
        Effect: 'Allow',
        Action: ['verifiedpermissions:IsAuthorized', 'verifiedpermissions:GetPolicy'],
        Resource: { 'Fn::GetAtt': [store, 'Arn'] },
      });
    }
  });

  it('counts real denials (not dry runs) from every function that buys, and alarms on them', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'))
      .map((f) => f.Properties)
      .filter((f) => f.MetricTransformations[0].MetricName === 'PolicyDenials');
    expect(filters).toHaveLength(PURCHASE_FUNCTIONS.length);
    for (const filter of filters) {
      expect(filter.FilterPattern).toBe(
        '{ ($.audit = "purchase-policy") && ($.decision = "deny") && ($.dryRun IS FALSE) }',
      );
      expect(filter.MetricTransformations[0]).toMatchObject({ MetricNamespace: 'partner-orders', MetricValue: '1' });
    }
    // Dry-run denials: their own metric from the same functions, and no alarm on it.
    const dryRuns = Object.values(template.findResources('AWS::Logs::MetricFilter'))
      .map((f) => f.Properties)
      .filter((f) => f.MetricTransformations[0].MetricName === 'PolicyDryRunDenials');
    expect(dryRuns).toHaveLength(PURCHASE_FUNCTIONS.length);
    for (const filter of dryRuns) {
      expect(filter.FilterPattern).toBe(
        '{ ($.audit = "purchase-policy") && ($.decision = "deny") && ($.dryRun IS TRUE) }',
      );
    }
    const alarmed = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.MetricName);
    expect(alarmed).toContain('PolicyDenials');
    expect(alarmed).not.toContain('PolicyDryRunDenials');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'partner-orders',
      MetricName: 'PolicyDenials',
      Statistic: 'Sum',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
  });

  it('adds no cdk-nag finding', () => {
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('function bundles', () => {
  it('carry the Verified Permissions client and the deployed entities, never cedar-wasm (4.2 MB)', async () => {
    for (const name of PURCHASE_FUNCTIONS) {
      const inputs = await bundleInputs(name);
      expect(
        inputs.some((i) => i.includes('@cedar-policy')),
        name,
      ).toBe(false);
      expect(
        inputs.some((i) => i.includes('client-verifiedpermissions')),
        name,
      ).toBe(true);
      expect(inputs, name).toContain('policies/entities.json');
    }
  }, 60_000);
});
