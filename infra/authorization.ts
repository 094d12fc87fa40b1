// Who may buy, in the stack (docs/authorization.md): JWT scopes per route, event producers bound to their source on
// the bus, a command queue only the bus's rule may send to, and the purchase policy as an Amazon Verified Permissions
// policy store made from policies/*.cedar, with a metric and an alarm on denials. infra/stack.ts calls these.

import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { Stack } from 'aws-cdk-lib';
import type { CfnEventBus, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { AnyPrincipal, ArnPrincipal, Effect, type IRole, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { CfnPolicy, CfnPolicyStore } from 'aws-cdk-lib/aws-verifiedpermissions';
import { Construct } from 'constructs';
import { OUTCOME_SOURCE } from '../functions/shared/events.js';
import { loadPolicyFiles } from '../functions/shared/policy/local.js';
import type { RouteScope } from '../functions/shared/routes.js';

/** The JWT scopes the routes require (`scope` in functions/shared/routes.ts); names are deploy options. */
export type JwtScopes = Record<RouteScope, string>;
export const DEFAULT_JWT_SCOPES: JwtScopes = { purchase: 'partner-orders/purchase', read: 'partner-orders/read' };

/** An event producer: the IAM principal (role ARN) allowed to put commands on the bus, with this `source` only. */
export interface EventProducer {
  source: string;
  principalArn: string;
}

const ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;
const SOURCE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;

/**
 * `eventProducers` as given at deploy: `source=principalArn` pairs separated by commas, e.g.
 * `com.example.billing=arn:aws:iam::111122223333:role/Billing`. A source belongs to one principal; `partner-orders` is
 * the consumer's own.
 */
export function parseEventProducers(value: string): EventProducer[] {
  const producers: EventProducer[] = [];
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.indexOf('=');
    const source = pair.slice(0, at).trim();
    const principalArn = pair.slice(at + 1).trim();
    if (at < 1 || !SOURCE.test(source)) throw new Error(`eventProducers: '${pair}' is not source=principalArn`);
    if (!ARN.test(principalArn)) {
      throw new Error(
        `eventProducers: ${principalArn} is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)`,
      );
    }
    if (source === OUTCOME_SOURCE || source.startsWith('aws.')) {
      throw new Error(`eventProducers: the source ${source} is not a producer's to use`);
    }
    if (producers.some((p) => p.source === source)) throw new Error(`eventProducers: ${source} is named twice`);
    producers.push({ source, principalArn });
  }
  return producers;
}

/**
 * The bus's resource policy. Only the named producers may put events, each only with its own sources, and no one but
 * the consumer may put `source: partner-orders` (the outcomes). Allows alone would not do it: within the account an
 * identity policy with `events:PutEvents` reaches the bus anyway (pitfall #16), so each rule is also an explicit deny.
 * EventBridge judges each entry of a PutEvents call on its own `events:source`, a single value: `StringEquals` with a
 * `Null` check that the key is there (an allow never matches an entry without it), `StringNotEquals` in the denies
 * (which then match an entry without it) — not ForAllValues, which an absent key satisfies.
 *
 * One document on the bus itself (AWS::Events::EventBus `Policy`), not one AWS::Events::EventBusPolicy per statement:
 * a change replaces the policy at once, with no moment where one deny is gone and its successor not yet there.
 */
export function bindProducers(
  bus: EventBus,
  /** Who may put `source: partner-orders`: the consumer (outcomes), and after the purchase the tracker and reconciler. */
  consumer: IRole | readonly IRole[],
  producers: readonly EventProducer[],
): void {
  const publishers = (Array.isArray(consumer) ? consumer : [consumer]).map((role: IRole) => role.roleArn);
  const principals = [...new Set(producers.map((p) => p.principalArn))];
  const policy = new PolicyDocument();
  // The bus's ARN from its name (a literal at synth), not its Arn attribute: the bus cannot reference itself.
  const cfnBus = bus.node.defaultChild as CfnEventBus;
  const busArn = Stack.of(bus).formatArn({ service: 'events', resource: 'event-bus', resourceName: cfnBus.name });
  const put = { actions: ['events:PutEvents'], resources: [busArn] };
  const anyone = [new AnyPrincipal()];
  for (const principal of principals) {
    const sources = producers.filter((p) => p.principalArn === principal).map((p) => p.source);
    policy.addStatements(
      new PolicyStatement({
        sid: `Producer${principals.indexOf(principal)}PutsItsOwnSources`,
        principals: [new ArnPrincipal(principal)],
        ...put,
        conditions: { StringEquals: { 'events:source': sources }, Null: { 'events:source': 'false' } },
      }),
      new PolicyStatement({
        sid: `Producer${principals.indexOf(principal)}NoOtherSource`,
        effect: Effect.DENY,
        principals: anyone,
        ...put,
        conditions: {
          ArnEquals: { 'aws:PrincipalArn': principal },
          StringNotEquals: { 'events:source': sources },
        },
      }),
    );
  }
  const publisherArns = publishers.length === 1 ? publishers[0] : publishers;
  policy.addStatements(
    new PolicyStatement({
      sid: 'OnlyNamedProducersAndTheConsumer',
      effect: Effect.DENY,
      principals: anyone,
      ...put,
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...principals, ...publishers] } },
    }),
    new PolicyStatement({
      sid: 'OutcomesOnlyFromTheConsumer',
      effect: Effect.DENY,
      principals: anyone,
      ...put,
      conditions: {
        ArnNotEquals: { 'aws:PrincipalArn': publisherArns },
        StringEquals: { 'events:source': OUTCOME_SOURCE },
      },
    }),
    new PolicyStatement({
      sid: 'TheConsumerPutsOnlyOutcomes',
      effect: Effect.DENY,
      principals: anyone,
      ...put,
      conditions: {
        ArnEquals: { 'aws:PrincipalArn': publisherArns },
        StringNotEquals: { 'events:source': OUTCOME_SOURCE },
      },
    }),
  );
  cfnBus.policy = policy;
}

