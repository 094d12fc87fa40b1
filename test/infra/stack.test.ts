import { App, Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/shared/config.js';
import { functionNames, routes } from '../../functions/shared/routes.js';
import { PURCHASE_FUNCTIONS, READ_FUNCTIONS } from '../../infra/authorization.js';
import { type DeployedFunction, deployedFunctions } from '../../infra/bundling.js';
import {
  ACKNOWLEDGEMENTS,
  API_INTEGRATION_TIMEOUT,
  ASYNC_RETRY_ATTEMPTS,
  COMMAND_QUEUE_RETENTION,
  DEAD_LETTER_RETENTION,
  EVENTS_FUNCTION,
  FUNCTION_ACCESS,
  INIT_ALLOWANCE,
  INVOKE_FUNCTION,
  KEEPER_FUNCTION,
  MIN_IDEMPOTENCY_TTL,
  PartnerOrdersStack,
  RECONCILER_FUNCTION,
  SECRET_LOGICAL_ID,
  TRACKER_FUNCTION,
} from '../../infra/stack.js';
import { synth } from '../support/infra.js';

const { stack, template } = synth();
const functions = template.findResources('AWS::Lambda::Function');
const roles = template.findResources('AWS::IAM::Role');
const policies = template.findResources('AWS::IAM::Policy');
const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0] as string;
const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] as string;
const busId = Object.keys(template.findResources('AWS::Events::EventBus'))[0] as string;
const commandQueueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) =>
  /^Commands[0-9A-F]{8}$/.test(id),
) as string;
const allFunctions = deployedFunctions;
const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
/** The function folder a CloudFormation function comes from (its logical id starts with the folder in PascalCase). */
const nameOf = (logicalId: string) =>
  deployedFunctions.find((n) => logicalId.startsWith(pascal(n))) as DeployedFunction;

const policyOfRole = (roleId: string) =>
  Object.values(policies).filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId));
const DAY_S = 86_400;
const IMPORTED_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partner-center-AbCdEf';
const SECRET_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
/** Every deploy option that keeps the created secret, at once (one synth: pitfall #10). */
const variant = synth({
  authMode: 'app-only',
  tracing: true,
  keeperReservedConcurrency: 1,
  logRetention: RetentionDays.TWO_YEARS,
  idempotencyTtl: Duration.days(40),
  idempotencyKeyRequired: false,
  preflight: 'best-effort',
  keeperSchedule: 'rate(12 hours)',
  alarmEmail: 'ops@example.com',
  authorizer: { type: 'jwt', issuer: 'https://login.example.com/', audience: ['partner-orders'] },
}).template;
/** An imported secret under a customer-managed key. */
const imported = synth({ secretArn: IMPORTED_SECRET, secretKmsKeyArn: SECRET_KEY }).template;

