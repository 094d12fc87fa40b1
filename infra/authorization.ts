// Who may buy, in the stack (docs/authorization.md): JWT scopes per route, event producers bound to their source on
// the bus, a command queue only the bus's rule may send to, and the purchase policy as an Amazon Verified Permissions
// policy store made from policies/*.cedar, with a metric and an alarm on denials. infra/stack.ts calls these.

import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { AnyPrincipal, ArnPrincipal, Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
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
 * `events:source` holds the source of every entry of a PutEvents call: ForAnyValue denies a call if any entry breaks
 * the rule, ForAllValues allows one only if every entry keeps it.
 */
export function bindProducers(
  bus: EventBus,
  /** Who may put `source: partner-orders`: the consumer (outcomes), and after the purchase the tracker and reconciler. */
  consumer: IRole | readonly IRole[],
  producers: readonly EventProducer[],
): void {
  const publishers = (Array.isArray(consumer) ? consumer : [consumer]).map((role: IRole) => role.roleArn);
  const principals = [...new Set(producers.map((p) => p.principalArn))];
  for (const principal of principals) {
    const sources = producers.filter((p) => p.principalArn === principal).map((p) => p.source);
    bus.addToResourcePolicy(
      new PolicyStatement({
        sid: `Producer${principals.indexOf(principal)}PutsItsOwnSources`,
        principals: [new ArnPrincipal(principal)],
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        conditions: { 'ForAllValues:StringEquals': { 'events:source': sources } },
      }),
    );
    bus.addToResourcePolicy(
      new PolicyStatement({
        sid: `Producer${principals.indexOf(principal)}NoOtherSource`,
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        conditions: {
          ArnEquals: { 'aws:PrincipalArn': principal },
          'ForAnyValue:StringNotEquals': { 'events:source': sources },
        },
      }),
    );
  }
  bus.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyNamedProducersAndTheConsumer',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': [...principals, ...publishers] } },
    }),
  );
  bus.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OutcomesOnlyFromTheConsumer',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions: {
        ArnNotEquals: { 'aws:PrincipalArn': publishers.length === 1 ? publishers[0] : publishers },
        'ForAnyValue:StringEquals': { 'events:source': [OUTCOME_SOURCE] },
      },
    }),
  );
  bus.addToResourcePolicy(
    new PolicyStatement({
      sid: 'TheConsumerPutsOnlyOutcomes',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      conditions: {
        ArnEquals: { 'aws:PrincipalArn': publishers.length === 1 ? publishers[0] : publishers },
        'ForAnyValue:StringNotEquals': { 'events:source': [OUTCOME_SOURCE] },
      },
    }),
  );
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

/** The functions that buy, and so ask the purchase policy. */
export const PURCHASE_FUNCTIONS = ['create-order', 'create-cart', 'order-events', 'subscriptions'] as const;

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

  /** IsAuthorized (BatchIsAuthorized has no action of its own) and GetPolicy (BatchGetPolicy, for the names). */
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

export function countDenials(scope: Construct, id: string, logGroup: ILogGroup, namespace: string): MetricFilter {
  return new MetricFilter(scope, id, {
    logGroup,
    metricNamespace: namespace,
    metricName: POLICY_DENIALS_METRIC,
    filterPattern: FilterPattern.all(
      FilterPattern.stringValue('$.audit', '=', 'purchase-policy'),
      FilterPattern.stringValue('$.decision', '=', 'deny'),
      FilterPattern.booleanValue('$.dryRun', false),
    ),
    metricValue: '1',
  });
}
