// Suite 6 — security posture. What test/infra/stack.test.ts checks for the default stack, here for every deployable
// variant (IAM or JWT authorizer, tracing, an imported secret): every route needs authorization and nothing else can
// invoke the functions; no role reaches another secret, another table, or anything with a wildcard; cdk-nag finds
// nothing unacknowledged. And the request size limits hold at the edge (API Gateway's 10 MiB, as the local server
// enforces it) and in the handler (256 KiB), counted in bytes, for every way a body can arrive.
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import { createHandler as createEventsHandler } from '../../functions/order-events/handler.js';
import type { OutcomeEvent } from '../../functions/shared/events.js';
import type { HttpDependencies } from '../../functions/shared/http.js';
import { PartnerCenterClient } from '../../functions/shared/partner-center/client.js';
import { routes } from '../../functions/shared/routes.js';
import { MAX_BODY_BYTES } from '../../functions/shared/schemas/common.js';
import type { PartnerOrdersStackProps } from '../../infra/stack.js';
import { GATEWAY_MAX_BODY_BYTES } from '../../local/api-gateway.js';
import { KEYS_OPTIONAL } from '../support/commands.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { FAKE_ACCESS_TOKEN, FAKE_PARTNER_CENTER_URL, fakePartnerCenter } from '../support/fake-partner-center.js';
import { synth } from '../support/infra.js';
import { invokeOrder } from '../support/invoke.js';
import { leakWatch } from '../support/leaks.js';
import { problemDefect, report } from '../support/reliability.js';
import { eventBridgeEvent, localQueueProvenance, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';
import { BUSY_SLACK_MS } from '../support/timing.js';

const leaks = leakWatch('security');
const figures: Record<string, unknown> = {};
const IMPORTED_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partner-center-AbCdEf';

const VARIANTS: [string, PartnerOrdersStackProps][] = [
  ['IAM (default)', {}],
  [
    'JWT authorizer',
    { authorizer: { type: 'jwt', issuer: 'https://login.example.com/', audience: ['partner-orders'] } },
  ],
  ['tracing', { tracing: true }],
  ['imported secret', { secretArn: IMPORTED_SECRET }],
];
const synthesised = VARIANTS.map(([name, props]) => ({ name, props, ...synth(props) }));

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const idOf = (template: Template, type: string) => Object.keys(template.findResources(type));

describe.each(synthesised)('deployed: $name', ({ name, props, template, stack }) => {
  it('every route of the route table needs authorization (IAM, or the JWT authorizer), and there is no other route', () => {
    const deployed = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(deployed.map((r) => r.RouteKey).sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    const authorizers = idOf(template, 'AWS::ApiGatewayV2::Authorizer');
    for (const route of deployed) {
      if (props.authorizer?.type === 'jwt') {
        expect(route.AuthorizationType, route.RouteKey).toBe('JWT');
        expect(authorizers).toHaveLength(1);
        expect(route.AuthorizerId, route.RouteKey).toEqual({ Ref: authorizers[0] });
      } else {
        expect(route.AuthorizationType, route.RouteKey).toBe('AWS_IAM');
      }
    }
    expect(deployed.map((r) => r.RouteKey)).not.toContain('$default');
    expect(JSON.stringify(deployed)).not.toMatch(/"NONE"|\{proxy\+\}|"ANY /);
  });

  it('nothing can invoke a function but its API routes, its queue and its schedule: no function URL, no open policy', () => {
    expect(idOf(template, 'AWS::Lambda::Url')).toEqual([]);
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map((p) => p.Properties);
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(['apigateway.amazonaws.com', 'events.amazonaws.com'], name).toContain(permission.Principal);
      // Scoped to the one API (its id) or one schedule rule (the keeper's, the reconciler's), never any source.
      expect(permission.SourceArn, JSON.stringify(permission)).toBeDefined();
      expect(JSON.stringify(permission.SourceArn)).toMatch(/Api|KeeperSchedule|ReconcilerSchedule/);
    }
    // The command queue's consumer, and the provisioning tracking queue's.
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2);
  });

  it('no role reaches another secret or table, a wildcard resource, or an action wildcard', () => {
    const secret = props.secretArn ?? { Ref: idOf(template, 'AWS::SecretsManager::Secret')[0] };
    const table = { 'Fn::GetAtt': [idOf(template, 'AWS::DynamoDB::Table')[0], 'Arn'] };
    const allowedSecrets = [JSON.stringify(secret), JSON.stringify(`${props.secretArn}-??????`)];
    const roles = template.findResources('AWS::IAM::Role');
    for (const role of Object.values(roles)) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      const principals = role.Properties.AssumeRolePolicyDocument.Statement.map(
        (s: { Principal: { Service?: string } }) => s.Principal.Service,
      );
      expect(principals.every((p: string) => p === 'lambda.amazonaws.com')).toBe(true);
    }
    let statements = 0;
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const s of policy.Properties.PolicyDocument.Statement as Statement[]) {
        statements++;
        const actions = actionsOf(s);
        const resources = resourcesOf(s);
        expect(s.Effect).toBe('Allow');
        for (const action of actions) expect(action, name).not.toMatch(/^\*$|:\*$|^iam:|^sts:|^kms:\*/);
        if (resources.includes('*')) {
          // Only X-Ray, which has no resource-level permissions (acknowledged for cdk-nag).
          expect(
            actions.every((a) => a.startsWith('xray:')),
            `${name}: ${actions}`,
          ).toBe(true);
        }
        if (actions.some((a) => a.startsWith('secretsmanager:'))) {
          for (const resource of resources) expect(allowedSecrets, name).toContain(JSON.stringify(resource));
          expect(actions.every((a) => /^secretsmanager:(GetSecretValue|DescribeSecret|PutSecretValue)$/.test(a))).toBe(
            true,
          );
        }
        if (actions.some((a) => a.startsWith('dynamodb:'))) {
          // Items of the one table; and the reconciler's Query of its unresolved index (docs/after-purchase.md).
          if (actions.includes('dynamodb:Query')) {
            expect(actions).toEqual(['dynamodb:Query']);
            expect(resources, name).toEqual([{ 'Fn::Join': ['', [table, '/index/unresolved']] }]);
          } else {
            expect(resources, name).toEqual([table]);
            expect(
              actions.every((a) => /^dynamodb:(GetItem|PutItem|UpdateItem|DeleteItem)$/.test(a)),
              `${actions}`,
            ).toBe(true);
          }
        }
        if (actions.some((a) => a.startsWith('sqs:'))) {
          // The command queue, or the provisioning tracking delay queue: one queue per statement, never a wildcard.
          expect(JSON.stringify(resources)).toMatch(
            /^\[\{"Fn::GetAtt":\["(Commands|ProvisioningTracking)[0-9A-F]{8}","Arn"\]\}\]$/,
          );
        }
        if (actions.some((a) => a.startsWith('events:'))) {
          expect(resources).toEqual([{ 'Fn::GetAtt': [idOf(template, 'AWS::Events::EventBus')[0], 'Arn'] }]);
        }
      }
    }
    figures[`IAM statements checked (${name})`] = statements;
  });

  it('cdk-nag (AWS Solutions) finds no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    const bySeverity = { error: 0, warning: 0 } as Record<string, number>;
    for (const violation of report.violations) {
      const severity = (violation as { severity?: string }).severity ?? 'error';
      bySeverity[severity] = (bySeverity[severity] ?? 0) + violation.violatingResources.length;
    }
    figures[`cdk-nag (${name})`] = bySeverity;
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('request size limits', () => {
  const upstream = fakePartnerCenter();
  const deps: HttpDependencies = {
    ...KEYS_OPTIONAL,
    partnerCenter: new PartnerCenterClient({
      baseUrl: FAKE_PARTNER_CENTER_URL,
      tokens: { get: async () => ({ value: FAKE_ACCESS_TOKEN, expiresAt: Date.now() + 3_600_000, mode: 'app-only' }) },
      fetch: upstream.fetch,
    }),
    maxRequestMs: 29_000,
    deadlineMarginMs: 1_000,
  };
  const handler = createOrderHandler(deps);
  const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
  const valid = JSON.stringify({ lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }] });
  /** A valid order padded with whitespace (still valid JSON) to exactly `bytes` bytes. */
  const padded = (bytes: number, filler = ' ') => {
    const fill = bytes - Buffer.byteLength(valid);
    const unit = Buffer.byteLength(filler);
    return `${valid.slice(0, -1)}${filler.repeat(Math.floor(fill / unit))}${' '.repeat(fill % unit)}}`;
  };
  const send = async (rawBody: string, isBase64Encoded = false) => {
    const before = upstream.sent.length;
    const result = await handler(
      httpEvent('POST /customers/{customerId}/orders', {
        pathParameters: { customerId: CUSTOMER },
        query: { dryRun: 'true' },
        rawBody,
        isBase64Encoded,
      }),
      lambdaContext(),
    );
    leaks.response(result.body);
    return { status: result.statusCode, json: JSON.parse(result.body ?? '{}'), sent: upstream.sent.length - before };
  };
  const sizes: Record<string, string> = {};

  it(`the handler accepts exactly ${MAX_BODY_BYTES} bytes and refuses one more, before parsing (413 too-large)`, async () => {
    const atLimit = padded(MAX_BODY_BYTES);
    expect(Buffer.byteLength(atLimit)).toBe(MAX_BODY_BYTES);
    expect((await send(atLimit)).status).toBe(200);
    const over = await send(padded(MAX_BODY_BYTES + 1));
    expect(over.status).toBe(413);
    expect(problemDefect(413, over.json)).toBeUndefined();
    expect(over.json).toMatchObject({ type: 'urn:partner-orders:problem:too-large', errors: [{ path: '/body' }] });
    expect(over.sent).toBe(0);
    sizes.handler = `${MAX_BODY_BYTES} bytes accepted, ${MAX_BODY_BYTES + 1} refused`;
  });

  it('counts bytes, not characters: multi-byte text under the limit in characters but over it in bytes is refused', async () => {
    const body = padded(MAX_BODY_BYTES + 3, '\u20ac'); // € is 3 bytes in UTF-8
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect((await send(body)).status).toBe(413);
  });

  it('counts a base64-encoded body by its decoded size', async () => {
    const encode = (text: string) => Buffer.from(text).toString('base64');
    expect((await send(encode(padded(MAX_BODY_BYTES)), true)).status).toBe(200);
    expect((await send(encode(padded(MAX_BODY_BYTES + 1)), true)).status).toBe(413);
  });

  it('a refusal stays small whatever the body: 24k unknown fields in 256 KiB get a bounded problem', async () => {
    // Lambda refuses responses over 6 MB (API Gateway then answers 502) and EventBridge entries over 256 KB (an
    // OrderRejected outcome that cannot be published sends its command to the DLQ instead).
    const keys = `{${Array.from({ length: 24_000 }, (_, i) => `"k${i}":1`).join(',')}}`;
    const line = `{${Array.from({ length: 220 }, (_, i) => `"f${i}":1`).join(',')}}`;
    const lines = `{"lineItems":[${Array.from({ length: 100 }, () => line).join(',')}]}`;
    for (const body of [keys, lines]) {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
      const answer = await send(body);
      expect(answer.status).toBe(400);
      expect(Buffer.byteLength(JSON.stringify(answer.json))).toBeLessThan(64 * 1024);
      expect(answer.json.detail).toMatch(/more are not listed/);
      expect(answer.json.errors).toHaveLength(100);
    }
    sizes.refusals = '24k unknown fields in 256 KiB: a problem under 64 KiB';
  });

  it('a 5 MB direct invocation (Lambda allows 6 MB) is refused with 400, quickly, nothing sent', async () => {
    const before = upstream.sent.length;
    const started = performance.now();
    const result = (await invokeOrder(deps)(
      {
        customerId: CUSTOMER,
        lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1, friendlyName: 'x'.repeat(5_000_000) }],
      },
      lambdaContext(),
    )) as { status: number; errors: { path: string; message: string }[] };
    expect(result.status).toBe(400);
    expect(result.errors).toEqual([{ path: '/lineItems/0/friendlyName', message: 'must have at most 256 characters' }]);
    expect(upstream.sent.length).toBe(before);
    // Bounded work, not a scan of 5 MB that grows with it (that would take far longer); slack for a busy machine.
    expect(performance.now() - started).toBeLessThan(1_000 + BUSY_SLACK_MS);
    sizes['direct invoke'] = '5 MB payload: 400, bounded fields';
  });

  it('oversized event commands (a 300 KB field, 20k unknown fields) are rejected in a publishable event', async () => {
    const published: OutcomeEvent[] = [];
    const events = createEventsHandler({
      ...deps,
      idempotency: {
        run: async () => Promise.reject(new Error('not reached')),
        peek: async () => Promise.reject(new Error('not reached')),
        journal: () => {
          throw new Error('not reached');
        },
      },
      // EventBridge refuses an entry over 256 KB, as PutEvents does.
      publish: async (outcomes) => {
        for (const outcome of outcomes) {
          if (Buffer.byteLength(JSON.stringify(outcome.detail)) > 256 * 1024)
            throw new Error('EventBridge: entry too large');
        }
        published.push(...outcomes);
      },
      proveOrigin: localQueueProvenance,
      delay: async () => undefined,
    });
    const before = upstream.sent.length;
    const line = { offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 };
    const records = [
      sqsRecord(
        eventBridgeEvent('CreateOrder', {
          customerId: CUSTOMER,
          lineItems: [{ ...line, friendlyName: 'x'.repeat(300_000) }],
        }),
      ),
      sqsRecord(
        eventBridgeEvent('CreateOrder', {
          customerId: CUSTOMER,
          lineItems: [line],
          ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 1])),
        }),
      ),
    ];
    const response = await events(sqsEvent(records), lambdaContext(60_000));
    expect(response.batchItemFailures).toEqual([]);
    expect(published.map((e) => [e.detailType, e.detail.problem?.status])).toEqual([
      ['OrderRejected', 400],
      ['OrderRejected', 400],
    ]);
    expect(upstream.sent.length).toBe(before);
  });

  describe('at the edge (the local server, with API Gateway’s payload limit)', () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack();
    });
    afterAll(async () => {
      leaks.fromSimulator(stack.simulator);
      await stack.stop();
    });

    it(`refuses more than ${GATEWAY_MAX_BODY_BYTES} bytes before any function runs, and 300 KiB in the function`, async () => {
      const path = `/customers/${CUSTOMER}/orders?dryRun=true`;
      const edge = await stack.request('POST', path, 'x'.repeat(GATEWAY_MAX_BODY_BYTES + 1));
      leaks.response(edge.json);
      expect(edge.status).toBe(413);
      expect(edge.headers.get('content-type')).toBe('application/problem+json');
      expect(edge.json.errors[0].message).toContain(`API Gateway's ${GATEWAY_MAX_BODY_BYTES} bytes`);
      const function_ = await stack.request('POST', path, padded(300 * 1024));
      expect(function_.status).toBe(413);
      expect(function_.json.errors[0].message).toContain(`at most ${MAX_BODY_BYTES}`);
      expect(stack.simulator.requests).toHaveLength(0);
      sizes.edge = `${GATEWAY_MAX_BODY_BYTES + 1} bytes refused at the edge, 300 KiB in the function`;
    });
  });

  afterAll(() => {
    figures['size limits'] = sizes;
  });
});

describe('security: figures and leaks', () => {
  it('prints the figures and leaks no secret', () => {
    report('security', figures);
    expect(leaks.check()).toEqual([]);
  });
});