describe('PartnerOrdersStack', () => {
  it('has one function per function folder of the route table, plus the event consumer and the keeper, Node.js 24 on arm64', () => {
    expect(Object.keys(functions).map(nameOf).sort()).toEqual([...allFunctions].sort());
    expect(functionNames).toEqual(expect.arrayContaining(['create-order', 'create-cart', 'credentials-health']));
    for (const [id, fn] of Object.entries(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
      });
      const name = nameOf(id);
      const timeouts: Partial<Record<DeployedFunction, number>> = {
        [EVENTS_FUNCTION]: 60,
        [KEEPER_FUNCTION]: 60,
        [TRACKER_FUNCTION]: 60,
        [RECONCILER_FUNCTION]: 300,
      };
      expect(fn.Properties.Timeout, name).toBe(timeouts[name] ?? 25);
    }
  });

  it('gives each function the secret ARN, never a value, and the table only where it is used', () => {
    for (const [id, fn] of Object.entries(functions)) {
      const name = nameOf(id);
      const env = fn.Properties.Environment.Variables;
      expect(env.PARTNER_CENTER_SECRET_ID).toEqual({ Ref: secretId });
      const expected = ['LOG_LEVEL', 'PARTNER_CENTER_SECRET_ID'];
      if (FUNCTION_ACCESS[name].idempotencyTable) {
        expected.push(
          'IDEMPOTENCY_TABLE_NAME',
          'IDEMPOTENCY_TTL_SECONDS',
          'IDEMPOTENCY_KEY_REQUIRED',
          'PREFLIGHT',
          'DUPLICATE_WINDOW_HOURS',
        );
        // The catalog pre-flight is on unless the deployment says otherwise (docs/catalog.md).
        expect(readConfig(env).preflight).toBe('on');
        expect(env.IDEMPOTENCY_TABLE_NAME).toEqual({ Ref: tableId });
        expect(env.IDEMPOTENCY_KEY_REQUIRED).toBe('true');
        expect(readConfig(env).requireIdempotencyKey).toBe(true);
        expect(env.IDEMPOTENCY_TTL_SECONDS).toBe(String(29 * DAY_S));
      }
      // The API functions know how callers are identified (IAM here); direct invocation has no caller to identify.
      if ((functionNames as readonly string[]).includes(name)) {
        expected.push('MAX_REQUEST_MS', 'DEADLINE_MARGIN_MS', 'AUTHORIZER');
        expect(env.AUTHORIZER).toBe('iam');
      }
      if (name === INVOKE_FUNCTION) expected.push('MAX_REQUEST_MS', 'DEADLINE_MARGIN_MS');
      // Whether the MCP route lists the tools that buy (test/infra/mcp.test.ts).
      if (name === 'mcp') expected.push('MCP_WRITES');
      if (name === EVENTS_FUNCTION) {
        expected.push('EVENT_BUS_NAME', 'EVENT_CONCURRENCY', 'DEADLINE_MARGIN_MS');
        // Queue provenance: the queue each record's receipt handle is checked on.
        expected.push('COMMAND_QUEUE_URL', 'COMMAND_QUEUE_ARN', 'COMMAND_QUEUE_VISIBILITY_SECONDS');
        expect(env.COMMAND_QUEUE_URL).toEqual({ Ref: commandQueueId });
        expect(env.COMMAND_QUEUE_ARN).toEqual({ 'Fn::GetAtt': [commandQueueId, 'Arn'] });
      }
      // The functions that buy ask the purchase policy store (test/infra/authorization.test.ts).
      // The functions that buy ask the purchase policy; status and catalog its Read action.
      if (([...PURCHASE_FUNCTIONS, ...READ_FUNCTIONS] as readonly string[]).includes(name)) {
        expected.push('POLICY_STORE_ID');
      }
      // After the purchase (test/infra/after-purchase.test.ts): the tracking queue, the table, the bus, the budget.
      const access = FUNCTION_ACCESS[name];
      if (access.trackingQueue) expected.push('TRACKING_QUEUE_URL');
      if (access.tableActions) expected.push('IDEMPOTENCY_TABLE_NAME');
      if (access.publishes) expected.push('EVENT_BUS_NAME');
      if (name === TRACKER_FUNCTION) expected.push('POLL_BUDGET_PER_MINUTE', 'PROVISIONING_TRACKING_HOURS');
      if (name === RECONCILER_FUNCTION) {
        expected.push('POLL_BUDGET_PER_MINUTE', 'RECONCILE_AFTER_MINUTES', 'IDEMPOTENCY_TTL_SECONDS');
      }
      expect(Object.keys(env).sort(), name).toEqual(expected.sort());
      expect(JSON.stringify(env)).not.toMatch(/clientSecret|refreshToken|PARTNER_CENTER_CREDENTIALS/);
    }
  });

  it('creates the secret with the credentials shape and keeps it when the stack goes', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        GenerateSecretString: {
          GenerateStringKey: 'clientSecret',
          SecretStringTemplate: JSON.stringify({
            tenantId: 'REPLACE_ME',
            clientId: 'REPLACE_ME',
            refreshToken: 'REPLACE_ME',
          }),
        },
      },
    });
  });

  it('never regenerates the created secret: one pinned logical id and one template, whatever the deploy options', () => {
    // CloudFormation writes a new version when GenerateSecretString changes (over the uploaded credentials), and a new
    // logical id replaces the secret. This is the resource as first deployed: if this test fails, the change would
    // overwrite a deployment's credentials. Do not update the expectation; undo the change.
    const created = template.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(created)).toEqual([SECRET_LOGICAL_ID]);
    expect(SECRET_LOGICAL_ID).toBe('PartnerCenterCredentialsD1DAE6BC');
    expect(created[SECRET_LOGICAL_ID]).toEqual({
      Type: 'AWS::SecretsManager::Secret',
      Properties: {
        Description: 'Partner Center credentials for partner-orders: {tenantId, clientId, clientSecret, refreshToken?}',
        GenerateSecretString: {
          GenerateStringKey: 'clientSecret',
          SecretStringTemplate: '{"tenantId":"REPLACE_ME","clientId":"REPLACE_ME","refreshToken":"REPLACE_ME"}',
        },
      },
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
    });
    expect(variant.findResources('AWS::SecretsManager::Secret')).toEqual(created);
  });

  it('gives each function its own role with exactly its access: only the keeper may write the secret', () => {
    const roleIds = new Set(Object.values(functions).map((fn) => fn.Properties.Role['Fn::GetAtt'][0] as string));
    expect(roleIds.size).toBe(allFunctions.length);
    for (const [id, fn] of Object.entries(functions)) {
      const name = nameOf(id);
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      expect(roles[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
      const statements = policyOfRole(roleId).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const logGroup = fn.Properties.LoggingConfig.LogGroup.Ref;
      const expected: unknown[] = [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
        },
        FUNCTION_ACCESS[name].secret === 'read'
          ? {
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Resource: { Ref: secretId },
            }
          : {
              Effect: 'Allow',
              Action: [
                'secretsmanager:GetSecretValue',
                'secretsmanager:DescribeSecret',
                'secretsmanager:PutSecretValue',
              ],
              Resource: { Ref: secretId },
            },
      ];
      if (FUNCTION_ACCESS[name].idempotencyTable) {
        expected.push({
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        });
      }
      if (name === EVENTS_FUNCTION) {
        expected.push(
          {
            Effect: 'Allow',
            Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
            Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Commands/), 'Arn'] },
          },
          { Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } },
        );
      }
      if (([...PURCHASE_FUNCTIONS, ...READ_FUNCTIONS] as readonly string[]).includes(name)) {
        expected.push({
          Effect: 'Allow',
          Action: ['verifiedpermissions:IsAuthorized', 'verifiedpermissions:GetPolicy'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^PurchasePolicyStore/), 'Arn'] },
        });
      }
      // After the purchase: exactly the table actions named, the index, the tracking queue, the bus.
      const access = FUNCTION_ACCESS[name];
      const trackingQueue = { 'Fn::GetAtt': [expect.stringMatching(/^ProvisioningTracking[0-9A-F]/), 'Arn'] };
      if (access.tableActions) {
        const actions = access.tableActions.length === 1 ? access.tableActions[0] : [...access.tableActions];
        expected.push({ Effect: 'Allow', Action: actions, Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } });
      }
      if (access.unresolvedIndex) {
        expected.push({
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/unresolved']] },
        });
      }
      if (access.trackingQueue) expected.push({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: trackingQueue });
      if (access.trackingQueue === 'consume') {
        expected.push({
          Effect: 'Allow',
          Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
          Resource: trackingQueue,
        });
      }
      if (access.publishes) {
        expected.push({ Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } });
      }
      expect(statements, name).toEqual(expect.arrayContaining(expected as never[]));
      expect(statements, name).toHaveLength(expected.length);
      expect(JSON.stringify(statements)).not.toMatch(/dynamodb:\*|secretsmanager:\*|"Resource":"\*"/);
      if (name !== KEEPER_FUNCTION) expect(JSON.stringify(statements), name).not.toContain('PutSecretValue');
    }
  });

  it('runs the keeper daily, without reserved concurrency unless asked (accounts at the default quota)', () => {
    const [keeperId, keeper] = Object.entries(functions).find(([id]) => nameOf(id) === KEEPER_FUNCTION) ?? [];
    expect(keeper?.Properties.ReservedConcurrentExecutions).toBeUndefined();
    for (const fn of Object.values(functions)) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [keeperId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } }),
      ],
    });
    variant.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(12 hours)' });
    const reserved = Object.entries(variant.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
      .map(([id, fn]) => [nameOf(id), fn.Properties.ReservedConcurrentExecutions]);
    expect(reserved).toEqual([[KEEPER_FUNCTION, 1]]);
    expect(() => synth({ keeperReservedConcurrency: 0 })).toThrow(/keeperReservedConcurrency/);
  });

  it('gives asynchronous invocations of the purchase functions no automatic retries (EventInvokeConfig)', () => {
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).map((c) => c.Properties);
    expect(configs).toHaveLength(allFunctions.length);
    const retries = Object.fromEntries(
      configs.map((c) => [nameOf(c.FunctionName.Ref), c.MaximumRetryAttempts] as const),
    );
    expect(retries).toEqual(ASYNC_RETRY_ATTEMPTS);
    for (const name of allFunctions.filter((n) => FUNCTION_ACCESS[n].idempotencyTable)) {
      expect(retries[name], `${name} buys`).toBe(0);
    }
    for (const config of configs) expect(config.Qualifier).toBe('$LATEST');
  });

  it('lines the timeouts up with API Gateway: integration ≥ init + function timeout > deadline + margin', () => {
    const integrations = Object.values(template.findResources('AWS::ApiGatewayV2::Integration')).map(
      (i) => i.Properties,
    );
    expect(integrations).toHaveLength(functionNames.length);
    for (const integration of integrations) {
      expect(integration).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        TimeoutInMillis: API_INTEGRATION_TIMEOUT.toMilliseconds(),
      });
      const functionId = integration.IntegrationUri['Fn::GetAtt'][0] as string;
      const fn = functions[functionId];
      const timeoutMs = fn?.Properties.Timeout * 1000;
      // What the function itself reads from the environment the stack gave it.
      const config = readConfig(fn?.Properties.Environment.Variables);
      const chain = {
        integration: integration.TimeoutInMillis,
        init: INIT_ALLOWANCE.toMilliseconds(),
        function: timeoutMs,
        deadline: config.maxRequestMs,
        margin: config.deadlineMarginMs,
      };
      expect(chain.init + chain.function, nameOf(functionId)).toBeLessThanOrEqual(chain.integration);
      expect(chain.deadline + chain.margin, nameOf(functionId)).toBeLessThan(chain.function);
      expect(chain.integration).toBeGreaterThan(chain.deadline + chain.margin);
      expect(chain.margin).toBeGreaterThan(0);
      // No Partner Center attempt outlives the request's deadline either.
      expect(config.attemptTimeoutMs).toBeLessThanOrEqual(chain.deadline);
    }
    expect(API_INTEGRATION_TIMEOUT.toMilliseconds()).toBe(29_000);
  });

  it('keeps idempotency records longer than a command can wait in the queue and the DLQ, plus a day', () => {
    const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
    const retention = (prefix: string) =>
      queues.find(([id]) => id.startsWith(prefix))?.[1].Properties.MessageRetentionPeriod as number;
    expect(retention('Commands')).toBe(COMMAND_QUEUE_RETENTION.toSeconds());
    expect(retention('CommandDeadLetters')).toBe(DEAD_LETTER_RETENTION.toSeconds());
    expect(retention('Commands')).toBe(14 * DAY_S); // SQS's maximum
    expect(retention('CommandDeadLetters')).toBe(14 * DAY_S);
    const minimum = retention('Commands') + retention('CommandDeadLetters') + DAY_S;
    expect(MIN_IDEMPOTENCY_TTL.toSeconds()).toBe(minimum);
    for (const t of [template, variant]) {
      for (const fn of Object.values(t.findResources('AWS::Lambda::Function'))) {
        const ttl = fn.Properties.Environment.Variables.IDEMPOTENCY_TTL_SECONDS;
        if (ttl !== undefined) expect(Number(ttl)).toBeGreaterThanOrEqual(minimum);
      }
    }
    // The configured value is used when larger, refused when smaller.
    const ttls = Object.values(variant.findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties.Environment.Variables.IDEMPOTENCY_TTL_SECONDS)
      .filter(Boolean);
    expect(new Set(ttls)).toEqual(new Set([String(40 * DAY_S)]));
    // (and the variant made keys optional)
    const required = Object.values(variant.findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties.Environment.Variables.IDEMPOTENCY_KEY_REQUIRED)
      .filter(Boolean);
    expect(new Set(required)).toEqual(new Set(['false']));
    // (and chose a best-effort catalog pre-flight, on every function that buys)
    const preflight = Object.values(variant.findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties.Environment.Variables.PREFLIGHT)
      .filter(Boolean);
    // (create-order, create-cart, order-events, invoke-purchase, and mcp, which runs the first two's handlers; the
    // subscriptions function gets the setting with the table, and has no catalog to check)
    expect(preflight).toEqual(Array(6).fill('best-effort'));

    expect(() => synth({ idempotencyTtl: Duration.hours(24) })).toThrow(/at least 696 hours \(29 days/);
    expect(() => synth({ idempotencyTtl: Duration.days(29).minus(Duration.seconds(1)) })).toThrow(/at least/);
    // The functions' own default agrees with the stack's.
    expect(readConfig({}).idempotencyTtlSeconds).toBe(minimum);
  });

  it('turns invalid_grant in any function log into one metric, and alarms on it and on the keeper', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'))
      .map((f) => f.Properties)
      .filter((f) => f.MetricTransformations[0].MetricName === 'InvalidGrant');
    expect(filters).toHaveLength(allFunctions.length);
    for (const filter of filters) {
      expect(filter).toMatchObject({
        FilterPattern: '{ $.credentialProblem = "invalid_grant" }',
        MetricTransformations: [{ MetricNamespace: 'partner-orders', MetricName: 'InvalidGrant', MetricValue: '1' }],
      });
    }
    const groups = new Set(filters.map((f) => f.LogGroupName.Ref));
    expect(groups.size).toBe(allFunctions.length);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'partner-orders',
      MetricName: 'InvalidGrant',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'partner-orders',
      MetricName: 'CredentialCheckFailed',
      Dimensions: [{ Name: 'service', Value: 'token-keeper' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RefreshTokenAgeDays',
      Threshold: 7,
      TreatMissingData: 'breaching',
    });
  });

  it('in app-only mode has no RefreshTokenStale alarm (no refresh token, so no age: it would sit in alarm)', () => {
    const metrics = Object.values(variant.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.MetricName);
    expect(metrics).not.toContain('RefreshTokenAgeDays');
    expect(metrics).toEqual(expect.arrayContaining(['InvalidGrant', 'CredentialCheckFailed']));
  });

  it('gives every function access to a customer-managed key of an imported secret, through Secrets Manager only', () => {
    const statementsOf = (fnId: string) => {
      const fn = imported.findResources('AWS::Lambda::Function')[fnId];
      const roleId = fn?.Properties.Role['Fn::GetAtt'][0];
      return Object.values(imported.findResources('AWS::IAM::Policy'))
        .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
    };
    const viaSecretsManager = {
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    };
    const ids = Object.keys(imported.findResources('AWS::Lambda::Function'));
    expect(ids).toHaveLength(allFunctions.length);
    for (const id of ids) {
      const kms = statementsOf(id).filter((s: { Action: string | string[] }) =>
        JSON.stringify(s.Action).includes('kms:'),
      );
      expect(kms, nameOf(id)).toEqual([
        {
          Effect: 'Allow',
          Action:
            nameOf(id) === KEEPER_FUNCTION ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : 'kms:Decrypt',
          Resource: SECRET_KEY,
          Condition: viaSecretsManager,
        },
      ]);
    }
    // Without the option, no function has any KMS permission.
    expect(JSON.stringify(Object.values(policies))).not.toContain('kms:');
    expect(() => synth({ secretKmsKeyArn: SECRET_KEY })).toThrow(/secretArn/);
    const checked = synth({ secretArn: IMPORTED_SECRET, secretKmsKeyArn: SECRET_KEY }).stack;
    expect(new AwsSolutionsChecks(checked).validateScope(checked).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('keeps idempotency records in an on-demand table with TTL and point-in-time recovery', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
  });

  it('routes CreateOrder, CreateCart and the subscription commands, never its own outcomes, from its bus to an encrypted queue with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: {
        'detail-type': [
          'CreateOrder',
          'CreateCart',
          'CancelSubscription',
          'ReduceSeats',
          'ChangeAutoRenew',
          'ScheduleRenewalChange',
          'CancelScheduledChange',
        ],
        source: [{ 'anything-but': ['partner-orders'] }],
      },
    });
    const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
    // The command queue and its DLQ; the tracking queue and its DLQ (test/infra/after-purchase.test.ts).
    expect(queues).toHaveLength(4);
    const [commandsId, commands] = queues.find(([id]) => id.startsWith('Commands')) ?? [];
    expect(commands?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360, // 6 × the consumer's 60 s timeout
      RedrivePolicy: {
        maxReceiveCount: 15, // DEFAULT_MAX_RECEIVE_COUNT: an hour of throttling (test/infra/event-path.test.ts)
        deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^CommandDeadLetters/), 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [commandsId, 'Arn'] },
      BatchSize: 1, // infra/event-path.ts: one record per invocation, 20 at once (test/infra/event-path.test.ts)
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 20 },
    });
  });

  it('keeps every log group (the purchase audit trail) a year by default, configurable, and beyond the stack', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(allFunctions.length + 1);
    for (const group of groups) {
      expect(group.Properties.RetentionInDays).toBe(365);
      expect(group.DeletionPolicy).toBe('Retain');
    }
    for (const group of Object.values(variant.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(731);
    }
  });

  it('serves every route of the route table with IAM authorization, and nothing else', () => {
    const deployed = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(deployed.map((r) => r.RouteKey).sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of deployed) expect(route.AuthorizationType).toBe('AWS_IAM');
  });

  it('throttles and access-logs the stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 40, ThrottlingRateLimit: 20 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApiAccessLogs'), 'Arn'] } },
    });
  });

  it('alarms on function errors and throttles and on API 5xx, into an encrypted topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const metrics = alarms.map((a) => `${a.Namespace}:${a.MetricName}`).sort();
    expect(metrics).toEqual(
      [
        ...allFunctions.flatMap(() => ['AWS/Lambda:Errors', 'AWS/Lambda:Throttles']),
        'AWS/SQS:ApproximateNumberOfMessagesVisible',
        // After the purchase: the tracking DLQ, purchases the reconciler cannot settle, tracking not started.
        'AWS/SQS:ApproximateNumberOfMessagesVisible',
        'partner-orders:PurchasesNeedingAttention',
        'partner-orders:TrackingNotStarted',
        'AWS/ApiGateway:5xx',
        'partner-orders:InvalidGrant',
        'partner-orders:PolicyDenials',
        'partner-orders:CredentialCheckFailed',
        'partner-orders:RefreshTokenAgeDays',
        // Queue provenance: records refused as not from the command queue.
        'partner-orders:CommandsNotFromQueue',
      ].sort(),
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the alarm email when given, and can use a JWT authorizer and tracing instead', () => {
    const custom = synth({
      alarmEmail: 'ops@example.com',
      authorizer: { type: 'jwt', issuer: 'https://login.example.com/', audience: ['partner-orders'] },
      tracing: true,
    }).template;
    custom.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    custom.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://login.example.com/', Audience: ['partner-orders'] },
    });
    for (const route of Object.values(custom.findResources('AWS::ApiGatewayV2::Route'))) {
      expect(route.Properties.AuthorizationType).toBe('JWT');
    }
    for (const fn of Object.values(custom.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('imports an existing secret by ARN instead of creating one', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partner-center-AbCdEf';
    const imported = synth({ secretArn: arn }).template;
    imported.resourceCountIs('AWS::SecretsManager::Secret', 0);
    for (const fn of Object.values(imported.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables.PARTNER_CENTER_SECRET_ID).toBe(arn);
    }
    const resources = Object.values(imported.findResources('AWS::IAM::Policy')).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter((s: { Action: string[] }) =>
        s.Action.includes('secretsmanager:GetSecretValue'),
      ).map((s: { Resource: unknown }) => s.Resource),
    );
    expect(new Set(resources)).toEqual(new Set([arn]));
  });

  it('outputs the API URL, the secret ARN, the event path, the table and the function names', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs.sort()).toEqual(
      [
        'ApiUrl',
        'SecretArn',
        'EventBusName',
        'CommandQueueUrl',
        'DeadLetterQueueUrl',
        'IdempotencyTableName',
        'TrackingQueueUrl',
        'TrackingDeadLetterQueueUrl',
        'PolicyStoreId',
        'AlarmTopicArn',
        'InvokePurchaseFunctionArn',
        'InvokeGuard',
        ...allFunctions.map((name) => `${pascal(name)}FunctionName`),
      ].sort(),
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each([false, true])('has no unacknowledged finding (tracing %s)', (tracing) => {
    const { stack: checked } = synth({ tracing });
    const report = new AwsSolutionsChecks(checked).validateScope(checked);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('finds exactly what is acknowledged when acknowledgements are off, each on one resource with a reason', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], 'nag:acknowledge': false } });
    const raw = new PartnerOrdersStack(app, 'Raw', { tracing: true });
    const violations = new AwsSolutionsChecks(raw).validateScope(raw).violations;
    const found = violations.flatMap((v) => v.violatingResources.map(() => v.ruleName)).sort();
    expect(found).toEqual([...allFunctions.map(() => 'AwsSolutions-IAM5[Resource::*]'), 'AwsSolutions-SMG4']);
    const acknowledged = [...ACKNOWLEDGEMENTS].filter(([key]) => key.startsWith('Raw/'));
    expect(acknowledged.map(([key]) => key.split(' ')[1]).sort()).toEqual(found);
    for (const [key, reason] of acknowledged) {
      expect(key.split(' ')[0]).toMatch(/^Raw\/./); // a resource's path, never the stack's
      expect(reason.length).toBeGreaterThan(40);
    }
  });

  it('refuses an acknowledgement on the stack itself', async () => {
    const { acknowledge } = await import('../../infra/stack.js');
    expect(() => acknowledge(stack, 'AwsSolutions-SMG4', 'reason')).toThrow(/not on the stack/);
  });
});