/**
 * The command queue takes messages from the bus's rule only: the consumer trusts an event's `source` because the bus
 * checked it, so nothing may reach the queue around the bus. (The rule's own allow is the SqsQueue target's.)
 */
export function onlyFromRule(queue: Queue, rule: Rule): void {
  queue.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyTheCommandRule',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: { ArnNotEquals: { 'aws:SourceArn': rule.ruleArn } },
    }),
  );
}

/**
 * Only the consumer receives from the command queue. The consumer proves a record's provenance with its receipt handle
 * (events.ts `proveOrigin`), which shows a message of this queue is in flight, not that the body beside it is that
 * message's: whoever could receive from the queue could pair a real handle with a body of their own. So nobody else
 * may ReceiveMessage (the event source mapping polls with the consumer's role).
 */
export function onlyTheConsumerReceives(queue: Queue, consumer: IRole): void {
  queue.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyTheConsumerReceives',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['sqs:ReceiveMessage'],
      resources: [queue.queueArn],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': consumer.roleArn } },
    }),
  );
}

/** The functions that buy, and so ask the purchase policy. */
export const PURCHASE_FUNCTIONS = [
  'create-order',
  'create-cart',
  'invoke-purchase',
  'order-events',
  'subscriptions',
  // Its tools run the purchase routes' handlers in process (functions/mcp).
  'mcp',
] as const;
/** The functions that read a customer's orders, carts, catalog or purchases, and so ask the policy's `Read` action. */
export const READ_FUNCTIONS = ['catalog', 'status'] as const;

/** Logical ids from `@id`s, so that an edited policy is updated in place and a renamed one replaced. */
const logicalId = (id: string) =>
  `Policy${id.replace(/(^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase())}`;

/**
 * The purchase policy store: the schema and one static policy per statement of policies/*.cedar (never
 * policies/local/), validated strictly by Verified Permissions and, before that, here at synth.
 */
export class PurchasePolicyStore extends Construct {
  readonly store: CfnPolicyStore;
  readonly policies: Record<string, CfnPolicy> = {};

  constructor(scope: Construct, id: string, options: { dir?: string } = {}) {
    super(scope, id);
    const files = loadPolicyFiles(options.dir ? { dir: options.dir } : {});
    const schema = cedar.schemaToJsonWithResolvedTypes(files.schema);
    if (schema.type === 'failure') throw new Error(`policies/schema.cedarschema: ${schema.errors[0]?.message}`);
    this.store = new CfnPolicyStore(this, 'Store', {
      description: 'partner-orders purchase policy (policies/*.cedar)',
      validationSettings: { mode: 'STRICT' },
      schema: { cedarJson: JSON.stringify(schema.json) },
    });
    for (const [policyId, statement] of Object.entries(files.policies)) {
      const policy = new CfnPolicy(this, logicalId(policyId), {
        policyStoreId: this.store.attrPolicyStoreId,
        definition: { static: { statement, description: policyId.slice(0, 150) } },
      });
      this.policies[policyId] = policy;
    }
  }

