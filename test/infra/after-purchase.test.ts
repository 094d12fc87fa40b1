// What the stack deploys for after the purchase: the unresolved index, the tracking delay queue with its DLQ and
// consumer, the reconciler's schedule, who may send to the queue and publish on the bus, the alarms, the functions'
// settings as they read them, and the deploy options (checked at synth).
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { readLifecycleConfig } from '../../functions/shared/lifecycle/config.js';
import { TRACKER_BATCH, TRACKING_MAX_RECEIVES } from '../../infra/after-purchase.js';
import { deployedFunctions } from '../../infra/bundling.js';
import { stackPropsFromContext } from '../../infra/context.js';
import { FUNCTION_ACCESS, RECONCILER_FUNCTION, TRACKER_FUNCTION } from '../../infra/stack.js';
import { synth } from '../support/infra.js';

const { template } = synth();
const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
const functions = template.findResources('AWS::Lambda::Function');
const functionId = (name: string) =>
  Object.keys(functions).find((id) => id.startsWith(pascal(name)) && !id.includes('Role')) as string;
const roleOf = (name: string) => functions[functionId(name)]?.Properties.Role['Fn::GetAtt'][0] as string;
const envOf = (name: string) => functions[functionId(name)]?.Properties.Environment.Variables;
/** A queue's logical id: its construct id and CDK's 8-hex suffix. */
const queueId = (name: string) =>
  Object.keys(template.findResources('AWS::SQS::Queue')).find((id) =>
    new RegExp(`^${name}[0-9A-F]{8}$`).test(id),
  ) as string;
const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] as string;
const roleArn = (name: string) => ({ 'Fn::GetAtt': [roleOf(name), 'Arn'] });

