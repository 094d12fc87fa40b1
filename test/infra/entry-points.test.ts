// The entry points in the stack (docs/authorization.md, "Entry points"): direct invocation has its own function with
// the purchase functions' access and no more; the API functions know how callers are identified (and in JWT mode
// what to verify tokens against); the consumer knows its queue and alarms on records that are not from it; and the
// stack outputs the guard that keeps everyone but API Gateway from invoking an API function.
import { describe, expect, it } from 'vitest';
import { functionNames } from '../../functions/shared/routes.js';
import { invokeGuard } from '../../infra/authorization.js';
import { EVENTS_FUNCTION, INVOKE_FUNCTION } from '../../infra/stack.js';
import { synth } from '../support/infra.js';

const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
const { template } = synth();
const functions = template.findResources('AWS::Lambda::Function');
const functionId = (name: string) =>
  Object.keys(functions).find((id) => new RegExp(`^${pascal(name)}[0-9A-F]{8}$`).test(id)) as string;

describe('entry points, deployed', () => {
  it('deploys invoke-purchase: no route, no retries of async invocations, the purchase policy, its own role', () => {
    const id = functionId(INVOKE_FUNCTION);
    expect(id).toBeDefined();
    const fn = functions[id] as (typeof functions)[string];
    expect(fn.Properties.Description).toMatch(/direct invocation/);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 0,
    });
    expect(fn.Properties.Environment.Variables.POLICY_STORE_ID).toBeDefined();
    expect(fn.Properties.Environment.Variables.AUTHORIZER).toBeUndefined();
    // No API Gateway permission: nothing but its invokers (whoever is granted InvokeFunction on it) calls it.
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p.Properties.FunctionName).includes(id),
    );
    expect(permissions).toEqual([]);
    // Its role is its own, with the purchase functions' table actions.
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    const others = Object.entries(functions).filter(([other]) => other !== id);
    expect(others.every(([, f]) => f.Properties.Role['Fn::GetAtt'][0] !== role)).toBe(true);
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
      p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role),
    );
    const actions = policy?.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'verifiedpermissions:IsAuthorized']));
    expect(actions).not.toContain('sqs:ReceiveMessage');
    expect(actions).not.toContain('events:PutEvents');
  });

  it('outputs the invoke function and a guard denying InvokeFunction on every API function (and its versions)', () => {
    const outputs = template.findOutputs('*');
    expect(outputs.InvokePurchaseFunctionName?.Value).toEqual({ Ref: functionId(INVOKE_FUNCTION) });
    expect(outputs.InvokePurchaseFunctionArn?.Value).toEqual({ 'Fn::GetAtt': [functionId(INVOKE_FUNCTION), 'Arn'] });
    // The output is a JSON policy document (tokens joined in): render it with the ARNs standing for their tokens.
    const rendered = JSON.stringify(outputs.InvokeGuard?.Value);
    for (const name of functionNames) expect(rendered).toContain(functionId(name));
    for (const name of [INVOKE_FUNCTION, EVENTS_FUNCTION]) expect(rendered).not.toContain(functionId(name));

    const guard = invokeGuard(['arn:aws:lambda:eu-west-1:111122223333:function:CreateOrder']);
    expect(guard).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'PartnerOrdersApiFunctionsOnlyThroughApiGateway',
          Effect: 'Deny',
          Action: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl', 'lambda:InvokeAsync'],
          Resource: [
            'arn:aws:lambda:eu-west-1:111122223333:function:CreateOrder',
            'arn:aws:lambda:eu-west-1:111122223333:function:CreateOrder:*',
          ],
        },
      ],
    });
    // No principal (an SCP or a boundary has none) and no condition that API Gateway's own call would need to meet.
    expect(JSON.stringify(guard)).not.toMatch(/Principal|Condition/);
  });

  it('lets API Gateway invoke each API function only from this API (SourceArn on every permission)', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(permission.Properties.Action).toBe('lambda:InvokeFunction');
      expect(JSON.stringify(permission.Properties.SourceArn)).toMatch(/execute-api/);
    }
  });

  it('tells the API functions how callers are identified: IAM by default, in JWT mode what to verify tokens against', () => {
    for (const name of functionNames) {
      expect(functions[functionId(name)]?.Properties.Environment.Variables.AUTHORIZER, name).toBe('iam');
    }
    const jwt = synth({
      authorizer: {
        type: 'jwt',
        issuer: 'https://login.example.com/tenant/v2.0',
        audience: ['api://partner-orders', 'other'],
        jwksUri: 'https://login.example.com/tenant/discovery/v2.0/keys',
      },
      jwtScopes: { purchase: 'Orders.Buy', read: 'Orders.Read' },
    }).template;
    const jwtFunctions = jwt.findResources('AWS::Lambda::Function');
    for (const name of functionNames) {
      const id = Object.keys(jwtFunctions).find((f) => new RegExp(`^${pascal(name)}[0-9A-F]{8}$`).test(f)) as string;
      expect(jwtFunctions[id]?.Properties.Environment.Variables, name).toMatchObject({
        AUTHORIZER: 'jwt',
        JWT_ISSUER: 'https://login.example.com/tenant/v2.0',
        JWT_AUDIENCE: 'api://partner-orders,other',
        JWT_JWKS_URI: 'https://login.example.com/tenant/discovery/v2.0/keys',
        JWT_PURCHASE_SCOPE: 'Orders.Buy',
        JWT_READ_SCOPE: 'Orders.Read',
      });
    }
  });

  it('alarms on records the consumer refused as not from the command queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'partner-orders',
      MetricName: 'CommandsNotFromQueue',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    // Counted from the consumer's own log lines (functions/shared/events.ts REFUSED).
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: {
        Ref: Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.startsWith('OrderEventsLogs')),
      },
      FilterPattern: '{ $.provenance = "refused" }',
      MetricTransformations: [
        { MetricNamespace: 'partner-orders', MetricName: 'CommandsNotFromQueue', MetricValue: '1' },
      ],
    });
  });

  it('lets nobody but the consumer receive from the command queue (a real receipt handle cannot be paired with a forged body)', () => {
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) =>
      /^Commands[0-9A-F]{8}$/.test(id),
    );
    const statements = Object.values(template.findResources('AWS::SQS::QueuePolicy'))
      .filter((p) => p.Properties.Queues.some((q: { Ref: string }) => q.Ref === queueId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const deny = statements.find((s: { Sid?: string }) => s.Sid === 'OnlyTheConsumerReceives');
    const consumerRole = functions[functionId(EVENTS_FUNCTION)]?.Properties.Role['Fn::GetAtt'][0];
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sqs:ReceiveMessage',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [consumerRole, 'Arn'] } } },
    });
  });
});
