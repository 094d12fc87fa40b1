// The whole deployment in one readable stack: one Lambda per function folder (from the route table), an HTTP API
// with IAM (or JWT) authorization on every route, the Partner Center credentials secret, alarms.
// The time limits are one chain, checked at synth and by test/infra: API Gateway's integration timeout covers init
// plus the function's timeout, which covers the request's own deadline plus the time to answer. The retention of
// everything a purchase can wait in (command queue, DLQ) bounds how long an idempotency record must live.

import { Aspects, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpMethod,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, type IAlarmAction, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Match, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { FilterPattern, LogGroup, MetricFilter, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type CfnSecret, type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import type { PreflightMode } from '../functions/shared/config.js';
import {
  COMMAND_TYPES,
  DEFAULT_MAX_RECEIVE_COUNT,
  FOREIGN_RECORDS_METRIC,
  MIN_MAX_RECEIVE_COUNT,
  OUTCOME_SOURCE,
  REFUSED,
  THROTTLE_SURVIVAL_SECONDS,
  throttledSecondsBeforeLastDelivery,
} from '../functions/shared/events.js';
import { type FunctionName, functionNames, type Route, routes } from '../functions/shared/routes.js';
import {
  type AfterPurchaseAccess,
  type AfterPurchaseOptions,
  addUnresolvedIndex,
  checkAfterPurchase,
  DEFAULT_AFTER_PURCHASE,
  RECONCILER_TIMEOUT,
  TRACKER_TIMEOUT,
  trackingQueues,
  wireAfterPurchase,
} from './after-purchase.js';
import {
  bindProducers,
  countDenials,
  DEFAULT_JWT_SCOPES,
  type EventProducer,
  identityEnvironment,
  invokeGuard,
  type JwtScopes,
  onlyFromRule,
  onlyTheConsumerReceives,
  POLICY_DENIALS_METRIC,
  PURCHASE_FUNCTIONS,
  PurchasePolicyStore,
  READ_FUNCTIONS,
} from './authorization.js';
import {
  bundling,
  type DeployedFunction,
  EVENTS_FUNCTION,
  entryOf,
  INVOKE_FUNCTION,
  KEEPER_FUNCTION,
  RECONCILER_FUNCTION,
  TRACKER_FUNCTION,
} from './bundling.js';
import {
  checkFunctionNetwork,
  checkLogsKmsKeyArn,
  type FunctionNetwork,
  grantsOnlyForAwsResources,
  onlyDeadLetterQueueOf,
  placeInNetwork,
  SourceAccountOnPermissions,
  sourceQueueName,
} from './control-tower.js';
import { type EventPathSizing, eventPathSizing } from './event-path.js';

export { EVENTS_FUNCTION, INVOKE_FUNCTION, KEEPER_FUNCTION, RECONCILER_FUNCTION, TRACKER_FUNCTION };

export type AuthorizerChoice =
  | { type: 'iam' }
  | {
      type: 'jwt';
      issuer: string;
      audience: string[];
      /** The issuer's JWKS, for the functions' own verification; by OpenID discovery from the issuer when absent. */
      jwksUri?: string;
    };

/** App+user (Secure Application Model, with a refresh token) or app-only (client credentials). */
export type AuthMode = 'app+user' | 'app-only';

export interface PartnerOrdersStackProps extends StackProps {
  /** Use an existing credentials secret instead of creating one. */
  secretArn?: string;
  /**
   * The customer-managed KMS key the imported secret (`secretArn`) is encrypted with: the functions get `kms:Decrypt`
   * on it, the keeper also `kms:Encrypt` and `kms:GenerateDataKey`, each only through Secrets Manager.
   */
  secretKmsKeyArn?: string;
  /** What the credentials hold; app-only has no refresh token, so no `RefreshTokenStale` alarm. Default app+user. */
  authMode?: AuthMode;
  /** IAM (SigV4) by default; a JWT authorizer (issuer + audience) instead. */
  authorizer?: AuthorizerChoice;
  /** Email address subscribed to the alarm topic. */
  alarmEmail?: string;
  /** X-Ray active tracing on the functions. */
  tracing?: boolean;
  /** Retention of every log group (the purchase audit trail); ONE_YEAR by default. */
  logRetention?: RetentionDays;
  /** Stage-wide throttling. */
  throttle?: { rateLimit: number; burstLimit: number };
  /**
   * Deliveries of a command message before it goes to the dead-letter queue: DEFAULT_MAX_RECEIVE_COUNT (15), and never
   * fewer than MIN_MAX_RECEIVE_COUNT (13), the receives that outlast an hour of throttling (docs/events.md).
   */
  maxReceiveCount?: number;
  /**
   * Partner Center requests a minute the partner tenant may make on the order resource: 500 (documented) by default,
   * less when other tools share the tenant's limit. The event path's concurrency is derived from what is left after
   * the tracking poll budget (infra/event-path.ts; docs/events.md, "Sizing for bulk").
   */
  partnerCenterRequestsPerMinute?: number;
  /** The command queue's event source mapping: its maximum concurrency, instead of the derived one (2 … 1000). */
  eventMaxConcurrency?: number;
  /**
   * How long an Idempotency-Key is remembered: MIN_IDEMPOTENCY_TTL (29 days) by default, and never less — a command
   * can wait that long in the queue and the DLQ, and its redrive must be a replay, not a second purchase.
   */
  idempotencyTtl?: Duration;
  /**
   * Purchases without an Idempotency-Key (HTTP) or idempotencyKey (direct invoke) are refused: true by default;
   * false makes keys optional again (IDEMPOTENCY_KEY_REQUIRED of the purchase functions).
   */
  idempotencyKeyRequired?: boolean;
  /**
   * An event without `detail.idempotencyKey` is keyed by its EventBridge event id instead of refused
   * (EVENT_ID_AS_IDEMPOTENCY_KEY of the event consumer). Off by default: a producer's SDK retry of PutEvents after a
   * lost answer gets a new event id, and would buy again.
   */
  eventIdAsKey?: boolean;
  /**
   * The MCP route (`POST /mcp`, docs/agents.md) lists its tools that buy and change what was bought (MCP_WRITES of the
   * mcp function). Off by default: an agent connected to it can read and quote, not buy.
   */
  mcpWrites?: boolean;
  /**
   * The catalog pre-flight of the purchase functions (PREFLIGHT): `on` (default) checks catalog lines and fails closed
   * when the catalog cannot be read; `best-effort` then buys unchecked; `off` reads and checks nothing (docs/catalog.md).
   */
  preflight?: PreflightMode;
  /**
   * The possible-duplicate guard's window in hours (DUPLICATE_WINDOW_HOURS, 24 by default; 0 turns it off): the same
   * lines bought for a customer under another key within it are refused 409 (docs/idempotency.md).
   */
  duplicateWindowHours?: number;
  /** When the refresh-token keeper runs (an EventBridge schedule expression); daily by default. */
  keeperSchedule?: string;
  /**
   * Reserved concurrency for the keeper (e.g. 1). Off by default: reserving takes from the account's unreserved pool,
   * which must keep 100, so it fails on accounts at the default quota; concurrent keepers are safe anyway.
   */
  keeperReservedConcurrency?: number;
  /**
   * After the purchase (infra/after-purchase.ts): how long orders are followed, the polling budget shared by tracking
   * and the reconciler, the reconciler's schedule and how old an outcome-unknown purchase must be before it looks.
   */
  afterPurchase?: Partial<AfterPurchaseOptions>;
  /**
   * The JWT scopes the routes require with a JWT authorizer (`scope` in the route table): DEFAULT_JWT_SCOPES,
   * `partner-orders/purchase` and `partner-orders/read`.
   */
  jwtScopes?: JwtScopes;
  /**
   * Who may put commands on the bus, each with its own `source` only (infra/authorization.ts). None by default: then
   * only the event consumer may put events on the bus (its outcomes).
   */
  eventProducers?: EventProducer[];
  /**
   * The KMS key (ARN) every log group is encrypted with (Control Tower CT.CLOUDWATCH.PR.3). Its key policy must let
   * CloudWatch Logs use it (docs/deploy.md, "Control Tower"). By default the log groups use CloudWatch's own encryption.
   */
  logsKmsKeyArn?: string;
  /**
   * The subnets and security groups every function runs in (Control Tower CT.LAMBDA.PR.3). They must reach Partner
   * Center, Entra ID and the AWS APIs the functions call (docs/deploy.md, "Control Tower"). Outside a VPC by default.
   */
  functionNetwork?: FunctionNetwork;
}

/** Function sizing. Calls wait on Partner Center, not on CPU; 512 MB keeps init (module load) fast and costs little. */
export const FUNCTION_MEMORY_MB = 512;

/**
 * The timeout chain of an HTTP request (pitfall #14). API Gateway gives up on an integration at its timeout (set
 * explicitly: 29 s, the most CDK allows), counted from when it invokes the function — init included, which comes
 * before the function's own timeout starts. If the gateway gave up first, the caller would get a 503 while the
 * function went on and bought. So:
 *   API_INTEGRATION_TIMEOUT ≥ INIT_ALLOWANCE + FUNCTION_TIMEOUT, and
 *   FUNCTION_TIMEOUT > MAX_REQUEST + DEADLINE_MARGIN
 * where MAX_REQUEST is the request's own deadline (no Partner Center attempt or wait starts after it, token
 * acquisition included) and DEADLINE_MARGIN the time kept to answer after it (record the outcome, serialise).
 * INIT_ALLOWANCE: the functions' cold import measures 0.2 s here (`npm run bench:cold`); 4 s is ~20× that, for
 * the sandbox start and a slow cold CPU.
 */
export const API_INTEGRATION_TIMEOUT = Duration.seconds(29);
export const INIT_ALLOWANCE = Duration.seconds(4);
export const FUNCTION_TIMEOUT = Duration.seconds(25);
export const MAX_REQUEST = Duration.seconds(23);
export const DEADLINE_MARGIN = Duration.seconds(1);
/** The event consumer has no API Gateway limit: a batch of 10 at concurrency 10 is one Partner Center round. */
export const EVENTS_FUNCTION_TIMEOUT = Duration.seconds(60);

/**
 * How long a command can wait: in the queue (SQS's maximum), then in the DLQ (also the maximum) before a redrive.
 * An idempotency record must outlive both, plus a day for the redrive itself, so that a command redriven on its
 * last day is a replay and never a second purchase.
 */
export const COMMAND_QUEUE_RETENTION = Duration.days(14);
export const DEAD_LETTER_RETENTION = Duration.days(14);
export const MIN_IDEMPOTENCY_TTL = Duration.days(COMMAND_QUEUE_RETENTION.toDays() + DEAD_LETTER_RETENTION.toDays() + 1);

/** The redrive policy's receives: a command throttled on every delivery must outlast an hour before the DLQ. */
function maxReceiveCountOf(value = DEFAULT_MAX_RECEIVE_COUNT): number {
  if (!Number.isInteger(value) || value < MIN_MAX_RECEIVE_COUNT || value > 1000) {
    throw new Error(
      `maxReceiveCount must be a whole number from ${MIN_MAX_RECEIVE_COUNT} to 1000: with fewer receives, a command throttled on every delivery reaches the DLQ within ${throttledSecondsBeforeLastDelivery(MIN_MAX_RECEIVE_COUNT - 1)} s, less than ${THROTTLE_SURVIVAL_SECONDS} s; got ${value}`,
    );
  }
  return value;
}

/** Every log group's retention unless configured: the purchase audit trail is kept a year. */
export const DEFAULT_LOG_RETENTION = RetentionDays.ONE_YEAR;

/**
 * Automatic retries of an asynchronous invocation (`InvocationType: Event`) after the function failed. Lambda's
 * default is 2, which would run a failed purchase again with nobody waiting for it: 0 for every function that buys
 * (and the health check, where a re-run tells nobody anything). The keeper keeps 2: a scheduled check that failed
 * (Entra or Secrets Manager unavailable) is worth retrying, and its write is optimistic.
 */
export const ASYNC_RETRY_ATTEMPTS: Record<DeployedFunction, number> = {
  'create-order': 0,
  'create-cart': 0,
  'credentials-health': 0,
  catalog: 0,
  status: 0,
  'invoke-purchase': 0,
  subscriptions: 0,
  mcp: 0,
  'order-events': 0,
  'token-keeper': 2,
  // Not invoked asynchronously by anyone but the schedule and SQS: a failed poll comes back from the queue, a failed
  // reconciler run is the next run's to repeat.
  'track-provisioning': 0,
  'reconcile-purchases': 0,
};

/**
 * The created credentials secret. Never change this: CloudFormation writes a new secret version whenever
 * GenerateSecretString changes, which would replace the credentials a person uploaded with placeholders; and a new
 * logical id would replace the secret itself. So the logical id is pinned (the one CDK gave it when first deployed)
 * and the template is one constant, the same for every deploy option (test/infra checks both).
 */
export const SECRET_LOGICAL_ID = 'PartnerCenterCredentialsD1DAE6BC';
export const SECRET_TEMPLATE = {
  secretStringTemplate: JSON.stringify({ tenantId: 'REPLACE_ME', clientId: 'REPLACE_ME', refreshToken: 'REPLACE_ME' }),
  generateStringKey: 'clientSecret',
} as const;

/** The namespace of the custom metrics: the keeper's EMF metrics and the invalid_grant metric filter. */
export const METRICS_NAMESPACE = 'partner-orders';

/**
 * What each function may touch besides its own log group — the whole of its IAM policy (the event consumer also
 * consumes its queue and puts events on its bus). Only the keeper may write the secret. `idempotencyTable` is the
 * purchase functions' access; the others after the purchase (infra/after-purchase.ts) name their actions.
 */
export const FUNCTION_ACCESS: Record<
  DeployedFunction,
  { secret: 'read' | 'read-write'; idempotencyTable: boolean } & AfterPurchaseAccess
> = {
  // The purchase functions start provisioning tracking for what they placed.
  'create-order': { secret: 'read', idempotencyTable: true, trackingQueue: 'send' },
  'create-cart': { secret: 'read', idempotencyTable: true, trackingQueue: 'send' },
  'credentials-health': { secret: 'read', idempotencyTable: false },
  catalog: { secret: 'read', idempotencyTable: false },
  // Reads: Partner Center, and the journals and stored outcomes behind GET /purchases/{key}.
  status: { secret: 'read', idempotencyTable: false, tableActions: ['dynamodb:GetItem'] },
  // Direct invocation: the purchase functions' access, nothing more.
  'invoke-purchase': { secret: 'read', idempotencyTable: true, trackingQueue: 'send' },
  // Undoing a purchase: keyed changes like a purchase's; a reduction records its target under the key first.
  subscriptions: { secret: 'read', idempotencyTable: true },
  // MCP (POST /mcp): runs each tool's route handler in process, so it has what those routes have together (the
  // purchase functions' access, which includes the reads'), and keeps its quotes on the idempotency table.
  mcp: { secret: 'read', idempotencyTable: true, trackingQueue: 'send' },
  'order-events': { secret: 'read', idempotencyTable: true, trackingQueue: 'send' },
  'token-keeper': { secret: 'read-write', idempotencyTable: false },
  // One poll per message; the polling budget is an UpdateItem; the next poll goes back on the queue.
  'track-provisioning': {
    secret: 'read',
    idempotencyTable: false,
    tableActions: ['dynamodb:UpdateItem'],
    trackingQueue: 'consume',
    publishes: true,
  },
  // Finds outcome-unknown purchases (Query on the index), reads their journals and stored outcomes (GetItem), claims
  // what it finds (PutItem), records its result and takes the budget (UpdateItem), starts tracking. Never DeleteItem.
  'reconcile-purchases': {
    secret: 'read',
    idempotencyTable: false,
    tableActions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    unresolvedIndex: true,
    trackingQueue: 'send',
    publishes: true,
  },
};

/** cdk-nag acknowledgements are kept narrow: on the one resource, for the one finding, with the reason. */
export const ACKNOWLEDGEMENTS = new Map<string, string>();
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  if (Stack.isStack(construct)) throw new Error(`acknowledge ${id} on a resource, not on the stack`);
  ACKNOWLEDGEMENTS.set(`${construct.node.path} ${id}`, reason);
  // `-c nag:acknowledge=false` shows every finding, acknowledged or not (the README's before/after count).
  if (construct.node.tryGetContext('nag:acknowledge') === false) return;
  Validations.of(construct).acknowledge({ id, reason });
}

/** What the functions no route serves are for (their description). */
const FUNCTION_PURPOSE: Partial<Record<DeployedFunction, string>> = {
  [INVOKE_FUNCTION]: 'direct invocation (Step Functions, aws lambda invoke): CreateOrder, CreateCart, CheckoutCart',
  [KEEPER_FUNCTION]: 'refresh-token keeper (scheduled)',
  [TRACKER_FUNCTION]: 'provisioning tracking (the tracking delay queue)',
  [RECONCILER_FUNCTION]: 'reconciler of purchases whose outcome is unknown (scheduled; never buys)',
  // Six routes do not fit Lambda's 256 characters of description.
  subscriptions: 'GET, cancel, reduce, auto-renew, schedule /customers/{customerId}/subscriptions/{subscriptionId}',
};

const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());