  get policyStoreId(): string {
    return this.store.attrPolicyStoreId;
  }

  /**
   * IsAuthorized (BatchIsAuthorized has no action of its own) and GetPolicy (BatchGetPolicy, for the names): for the
   * functions that buy (purchase actions) and those that read (Read).
   */
  grantAuthorize(fn: NodejsFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['verifiedpermissions:IsAuthorized', 'verifiedpermissions:GetPolicy'],
        resources: [this.store.attrArn],
      }),
    );
    fn.addEnvironment('POLICY_STORE_ID', this.policyStoreId);
  }
}

/** The metric of refusals: the audit line of every real (not dry-run) denial, from every function that buys. */
export const POLICY_DENIALS_METRIC = 'PolicyDenials';
/**
 * Denials of dry runs, counted apart: a dry run buys nothing, so it pages nobody, but a caller probing the policy
 * with dry runs shows here (no alarm; a dashboard or an anomaly detector can watch it).
 */
export const POLICY_DRY_RUN_DENIALS_METRIC = 'PolicyDryRunDenials';

/** The audit line's filter: a purchase-policy denial, of a dry run or not. */
export const denialPattern = (dryRun: boolean) =>
  FilterPattern.all(
    FilterPattern.stringValue('$.audit', '=', 'purchase-policy'),
    FilterPattern.stringValue('$.decision', '=', 'deny'),
    FilterPattern.booleanValue('$.dryRun', dryRun),
  );

/** Both metrics of a function that buys: real denials (alarmed in infra/stack.ts) and dry-run ones (not). */
export function countDenials(scope: Construct, id: string, logGroup: ILogGroup, namespace: string): MetricFilter[] {
  return [
    new MetricFilter(scope, id, {
      logGroup,
      metricNamespace: namespace,
      metricName: POLICY_DENIALS_METRIC,
      filterPattern: denialPattern(false),
      metricValue: '1',
    }),
    new MetricFilter(scope, `${id}DryRun`, {
      logGroup,
      metricNamespace: namespace,
      metricName: POLICY_DRY_RUN_DENIALS_METRIC,
      filterPattern: denialPattern(true),
      metricValue: '1',
    }),
  ];
}

/**
 * The environment that tells the API functions how to identify callers (functions/shared/identity/http.ts): AUTHORIZER,
 * and in JWT mode the issuer, audiences, JWKS (optional: found by OpenID discovery) and the routes' scopes, which the
 * functions verify the bearer token against themselves.
 */
export function identityEnvironment(
  authorizer: { type: 'iam' } | { type: 'jwt'; issuer: string; audience: string[]; jwksUri?: string },
  scopes: JwtScopes,
): Record<string, string> {
  if (authorizer.type === 'iam') return { AUTHORIZER: 'iam' };
  return {
    AUTHORIZER: 'jwt',
    JWT_ISSUER: authorizer.issuer,
    JWT_AUDIENCE: authorizer.audience.join(','),
    ...(authorizer.jwksUri ? { JWT_JWKS_URI: authorizer.jwksUri } : {}),
    JWT_PURCHASE_SCOPE: scopes.purchase,
    JWT_READ_SCOPE: scopes.read,
  };
}

/**
 * The stack's InvokeGuard output: a policy denying lambda:InvokeFunction on the API functions (and their versions and
 * aliases) to every principal it applies to. As a service control policy it binds every IAM principal of the account
 * (the management account's excepted); as a permissions boundary, the roles it is attached to. API Gateway invokes
 * through its service principal (`apigateway.amazonaws.com`, the integrations' resource-based permissions), which
 * neither restricts, so the API keeps working. Whoever could invoke an API function could write its
 * `requestContext.authorizer`: in IAM mode, choose their identity (docs/authorization.md, "Entry points").
 */
export function invokeGuard(apiFunctionArns: readonly string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'PartnerOrdersApiFunctionsOnlyThroughApiGateway',
        Effect: 'Deny',
        Action: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl', 'lambda:InvokeAsync'],
        Resource: apiFunctionArns.flatMap((arn) => [arn, `${arn}:*`]),
      },
    ],
  };
}
