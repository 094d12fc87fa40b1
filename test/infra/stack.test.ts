import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { functionNames, routes } from '../../functions/shared/routes.js';
import { type DeployedFunction, deployedFunctions } from '../../infra/bundling.js';
import {
  ACKNOWLEDGEMENTS,
  EVENTS_FUNCTION,
  FUNCTION_ACCESS,
  KEEPER_FUNCTION,
  PartnerOrdersStack,
} from '../../infra/stack.js';
import { synth } from '../support/infra.js';

const { stack, template } = synth();
const functions = template.findResources('AWS::Lambda::Function');
const roles = template.findResources('AWS::IAM::Role');
const policies = template.findResources('AWS::IAM::Policy');
const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0] as string;
const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] as string;
const busId = Object.keys(template.findResources('AWS::Events::EventBus'))[0] as string;
const allFunctions = deployedFunctions;
const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
/** The function folder a CloudFormation function comes from (its logical id starts with the folder in PascalCase). */
const nameOf = (logicalId: string) =>
  deployedFunctions.find((n) => logicalId.startsWith(pascal(n))) as DeployedFunction;

const policyOfRole = (roleId: string) =>
  Object.values(policies).filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId));

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
      expect(fn.Properties.Timeout, name).toBe(name === EVENTS_FUNCTION || name === KEEPER_FUNCTION ? 60 : 29);
    }
  });

  it('gives each function the secret ARN, never a value, and the table only where it is used', () => {
    for (const [id, fn] of Object.entries(functions)) {
      const name = nameOf(id);
      const env = fn.Properties.Environment.Variables;
      expect(env.PARTNER_CENTER_SECRET_ID).toEqual({ Ref: secretId });
      const expected = ['LOG_LEVEL', 'PARTNER_CENTER_SECRET_ID'];
      if (FUNCTION_ACCESS[name].idempotencyTable) {
        expected.push('IDEMPOTENCY_TABLE_NAME', 'IDEMPOTENCY_TTL_SECONDS');
        expect(env.IDEMPOTENCY_TABLE_NAME).toEqual({ Ref: tableId });
        expect(env.IDEMPOTENCY_TTL_SECONDS).toBe('86400');
      }
      if (name === EVENTS_FUNCTION) expected.push('EVENT_BUS_NAME', 'EVENT_CONCURRENCY');
      expect(Object.keys(env).sort(), name).toEqual(expected.sort());
      expect(JSON.stringify(env)).not.toMatch(/clientSecret|refreshToken|PARTNER_CENTER_CREDENTIALS/);
    }
  });

  it('creates the secret with the credentials shape and keeps it when the stack goes', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
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
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
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
      expect(statements, name).toEqual(expect.arrayContaining(expected as never[]));
      expect(statements, name).toHaveLength(expected.length);
      expect(JSON.stringify(statements)).not.toMatch(/dynamodb:\*|secretsmanager:\*|"Resource":"\*"/);
      if (name !== KEEPER_FUNCTION) expect(JSON.stringify(statements), name).not.toContain('PutSecretValue');
    }
  });

  it('runs the keeper daily, one at a time', () => {
    const [keeperId, keeper] = Object.entries(functions).find(([id]) => nameOf(id) === KEEPER_FUNCTION) ?? [];
    expect(keeper?.Properties.ReservedConcurrentExecutions).toBe(1);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 day)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [keeperId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } }),
      ],
    });
    synth({ keeperSchedule: 'rate(12 hours)' }).template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(12 hours)',
    });
  });

  it('turns invalid_grant in any function log into one metric, and alarms on it and on the keeper', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f) => f.Properties);
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

  it('routes CreateOrder and CreateCart commands, never its own outcomes, from its bus to an encrypted queue with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: busId },
      EventPattern: { 'detail-type': ['CreateOrder', 'CreateCart'], source: [{ 'anything-but': ['partner-orders'] }] },
    });
    const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    const [commandsId, commands] = queues.find(([id]) => id.startsWith('Commands')) ?? [];
    expect(commands?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360, // 6 × the consumer's 60 s timeout
      RedrivePolicy: {
        maxReceiveCount: 5,
        deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^CommandDeadLetters/), 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [commandsId, 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('sets log retention on every log group', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(allFunctions.length + 1);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
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
        'AWS/ApiGateway:5xx',
        'partner-orders:InvalidGrant',
        'partner-orders:CredentialCheckFailed',
        'partner-orders:RefreshTokenAgeDays',
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

  it('outputs the API URL, the secret ARN and the function names', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining(['ApiUrl', 'SecretArn', 'CreateOrderFunctionName', 'CreateCartFunctionName']),
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
