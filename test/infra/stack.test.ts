import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { functionNames, routes } from '../../functions/shared/routes.js';
import { ACKNOWLEDGEMENTS, PartnerOrdersStack } from '../../infra/stack.js';
import { synth } from '../support/infra.js';

const { stack, template } = synth();
const functions = template.findResources('AWS::Lambda::Function');
const roles = template.findResources('AWS::IAM::Role');
const policies = template.findResources('AWS::IAM::Policy');
const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0] as string;

const policyOfRole = (roleId: string) =>
  Object.values(policies).filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId));

describe('PartnerOrdersStack', () => {
  it('has one function per function folder of the route table, Node.js 24 on arm64', () => {
    expect(Object.keys(functions)).toHaveLength(functionNames.length);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 29,
      });
    }
  });

  it('gives each function the secret ARN, never a value', () => {
    for (const fn of Object.values(functions)) {
      const env = fn.Properties.Environment.Variables;
      expect(env.PARTNER_CENTER_SECRET_ID).toEqual({ Ref: secretId });
      expect(Object.keys(env).sort()).toEqual(['LOG_LEVEL', 'PARTNER_CENTER_SECRET_ID']);
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

  it('gives each function its own role that reads exactly the one secret and writes its own log group', () => {
    const roleIds = new Set(Object.values(functions).map((fn) => fn.Properties.Role['Fn::GetAtt'][0] as string));
    expect(roleIds.size).toBe(functionNames.length);
    for (const [id, fn] of Object.entries(functions)) {
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      expect(roles[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
      const statements = policyOfRole(roleId).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const logGroup = fn.Properties.LoggingConfig.LogGroup.Ref;
      expect(statements).toEqual([
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
      ]);
      expect(id).toBeTruthy();
    }
  });

  it('sets log retention on every log group', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(functionNames.length + 1);
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
      [...functionNames.flatMap(() => ['AWS/Lambda:Errors', 'AWS/Lambda:Throttles']), 'AWS/ApiGateway:5xx'].sort(),
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
    expect(found).toEqual(['AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-SMG4']);
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