describe('after the purchase, deployed', () => {
  it('indexes outcome-unknown purchases in the idempotency table: sparse, keys only', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'unresolved',
          KeySchema: [
            { AttributeName: 'unresolved', KeyType: 'HASH' },
            { AttributeName: 'lastSentAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('has a tracking delay queue (SSE, its own DLQ after 5 receives) consumed by track-provisioning in batches', () => {
    const queue = queueId('ProvisioningTracking');
    const deadLetters = queueId('ProvisioningTrackingDeadLetters');
    expect(queue).not.toBe(deadLetters);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 86_400,
      VisibilityTimeout: 360,
      RedrivePolicy: {
        maxReceiveCount: TRACKING_MAX_RECEIVES,
        deadLetterTargetArn: { 'Fn::GetAtt': [deadLetters, 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      FunctionName: { Ref: functionId(TRACKER_FUNCTION) },
      BatchSize: TRACKER_BATCH.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: TRACKER_BATCH.maxConcurrency },
    });
    // The queue's URL goes to every function that starts tracking, and to nobody else.
    const senders = deployedFunctions.filter((name) => FUNCTION_ACCESS[name].trackingQueue);
    expect(senders.sort()).toEqual(
      [
        'create-order',
        'create-cart',
        'invoke-purchase',
        'order-events',
        // Its tools run the purchase routes' handlers in process (functions/mcp).
        'mcp',
        TRACKER_FUNCTION,
        RECONCILER_FUNCTION,
      ].sort(),
    );
    for (const name of deployedFunctions) {
      expect(envOf(name)?.TRACKING_QUEUE_URL, name).toEqual(senders.includes(name) ? { Ref: queue } : undefined);
    }
  });

  it('lets only those functions put a message on the tracking queue (an explicit deny for everyone else)', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter((p) =>
      p.Properties.Queues.some((q: { Ref: string }) => q.Ref === queueId('ProvisioningTracking')),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const deny = statements.find((s: { Sid?: string }) => s.Sid === 'OnlyTheTrackingFunctions');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:SendMessage' });
    expect(deny.Condition.ArnNotEquals['aws:PrincipalArn']).toEqual(
      expect.arrayContaining(
        [
          'create-order',
          'create-cart',
          'invoke-purchase',
          'order-events',
          'mcp',
          TRACKER_FUNCTION,
          RECONCILER_FUNCTION,
        ].map(roleArn),
      ),
    );
    expect(deny.Condition.ArnNotEquals['aws:PrincipalArn']).toHaveLength(7);
  });

  it('lets the tracker and the reconciler publish their events (source partner-orders) on the bus, and nothing else', () => {
    const statements = Object.values(template.findResources('AWS::Events::EventBus')).flatMap(
      (b) => b.Properties.Policy.Statement,
    );
    const bySid = (sid: string) => statements.find((s: { Sid?: string }) => s.Sid === sid);
    const publishers = ['order-events', TRACKER_FUNCTION, RECONCILER_FUNCTION].map(roleArn);
    expect(bySid('OnlyNamedProducersAndTheConsumer').Condition.ArnNotEquals['aws:PrincipalArn']).toEqual(
      expect.arrayContaining(publishers),
    );
    expect(bySid('OutcomesOnlyFromTheConsumer').Condition.ArnNotEquals['aws:PrincipalArn']).toEqual(publishers);
    expect(bySid('TheConsumerPutsOnlyOutcomes').Condition.ArnEquals['aws:PrincipalArn']).toEqual(publishers);
  });

  it('runs the reconciler every 15 minutes, without retries (the next run repeats a failed one)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId(RECONCILER_FUNCTION), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
  });

  it('gives the functions their settings as they read them: 24 h of tracking, 100 requests a minute, 15 minutes', () => {
    expect(readLifecycleConfig(envOf(TRACKER_FUNCTION))).toMatchObject({
      trackingWindowMs: 24 * 3_600_000,
      pollBudgetPerMinute: 100,
    });
    expect(readLifecycleConfig(envOf(RECONCILER_FUNCTION))).toMatchObject({
      reconcileAfterMs: 15 * 60_000,
      pollBudgetPerMinute: 100,
    });
    for (const name of [TRACKER_FUNCTION, RECONCILER_FUNCTION, 'status']) {
      expect(envOf(name).IDEMPOTENCY_TABLE_NAME, name).toEqual({ Ref: tableId });
    }
    // The status function reads only: GetItem, never a write.
    expect(FUNCTION_ACCESS.status.tableActions).toEqual(['dynamodb:GetItem']);
    expect(FUNCTION_ACCESS[RECONCILER_FUNCTION].tableActions).not.toContain('dynamodb:DeleteItem');
  });

  it('alarms on the tracking DLQ, on purchases needing attention, and on tracking that could not start', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId('ProvisioningTrackingDeadLetters'), 'QueueName'] } },
      ],
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'partner-orders',
      MetricName: 'PurchasesNeedingAttention',
      Dimensions: [{ Name: 'service', Value: RECONCILER_FUNCTION }],
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TrackingNotStarted', Threshold: 1 });
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'))
      .map((f) => f.Properties)
      .filter((f) => f.MetricTransformations[0].MetricName === 'TrackingNotStarted');
    expect(filters).toHaveLength(deployedFunctions.filter((name) => FUNCTION_ACCESS[name].trackingQueue).length);
    for (const filter of filters) expect(filter.FilterPattern).toBe('{ $.trackingProblem = "not-started" }');
  });

  it('takes its options from the deploy context, and refuses values that would not fit', () => {
    const props = stackPropsFromContext(
      (key) =>
        ({
          provisioningTrackingHours: '48',
          pollBudgetPerMinute: '50',
          reconcilerSchedule: 'rate(30 minutes)',
          reconcileAfterMinutes: '30',
        })[key],
    );
    expect(props.afterPurchase).toEqual({
      trackingHours: 48,
      pollBudgetPerMinute: 50,
      reconcilerSchedule: 'rate(30 minutes)',
      reconcileAfterMinutes: 30,
    });
    const custom = synth(props).template;
    const env = (name: string) =>
      Object.entries(custom.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(pascal(name)))?.[1]
        .Properties.Environment.Variables;
    expect(env(TRACKER_FUNCTION)).toMatchObject({ PROVISIONING_TRACKING_HOURS: '48', POLL_BUDGET_PER_MINUTE: '50' });
    expect(env(RECONCILER_FUNCTION)).toMatchObject({ RECONCILE_AFTER_MINUTES: '30' });
    custom.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(30 minutes)' });
    expect(stackPropsFromContext(() => undefined).afterPurchase).toBeUndefined();
    expect(() => synth({ afterPurchase: { pollBudgetPerMinute: 400 } })).toThrow(/pollBudgetPerMinute/);
    expect(() => synth({ afterPurchase: { pollBudgetPerMinute: 2 } })).toThrow(/pollBudgetPerMinute/);
    expect(() => synth({ afterPurchase: { trackingHours: 0.0 } })).toThrow(/provisioningTrackingHours/);
    expect(() => synth({ afterPurchase: { reconcileAfterMinutes: 2 } })).toThrow(/reconcileAfterMinutes/);
  });

  it('adds no cdk-nag finding', () => {
    const { stack } = synth();
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });
});
