import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { functionNames, routes } from '../../functions/shared/routes.js';
import { ACKNOWLEDGEMENTS, EVENTS_FUNCTION, PartnerOrdersStack } from '../../infra/stack.js';
import { synth } from '../support/infra.js';

const { stack, template } = synth();
const functions = template.findResources('AWS::Lambda::Function');
const roles = template.findResources('AWS::IAM::Role');
const policies = template.findResources('AWS::IAM::Policy');
const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0] as string;
const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0] as string;
const busId = Object.keys(template.findResources('AWS::Events::EventBus'))[0] as string;
const allFunctions = [...functionNames, EVENTS_FUNCTION];
// biome-ignore lint/suspicious/noExplicitAny: CloudFormation resources as assertions returns them
const isEventsFunction = (fn: { [key: string]: any }) => fn.Properties.Timeout === 60;

const policyOfRole = (roleId: string) =>
  Object.values(policies).filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId));

describe('PartnerOrdersStack', () => {
  it('has one function per function folder of the route table plus the event consumer, Node.js 24 on arm64', () => {
    expect(Object.keys(functions)).toHaveLength(allFunctions.length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
      });
    }
    expect(
      Object.values(functions)
        .map((fn) => fn.Properties.Timeout)
        .sort(),
    ).toEqual([29, 29, 60]);
  });

  it('gives each function the secret ARN, never a value', () => {
    for (const fn of Object.values(functions)) {
      const env = fn.Properties.Environment.Variables;
      expect(env.PARTNER_CENTER_SECRET_ID).toEqual({ Ref: secretId });
      expect(env.IDEMPOTENCY_TABLE_NAME).toEqual({ Ref: tableId });
      expect(env.IDEMPOTENCY_TTL_SECONDS).toBe('86400');
      const expected = ['IDEMPOTENCY_TABLE_NAME', 'IDEMPOTENCY_TTL_SECONDS', 'LOG_LEVEL', 'PARTNER_CENTER_SECRET_ID'];
      if (isEventsFunction(fn)) expected.push('EVENT_BUS_NAME', 'EVENT_CONCURRENCY');
      expect(Object.keys(env).sort()).toEqual(expected.sort());
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

  it('gives each function its own role: its log group, the one secret, the idempotency table, and for the consumer the bus and queue', () => {
    const roleIds = new Set(Object.values(functions).map((fn) => fn.Properties.Role['Fn::GetAtt'][0] as string));
    expect(roleIds.size).toBe(allFunctions.length);
    for (const fn of Object.values(functions)) {
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
        {
          Effect: 'Allow',
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: { Ref: secretId },
        },
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        },
      ];
      if (isEventsFunction(fn)) {
        expected.push(
          {
            Effect: 'Allow',
            Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']),
            Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Commands/), 'Arn'] },
          },
          { Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } },
        );
      }
      expect(statements).toEqual(expect.arrayContaining(expected as never[]));
      expect(statements).toHaveLength(expected.length);
      // Nothing can write the secret or touch another table.
      expect(JSON.stringify(statements)).not.toMatch(/PutSecretValue|dynamodb:\*|"Resource":"\*"/);
    }
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