export class PartnerOrdersStack extends Stack {
  readonly functions: Record<DeployedFunction, NodejsFunction>;
  readonly api: HttpApi;
  readonly secret: ISecret;
  readonly table: Table;
  readonly bus: EventBus;
  readonly queue: Queue;
  readonly deadLetters: Queue;
  readonly policyStore: PurchasePolicyStore;
  /** After the purchase: the provisioning tracking delay queue and its DLQ. */
  readonly trackingQueue: Queue;
  readonly trackingDeadLetters: Queue;

  private readonly secretKmsKeyArn: string | undefined;
  private readonly logsKey: IKey | undefined;
  private readonly functionNetwork: FunctionNetwork | undefined;

  constructor(scope: Construct, id: string, props: PartnerOrdersStackProps = {}) {
    super(scope, id, props);
    checkTimeoutChain();
    const retention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    const idempotencyTtl = props.idempotencyTtl ?? MIN_IDEMPOTENCY_TTL;
    if (idempotencyTtl.toSeconds() < MIN_IDEMPOTENCY_TTL.toSeconds()) {
      throw new Error(
        `idempotencyTtl must be at least ${MIN_IDEMPOTENCY_TTL.toHours()} hours (${MIN_IDEMPOTENCY_TTL.toDays()} days: the command queue's ${COMMAND_QUEUE_RETENTION.toDays()} days of retention + the DLQ's ${DEAD_LETTER_RETENTION.toDays()} + 1), got ${idempotencyTtl.toHours({ integral: false })} hours`,
      );
    }
    if (props.secretKmsKeyArn && !props.secretArn) {
      throw new Error(
        'secretKmsKeyArn is for an imported secret: give secretArn too (the created secret uses the AWS managed key)',
      );
    }
    const reserved = props.keeperReservedConcurrency;
    if (reserved !== undefined && !(Number.isInteger(reserved) && reserved >= 1)) {
      throw new Error(`keeperReservedConcurrency must be a whole number ≥ 1, got ${reserved}`);
    }
    this.secretKmsKeyArn = props.secretKmsKeyArn;
    this.logsKey = props.logsKmsKeyArn
      ? Key.fromKeyArn(this, 'LogsKey', checkLogsKmsKeyArn(props.logsKmsKeyArn))
      : undefined;
    this.functionNetwork =
      props.functionNetwork &&
      checkFunctionNetwork(props.functionNetwork.subnetIds, props.functionNetwork.securityGroupIds);
    // Control Tower's CT.LAMBDA.PR.2: every service's permission to invoke a function names this account.
    Aspects.of(this).add(new SourceAccountOnPermissions());

    this.secret = props.secretArn
      ? Secret.fromSecretCompleteArn(this, 'PartnerCenterCredentials', props.secretArn)
      : this.createSecret();

    this.table = new Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Outcome-unknown purchases, for the reconciler (sparse: only journals whose outcome is unknown carry its key).
    addUnresolvedIndex(this.table);
    const idempotencyEnv = {
      IDEMPOTENCY_TABLE_NAME: this.table.tableName,
      IDEMPOTENCY_TTL_SECONDS: String(idempotencyTtl.toSeconds()),
      IDEMPOTENCY_KEY_REQUIRED: String(props.idempotencyKeyRequired ?? true),
      ...(props.eventIdAsKey ? { EVENT_ID_AS_IDEMPOTENCY_KEY: 'true' } : {}),
      // The functions with the table are the ones that buy: their catalog pre-flight.
      PREFLIGHT: props.preflight ?? 'on',
      DUPLICATE_WINDOW_HOURS: String(props.duplicateWindowHours ?? 24),
    };
    const deadlineEnv = { DEADLINE_MARGIN_MS: String(DEADLINE_MARGIN.toMilliseconds()) };
    const requestEnv = { ...deadlineEnv, MAX_REQUEST_MS: String(MAX_REQUEST.toMilliseconds()) };

    // How the API functions identify callers (functions/shared/identity/): the API's own authorizer mode, and in JWT
    // mode what they verify the bearer token against themselves.
    const identityEnv = identityEnvironment(props.authorizer ?? { type: 'iam' }, props.jwtScopes ?? DEFAULT_JWT_SCOPES);
    const httpFunctions = Object.fromEntries(
      functionNames.map((name) => [
        name,
        this.createFunction(name, {
          retention,
          tracing: props.tracing ?? false,
          timeout: FUNCTION_TIMEOUT,
          environment: {
            ...requestEnv,
            ...identityEnv,
            ...(FUNCTION_ACCESS[name].idempotencyTable ? idempotencyEnv : {}),
            ...(name === 'mcp' ? { MCP_WRITES: String(props.mcpWrites ?? false) } : {}),
          },
        }),
      ]),
    ) as Record<FunctionName, NodejsFunction>;
    // Direct invocation has its own function: the API functions take API Gateway events only.
    const invokeFunction = this.createFunction(INVOKE_FUNCTION, {
      retention,
      tracing: props.tracing ?? false,
      timeout: FUNCTION_TIMEOUT,
      environment: { ...requestEnv, ...idempotencyEnv },
    });

    this.bus = new EventBus(this, 'Bus', { description: 'partner-orders commands in, outcomes out' });
    // How many commands are worked on at once: from Partner Center's limit and answer times (infra/event-path.ts).
    const sizing = eventPathSizing({
      requestsPerMinute: props.partnerCenterRequestsPerMinute,
      reservedPerMinute: props.afterPurchase?.pollBudgetPerMinute ?? DEFAULT_AFTER_PURCHASE.pollBudgetPerMinute,
      maxConcurrency: props.eventMaxConcurrency,
    });
    const eventsFunction = this.createFunction(EVENTS_FUNCTION, {
      retention,
      tracing: props.tracing ?? false,
      timeout: EVENTS_FUNCTION_TIMEOUT,
      environment: {
        ...deadlineEnv,
        ...idempotencyEnv,
        EVENT_BUS_NAME: this.bus.eventBusName,
        EVENT_CONCURRENCY: String(sizing.recordsPerBatch),
      },
    });
    const keeper = this.createFunction(KEEPER_FUNCTION, {
      retention,
      tracing: props.tracing ?? false,
      timeout: EVENTS_FUNCTION_TIMEOUT,
      environment: {},
      // Optional: two keepers at once are safe (each write is optimistic and checks the version it read is current).
      ...(reserved ? { reservedConcurrency: reserved } : {}),
    });
    new Rule(this, 'KeeperSchedule', {
      description: 'partner-orders: keep the Partner Center refresh token alive',
      schedule: Schedule.expression(props.keeperSchedule ?? 'rate(1 day)'),
      targets: [new LambdaFunction(keeper, { retryAttempts: 2 })],
    });
    // After the purchase: provisioning tracking on a delay queue, and the reconciler on a schedule.
    const after = checkAfterPurchase({ ...DEFAULT_AFTER_PURCHASE, ...props.afterPurchase });
    ({ queue: this.trackingQueue, deadLetters: this.trackingDeadLetters } = trackingQueues(this));
    const budgetEnv = { POLL_BUDGET_PER_MINUTE: String(after.pollBudgetPerMinute) };
    const tracker = this.createFunction(TRACKER_FUNCTION, {
      retention,
      tracing: props.tracing ?? false,
      timeout: TRACKER_TIMEOUT,
      environment: {
        ...budgetEnv,
        PROVISIONING_TRACKING_HOURS: String(after.trackingHours),
        ...(after.refundWarningHours ? { REFUND_WARNING_HOURS: String(after.refundWarningHours) } : {}),
      },
    });
    const reconciler = this.createFunction(RECONCILER_FUNCTION, {
      retention,
      tracing: props.tracing ?? false,
      timeout: RECONCILER_TIMEOUT,
      environment: {
        ...budgetEnv,
        RECONCILE_AFTER_MINUTES: String(after.reconcileAfterMinutes),
        IDEMPOTENCY_TTL_SECONDS: String(idempotencyTtl.toSeconds()),
      },
    });
    this.functions = {
      ...httpFunctions,
      [INVOKE_FUNCTION]: invokeFunction,
      [EVENTS_FUNCTION]: eventsFunction,
      [KEEPER_FUNCTION]: keeper,
      [TRACKER_FUNCTION]: tracker,
      [RECONCILER_FUNCTION]: reconciler,
    };
    wireAfterPurchase(this, {
      functions: this.functions,
      access: FUNCTION_ACCESS,
      table: this.table,
      bus: this.bus,
      queue: this.trackingQueue,
      tracker,
      reconciler,
      reconcilerSchedule: after.reconcilerSchedule,
      metricsNamespace: METRICS_NAMESPACE,
    });
    // The purchase policy: a Verified Permissions policy store from policies/*.cedar, asked by every function that buys.
    this.policyStore = new PurchasePolicyStore(this, 'PurchasePolicy');
    for (const name of PURCHASE_FUNCTIONS) {
      const fn = this.functions[name];
      this.policyStore.grantAuthorize(fn);
      if (fn.logGroup) countDenials(this, `${pascal(name)}PolicyDenials`, fn.logGroup as never, METRICS_NAMESPACE);
    }
    // Reads ask the same store (action Read) before reading a customer's orders, carts, catalog or purchases.
    for (const name of READ_FUNCTIONS) this.policyStore.grantAuthorize(this.functions[name]);
    ({ queue: this.queue, deadLetters: this.deadLetters } = this.createEventPath(
      eventsFunction,
      maxReceiveCountOf(props.maxReceiveCount),
      sizing,
      props.eventProducers ?? [],
      // They publish lifecycle events (source partner-orders) too.
      [tracker.role as IRole, reconciler.role as IRole],
    ));

    this.api = this.createApi(
      props.authorizer ?? { type: 'iam' },
      props.jwtScopes ?? DEFAULT_JWT_SCOPES,
      retention,
      props.throttle ?? { rateLimit: 20, burstLimit: 40 },
      httpFunctions,
    );
    this.createAlarms(props.alarmEmail, props.authMode ?? 'app+user');

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'HTTP API base URL' });
    new CfnOutput(this, 'SecretArn', {
      value: this.secret.secretArn,
      description: 'Partner Center credentials secret',
    });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName, description: 'send commands here' });
    new CfnOutput(this, 'CommandQueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetters.queueUrl });
    new CfnOutput(this, 'IdempotencyTableName', { value: this.table.tableName });
    new CfnOutput(this, 'TrackingQueueUrl', { value: this.trackingQueue.queueUrl });
    new CfnOutput(this, 'TrackingDeadLetterQueueUrl', { value: this.trackingDeadLetters.queueUrl });
    new CfnOutput(this, 'PolicyStoreId', {
      value: this.policyStore.policyStoreId,
      description: 'Verified Permissions policy store of the purchase policy',
    });
    for (const [name, fn] of Object.entries(this.functions)) {
      new CfnOutput(this, `${pascal(name)}FunctionName`, { value: fn.functionName });
    }
    new CfnOutput(this, 'InvokePurchaseFunctionArn', {
      value: invokeFunction.functionArn,
      description:
        'direct invocation of purchases: grant lambda:InvokeFunction on this function, never on an API function',
    });
    // lambda:InvokeFunction on an API function is impersonation (docs/authorization.md, "Entry points"): the ready
    // guard a platform team applies as an SCP (or a permissions boundary). API Gateway invokes through its service
    // principal, which neither restricts.
    new CfnOutput(this, 'InvokeGuard', {
      value: Stack.of(this).toJsonString(invokeGuard(functionNames.map((name) => httpFunctions[name].functionArn))),
      description:
        'SCP or permissions-boundary policy: nobody but API Gateway may invoke the API functions (docs/deploy.md)',
    });
  }

  private createSecret(): Secret {
    // The value is uploaded by a person after deployment (docs/deploy.md); the template only holds its shape, and
    // never changes (SECRET_TEMPLATE), so no later deploy writes over what was uploaded.
    const secret = new Secret(this, 'PartnerCenterCredentials', {
      description: 'Partner Center credentials for partner-orders: {tenantId, clientId, clientSecret, refreshToken?}',
      generateSecretString: { ...SECRET_TEMPLATE },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    (secret.node.defaultChild as CfnSecret).overrideLogicalId(SECRET_LOGICAL_ID);
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'The Entra client secret is rotated in Entra ID by a person, and the refresh token can only be obtained by an interactive MFA consent; Secrets Manager rotation cannot do either.',
    );
    return secret;
  }

  private createFunction(
    name: DeployedFunction,
    options: {
      retention: RetentionDays;
      tracing: boolean;
      timeout: Duration;
      environment: Record<string, string>;
      reservedConcurrency?: number;
    },
  ): NodejsFunction {
    const { retention, tracing } = options;
    const id = pascal(name);
    // The purchase audit trail: kept for its retention, also when the stack is deleted.
    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(this.logsKey ? { encryptionKey: this.logsKey } : {}),
    });
    // A role per function, with exactly what it uses: its own log group and the one secret (no managed policies).
    const role = new Role(this, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `partner-orders ${name}`,
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroup.logGroupArn}`],
      }),
    );
    const fn = new NodejsFunction(this, id, {
      entry: entryOf(name),
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: FUNCTION_MEMORY_MB,
      timeout: options.timeout,
      ...(options.reservedConcurrency ? { reservedConcurrentExecutions: options.reservedConcurrency } : {}),
      retryAttempts: ASYNC_RETRY_ATTEMPTS[name],
      role,
      logGroup,
      tracing: tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      description: `partner-orders ${name}: ${
        FUNCTION_PURPOSE[name] ??
        (routes
          .filter((r) => r.function === name)
          .map((r) => `${r.method} ${r.path}`)
          .join(', ') ||
          `${COMMAND_TYPES.join(', ')} events`)
      }`,
      environment: {
        PARTNER_CENTER_SECRET_ID: this.secret.secretArn,
        LOG_LEVEL: 'INFO',
        ...options.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: bundling.target,
        minify: bundling.minify,
        sourceMap: bundling.sourcemap,
        banner: bundling.banner,
        mainFields: [...bundling.mainFields],
        externalModules: [...bundling.external],
        esbuildArgs: { '--alias': Object.entries(bundling.alias).map(([from, to]) => `${from}=${to}`) },
      },
    });
    const access = FUNCTION_ACCESS[name];
    if (access.secret === 'read') this.secret.grantRead(fn);
    else {
      // DescribeSecret: the keeper checks that the version it read is still current before it writes.
      role.addToPolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue'],
          resources: [this.secret.secretArn],
        }),
      );
    }
    if (this.secretKmsKeyArn) {
      // A secret under a customer-managed key: decrypting it (and, for the keeper, encrypting a new version) needs
      // the key too, and only through Secrets Manager. The key's policy must allow the account's IAM policies (the
      // default key policy does); a key in another account must name these roles itself.
      role.addToPolicy(
        new PolicyStatement({
          actions: access.secret === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [this.secretKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
        }),
      );
    }
    if (access.idempotencyTable) {
      // Exactly what Powertools' DynamoDB persistence layer does: no scans, no batch writes.
      role.addToPolicy(
        new PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          resources: [this.table.tableArn],
        }),
      );
    }
    // An invalid_grant anywhere (logged as credentialProblem) counts towards one alarm.
    new MetricFilter(this, `${id}InvalidGrant`, {
      logGroup,
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'InvalidGrant',
      filterPattern: FilterPattern.stringValue('$.credentialProblem', '=', 'invalid_grant'),
      metricValue: '1',
    });
    if (this.functionNetwork) placeInNetwork(fn, role, this.functionNetwork);
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (this.functionNetwork && policy) {
      acknowledge(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        "A function in a VPC creates and deletes its network interfaces with its own role; EC2's Describe* actions take no resource, as in AWSLambdaVPCAccessExecutionRole.",
      );
    }
    if (tracing && policy) {
      acknowledge(
        policy,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
      );
    }
    return fn;
  }

  private createApi(
    choice: AuthorizerChoice,
    scopes: JwtScopes,
    retention: RetentionDays,
    throttle: { rateLimit: number; burstLimit: number },
    functions: Record<FunctionName, NodejsFunction>,
  ): HttpApi {
    const authorizer: IHttpRouteAuthorizer =
      choice.type === 'iam'
        ? new HttpIamAuthorizer()
        : new HttpJwtAuthorizer('JwtAuthorizer', choice.issuer, { jwtAudience: choice.audience });
    const api = new HttpApi(this, 'Api', {
      description: 'partner-orders: Partner Center orders and carts',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(this.logsKey ? { encryptionKey: this.logsKey } : {}),
    });
    new HttpStage(this, 'DefaultStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });
    // Explicit, so the timeout chain above holds whatever the defaults become.
    const integrations = new Map(
      functionNames.map((name) => [
        name,
        new HttpLambdaIntegration(`${pascal(name)}Integration`, functions[name], {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
          timeout: API_INTEGRATION_TIMEOUT,
        }),
      ]),
    );
    for (const route of routes as readonly Route[]) {
      api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrations.get(route.function) as HttpLambdaIntegration,
        authorizer,
        // A token for the audience is not enough: buying needs the purchase scope, looking the read scope.
        ...(choice.type === 'jwt' ? { authorizationScopes: [scopes[route.scope]] } : {}),
      });
    }
    return api;
  }

  /** Bus → rule (commands only, never our own outcomes) → queue (with DLQ) → order-events, partial batch failures. */
  private createEventPath(
    fn: NodejsFunction,
    maxReceiveCount: number,
    sizing: EventPathSizing,
    producers: readonly EventProducer[],
    publishers: readonly IRole[] = [],
  ): { queue: Queue; deadLetters: Queue } {
    const deadLetters = new Queue(this, 'CommandDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    // Named, so that the DLQ can name it as its only source (infra/control-tower.ts).
    const queueName = sourceQueueName(this, 'commands');
    onlyDeadLetterQueueOf(deadLetters, queueName);
    const queue = new Queue(this, 'Commands', {
      queueName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: COMMAND_QUEUE_RETENTION,
      // AWS: at least 6 times the function timeout, so a batch still running is never delivered twice.
      visibilityTimeout: Duration.seconds(EVENTS_FUNCTION_TIMEOUT.toSeconds() * 6),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount },
    });
    const rule = new Rule(this, 'CommandRule', {
      eventBus: this.bus,
      description: 'CreateOrder and CreateCart commands to the command queue',
      eventPattern: { detailType: [...COMMAND_TYPES], source: Match.anythingBut(OUTCOME_SOURCE) },
      targets: [new SqsQueue(queue)],
    });
    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: sizing.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: sizing.maxConcurrency,
      }),
    );
    this.bus.grantPutEventsTo(fn);
    // Queue provenance (functions/shared/event-adapters.ts): each record's receipt handle is checked on this queue, by
    // ChangeMessageVisibility, which the event source mapping's grant already allows (sqs:ChangeMessageVisibility).
    fn.addEnvironment('COMMAND_QUEUE_URL', queue.queueUrl);
    fn.addEnvironment('COMMAND_QUEUE_ARN', queue.queueArn);
    fn.addEnvironment('COMMAND_QUEUE_VISIBILITY_SECONDS', String(EVENTS_FUNCTION_TIMEOUT.toSeconds() * 6));
    // Each record it refused (and each invocation that was no SQS batch) is one log line: counted, and alarmed.
    new MetricFilter(this, 'CommandsNotFromQueueFilter', {
      logGroup: fn.logGroup as never,
      metricNamespace: METRICS_NAMESPACE,
      metricName: FOREIGN_RECORDS_METRIC,
      filterPattern: FilterPattern.stringValue('$.provenance', '=', REFUSED.provenance),
      metricValue: '1',
    });
    // Producers bound to their source; the queue reachable only through the rule (infra/authorization.ts).
    bindProducers(this.bus, [fn.role as IRole, ...publishers], producers);
    onlyFromRule(queue, rule);
    onlyTheConsumerReceives(queue, fn.role as IRole);
    return { queue, deadLetters };
  }

  private createAlarms(email: string | undefined, authMode: AuthMode): void {
    // CloudWatch publishes to an encrypted topic only with a customer-managed key that lets it use the key.
    const key = new Key(this, 'AlarmTopicKey', { enableKeyRotation: true, description: 'partner-orders alarm topic' });
    grantsOnlyForAwsResources(key);
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new Topic(this, 'AlarmTopic', {
      masterKey: key,
      enforceSSL: true,
      displayName: 'partner-orders alarms',
    });
    if (email) topic.addSubscription(new EmailSubscription(email));
    const action: IAlarmAction = new SnsAction(topic);

    const alarm = (id: string, metric: Metric, description: string) => {
      const created = new Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
    };
    for (const [name, fn] of Object.entries(this.functions)) {
      const period = { period: Duration.minutes(5) };
      alarm(`${pascal(name)}Errors`, fn.metricErrors(period), `${name}: invocations failed (unhandled errors)`);
      alarm(`${pascal(name)}Throttles`, fn.metricThrottles(period), `${name}: invocations throttled`);
    }
    alarm('Api5xx', this.api.metricServerError({ period: Duration.minutes(5) }), 'API answered 5xx');
    alarm(
      'PolicyDenials',
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: POLICY_DENIALS_METRIC,
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      'the purchase policy refused a purchase (the audit line names caller, customer and policy: docs/authorization.md)',
    );
    const custom = (metricName: string, statistic: string, dimensionsMap?: Record<string, string>) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        statistic,
        period: Duration.minutes(5),
        ...(dimensionsMap ? { dimensionsMap } : {}),
      });
    alarm(
      'InvalidGrant',
      custom('InvalidGrant', 'Sum'),
      'Entra ID answered invalid_grant: the refresh token needs a person (README, Credentials)',
    );
    alarm(
      'CredentialCheckFailed',
      custom('CredentialCheckFailed', 'Maximum', { service: KEEPER_FUNCTION }),
      'the refresh-token keeper could not redeem or store the token',
    );
    alarm(
      'CommandsNotFromQueue',
      custom(FOREIGN_RECORDS_METRIC, 'Sum'),
      'the event consumer was invoked with records that did not come from the command queue (forged, or another queue): refused, nothing bought; someone holding lambda:InvokeFunction on it sent them',
    );
    // App-only credentials have no refresh token: the keeper reports no age, and this alarm would sit in alarm.
    if (authMode === 'app+user') this.createStaleTokenAlarm(action);
    alarm(
      'DeadLetters',
      this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'command messages landed in the dead-letter queue after repeated transient failures',
    );
    // After the purchase (docs/after-purchase.md).
    alarm(
      'TrackingDeadLetters',
      this.trackingDeadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'provisioning tracking messages failed 5 times (the next poll could not be queued or the outcome published)',
    );
    alarm(
      'PurchasesNeedingAttention',
      custom('PurchasesNeedingAttention', 'Sum', { service: RECONCILER_FUNCTION }),
      'the reconciler found a purchase of unknown outcome it cannot settle (nothing found, or two candidates): PurchaseNeedsAttention says which',
    );
    alarm(
      'TrackingNotStarted',
      custom('TrackingNotStarted', 'Sum'),
      'a purchase was placed and its provisioning tracking could not be started (the delay queue refused the message)',
    );
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn });
  }

  private createStaleTokenAlarm(action: IAlarmAction): void {
    const stale = new Alarm(this, 'RefreshTokenStale', {
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'RefreshTokenAgeDays',
        statistic: 'Maximum',
        period: Duration.days(1),
        dimensionsMap: { service: KEEPER_FUNCTION },
      }),
      threshold: 7,
      evaluationPeriods: 2,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means the keeper did not run: that is the failure this alarm is for.
      treatMissingData: TreatMissingData.BREACHING,
      alarmDescription: 'the stored refresh token has not been rotated for a week (or the keeper stopped reporting)',
    });
    stale.addAlarmAction(action);
  }
}

/** The timeout chain (see API_INTEGRATION_TIMEOUT), refused at synth when an edit breaks it. */
export function checkTimeoutChain(): void {
  const ms = (d: Duration) => d.toMilliseconds();
  if (ms(INIT_ALLOWANCE) + ms(FUNCTION_TIMEOUT) > ms(API_INTEGRATION_TIMEOUT)) {
    throw new Error('init allowance + function timeout must fit in the API integration timeout');
  }
  if (ms(MAX_REQUEST) + ms(DEADLINE_MARGIN) >= ms(FUNCTION_TIMEOUT)) {
    throw new Error("the request's deadline + its margin must end before the function's timeout");
  }
}
