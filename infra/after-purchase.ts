// What the stack adds for after the purchase (docs/after-purchase.md): the provisioning tracking delay queue (with its
// DLQ), its consumer track-provisioning, the scheduled reconcile-purchases, the unresolved index of the idempotency
// table, and exactly the access each function needs for them (FUNCTION_ACCESS in stack.ts), nothing more.
import { Duration, type Stack } from 'aws-cdk-lib';
import { AttributeType, ProjectionType, type Table } from 'aws-cdk-lib/aws-dynamodb';
import { type EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { UNRESOLVED_INDEX } from '../functions/shared/exactly-once/records.js';
import type { DeployedFunction } from './bundling.js';
import { onlyDeadLetterQueueOf, sourceQueueName } from './control-tower.js';

/** What a function may do after the purchase (FUNCTION_ACCESS in stack.ts). */
export interface AfterPurchaseAccess {
  /** Idempotency table actions besides the purchase functions' own (reads, the polling budget, claims). */
  tableActions?: readonly string[];
  /** Query the unresolved index (the reconciler finds outcome-unknown purchases there). */
  unresolvedIndex?: boolean;
  /** The tracking delay queue: `send` a first poll (a purchase, the reconciler), or `consume` it and send the next. */
  trackingQueue?: 'send' | 'consume';
  /** Put lifecycle events (source partner-orders) on the bus. */
  publishes?: boolean;
}

/** The tracker's function timeout: one poll is two reads; a batch of 10 at once fits many times over. */
export const TRACKER_TIMEOUT = Duration.seconds(60);
/** The reconciler's: at most RECONCILE_BATCH purchases, a few reads each. */
export const RECONCILER_TIMEOUT = Duration.seconds(300);
/** The tracking queue's consumer: batches of 10, at most 2 at once (the polling budget bounds the rate anyway). */
export const TRACKER_BATCH = { batchSize: 10, maxConcurrency: 2 } as const;
/** Receives of a tracking message before its DLQ (each poll is a new message: these are failures, not polls). */
export const TRACKING_MAX_RECEIVES = 5;

export interface AfterPurchaseOptions {
  /** How long an order is followed before OrderProvisioningStalled (PROVISIONING_TRACKING_HOURS). */
  trackingHours: number;
  /** Partner Center requests per minute tracking and the reconciler may make together (POLL_BUDGET_PER_MINUTE). */
  pollBudgetPerMinute: number;
  /** When the reconciler runs (an EventBridge schedule expression). */
  reconcilerSchedule: string;
  /** How old an outcome-unknown purchase must be before the reconciler looks (RECONCILE_AFTER_MINUTES). */
  reconcileAfterMinutes: number;
  /**
   * RefundWindowClosing this many hours before the refund window of a subscription bought through the service closes
   * (REFUND_WARNING_HOURS on the tracker); off when absent. The tracker already consumes and sends on the tracking
   * queue and publishes: no new permission.
   */
  refundWarningHours?: number;
}

export const DEFAULT_AFTER_PURCHASE: AfterPurchaseOptions = {
  trackingHours: 24,
  pollBudgetPerMinute: 100,
  reconcilerSchedule: 'rate(15 minutes)',
  reconcileAfterMinutes: 15,
};

/** Refused at synth: values the functions would refuse at run time, or that would not fit Partner Center's limit. */
export function checkAfterPurchase(options: AfterPurchaseOptions): AfterPurchaseOptions {
  const { trackingHours, pollBudgetPerMinute, reconcileAfterMinutes } = options;
  if (!(trackingHours > 0 && trackingHours <= 14 * 24)) {
    throw new Error(`provisioningTrackingHours must be more than 0 and at most 336 (14 days), got ${trackingHours}`);
  }
  if (!(Number.isInteger(pollBudgetPerMinute) && pollBudgetPerMinute >= 3 && pollBudgetPerMinute <= 250)) {
    throw new Error(
      `pollBudgetPerMinute must be a whole number from 3 (one poll and its last read) to 250 (half of Partner Center's 500 a minute), got ${pollBudgetPerMinute}`,
    );
  }
  // A purchase younger than this may still be settled by its caller's retry or a redelivery (the settle time is 2
  // minutes, a redelivery's backoff up to 15).
  if (!(reconcileAfterMinutes >= 5)) {
    throw new Error(`reconcileAfterMinutes must be at least 5, got ${reconcileAfterMinutes}`);
  }
  const warning = options.refundWarningHours;
  if (warning !== undefined && !(warning >= 1 && warning <= 167)) {
    throw new Error(`refundWarningHours must be from 1 to 167 (the refund window is 168 hours), got ${warning}`);
  }
  return options;
}

/** The unresolved index of the idempotency table (records.ts UNRESOLVED_INDEX): sparse, keys only. */
export function addUnresolvedIndex(table: Table): void {
  table.addGlobalSecondaryIndex({
    indexName: UNRESOLVED_INDEX.name,
    partitionKey: { name: UNRESOLVED_INDEX.partitionKey, type: AttributeType.STRING },
    sortKey: { name: UNRESOLVED_INDEX.sortKey, type: AttributeType.NUMBER },
    projectionType: ProjectionType.KEYS_ONLY,
  });
}

/** The delay queue of provisioning tracking and its DLQ. */
export function trackingQueues(scope: Stack): { queue: Queue; deadLetters: Queue } {
  const deadLetters = new Queue(scope, 'ProvisioningTrackingDeadLetters', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  // Named, so that the DLQ can name it as its only source (infra/control-tower.ts).
  const queueName = sourceQueueName(scope, 'provisioning-tracking');
  onlyDeadLetterQueueOf(deadLetters, queueName);
  const queue = new Queue(scope, 'ProvisioningTracking', {
    queueName,
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // A message waits 15 minutes at most (SQS's longest delay), then is polled once: a day is plenty.
    retentionPeriod: Duration.days(1),
    visibilityTimeout: Duration.seconds(TRACKER_TIMEOUT.toSeconds() * 6),
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: TRACKING_MAX_RECEIVES },
  });
  return { queue, deadLetters };
}

/** Grants, environment, the consumer's event source, the queue's resource policy, the schedule and a metric filter. */
export function wireAfterPurchase(
  scope: Stack,
  options: {
    functions: Record<DeployedFunction, NodejsFunction>;
    access: Record<DeployedFunction, AfterPurchaseAccess>;
    table: Table;
    bus: EventBus;
    queue: Queue;
    tracker: NodejsFunction;
    reconciler: NodejsFunction;
    reconcilerSchedule: string;
    metricsNamespace: string;
  },
): void {
  const { functions, access, table, bus, queue } = options;
  const senders: string[] = [];
  for (const [name, fn] of Object.entries(functions) as [DeployedFunction, NodejsFunction][]) {
    const allowed = access[name];
    const role = fn.role;
    if (!role) throw new Error(`${name} has no role`);
    if (allowed.tableActions?.length) {
      role.addToPrincipalPolicy(
        new PolicyStatement({ actions: [...allowed.tableActions], resources: [table.tableArn] }),
      );
      fn.addEnvironment('IDEMPOTENCY_TABLE_NAME', table.tableName);
    }
    if (allowed.unresolvedIndex) {
      role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [`${table.tableArn}/index/${UNRESOLVED_INDEX.name}`],
        }),
      );
    }
    if (allowed.trackingQueue) {
      // SendMessage alone (grantSendMessages adds GetQueueAttributes and GetQueueUrl, which nothing here uses).
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
      fn.addEnvironment('TRACKING_QUEUE_URL', queue.queueUrl);
      senders.push(role.roleArn);
      // A purchase placed and not followed is logged (`trackingProblem: not-started`): one metric, alarmed.
      new MetricFilter(scope, `${fn.node.id}TrackingNotStarted`, {
        logGroup: fn.logGroup as never,
        metricNamespace: options.metricsNamespace,
        metricName: 'TrackingNotStarted',
        filterPattern: FilterPattern.stringValue('$.trackingProblem', '=', 'not-started'),
        metricValue: '1',
      });
    }
    if (allowed.publishes) {
      bus.grantPutEventsTo(fn);
      fn.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
    }
  }
  options.tracker.addEventSource(new SqsEventSource(queue, { ...TRACKER_BATCH, reportBatchItemFailures: true }));
  // Only the functions that start or continue tracking may put a poll on the queue (pitfall #16: an identity policy
  // elsewhere in the account would reach it otherwise).
  queue.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyTheTrackingFunctions',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': senders } },
    }),
  );
  new Rule(scope, 'ReconcilerSchedule', {
    description: 'partner-orders: reconcile purchases whose outcome is unknown (never buys)',
    schedule: Schedule.expression(options.reconcilerSchedule),
    // A failed run is the next run's to repeat: the reconciler only reads and records.
    targets: [new LambdaFunction(options.reconciler, { retryAttempts: 0 })],
  });
}
