// AWS Control Tower's proactive controls on the stack (docs/deploy.md, "Control Tower"): the landing zone's hooks
// run the public cfn-guard rules on every resource; here cfn-guard runs them on the synthesized templates. With every
// deploy option on, nothing fails; by default, only the documented exceptions (options the deployer must choose).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTEXT_OPTIONS, stackPropsFromContext } from '../../infra/context.js';
import { sourceQueueName } from '../../infra/control-tower.js';
import { runControlTowerRules } from '../support/control-tower.js';
import { synth } from '../support/infra.js';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON
type Json = any;

/** The default template's exceptions: each needs something only the deployer has (docs/deploy.md lists them). */
const DEFAULT_EXCEPTIONS = {
  'CT.CLOUDWATCH.PR.3': 'log groups under a customer-managed KMS key: logsKmsKeyArn',
  'CT.LAMBDA.PR.3': 'functions in a VPC: vpcSubnetIds and securityGroupIds',
};

/** Every deploy option at once (infra/context.ts), as `cdk deploy -c …` would give them. */
const EVERY_OPTION: Record<(typeof CONTEXT_OPTIONS)[number], string> = {
  stackName: 'PartnerOrders',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partner-center-AbCdEf',
  secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  authMode: 'app-only',
  authorizer: 'jwt',
  jwtIssuer: 'https://login.example.com/',
  jwtAudience: 'partner-orders',
  jwtJwksUri: 'https://login.example.com/.well-known/jwks.json',
  refundWarningHours: '24',
  duplicateWindowHours: '12',
  jwtPurchaseScope: 'orders/purchase',
  jwtReadScope: 'orders/read',
  eventProducers: 'com.example.billing=arn:aws:iam::111122223333:role/Billing',
  alarmEmail: 'ops@example.com',
  tracing: 'true',
  keeperSchedule: 'rate(12 hours)',
  keeperReservedConcurrency: '1',
  idempotencyTtlHours: '960',
  idempotencyKeyRequired: 'false',
  mcpWrites: 'true',
  preflight: 'best-effort',
  logRetentionDays: '731',
  provisioningTrackingHours: '72',
  pollBudgetPerMinute: '60',
  reconcilerSchedule: 'rate(15 minutes)',
  reconcileAfterMinutes: '45',
  partnerCenterRequestsPerMinute: '400',
  eventMaxConcurrency: '5',
  eventIdAsKey: 'true',
  logsKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f',
  vpcSubnetIds: 'subnet-0a1b2c3d4e5f60718,subnet-0f1e2d3c4b5a69788',
  securityGroupIds: 'sg-0123456789abcdef0',
};

const defaults = synth();
const everything = synth(stackPropsFromContext((key) => EVERY_OPTION[key as keyof typeof EVERY_OPTION]));
const findings = runControlTowerRules({
  default: defaults.template.toJSON(),
  'every-option': everything.template.toJSON(),
});

describe('Control Tower proactive controls (cfn-guard)', () => {
  it('every deploy option is on in the all-options template', () => {
    expect(Object.keys(EVERY_OPTION).sort()).toEqual([...CONTEXT_OPTIONS].sort());
  });

  it('with every option on, no control fails', () => {
    expect(findings['every-option']).toEqual([]);
  });

  it('by default, only the documented exceptions fail, and each on what the option would fix', () => {
    const failed = findings.default ?? [];
    expect(failed.map((f) => f.control)).toEqual(Object.keys(DEFAULT_EXCEPTIONS).sort());
    const types = (f: (typeof failed)[number]) =>
      [...new Set(f.resources.map((id) => defaults.template.toJSON().Resources[id]?.Type))].sort();
    expect(types(failed.find((f) => f.control === 'CT.CLOUDWATCH.PR.3') as (typeof failed)[number])).toEqual([
      'AWS::Logs::LogGroup',
    ]);
    expect(types(failed.find((f) => f.control === 'CT.LAMBDA.PR.3') as (typeof failed)[number])).toEqual([
      'AWS::Lambda::Function',
    ]);
  });

  it('docs/deploy.md lists each exception with its option', () => {
    const deploy = readFileSync(new URL('../../docs/deploy.md', import.meta.url), 'utf8');
    const section = deploy.slice(deploy.indexOf('## Control Tower'));
    for (const [control, why] of Object.entries(DEFAULT_EXCEPTIONS)) {
      expect(section, control).toContain(control);
      for (const option of why.split(': ')[1]?.split(' and ') ?? []) expect(section, control).toContain(option);
    }
  });
});

describe('the cheap fixes, by default', () => {
  const resources = Object.entries(
    defaults.template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
  );

  it('every Lambda permission for a service names the account (CT.LAMBDA.PR.2)', () => {
    const permissions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Permission');
    expect(permissions.length).toBeGreaterThan(0);
    for (const [id, permission] of permissions) {
      expect(permission.Properties.SourceAccount, id).toEqual({ Ref: 'AWS::AccountId' });
    }
  });

  it('each dead-letter queue takes messages from its own source queue only (CT.SQS.PR.1)', () => {
    const queues = resources.filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    const sources = queues.filter(([, q]) => q.Properties.RedrivePolicy);
    expect(sources.map(([, q]) => q.Properties.QueueName).sort()).toEqual(
      [sourceQueueName(defaults.stack, 'commands'), sourceQueueName(defaults.stack, 'provisioning-tracking')].sort(),
    );
    for (const [, source] of sources) {
      const dlq = (source.Properties.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': [string] } })
        .deadLetterTargetArn['Fn::GetAtt'][0];
      const allow = defaults.template.toJSON().Resources[dlq].Properties.RedriveAllowPolicy;
      expect(allow.redrivePermission).toBe('byQueue');
      expect(JSON.stringify(allow.sourceQueueArns)).toContain(`:${source.Properties.QueueName}"`);
      expect(allow.sourceQueueArns).toHaveLength(1);
    }
  });

  it('a long stack name still gives SQS names of at most 80 characters, distinct per stack', () => {
    const long = { stackName: 'A'.repeat(120) } as never;
    const name = sourceQueueName(long, 'provisioning-tracking');
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/-provisioning-tracking$/);
    expect(sourceQueueName({ stackName: `${'A'.repeat(119)}B` } as never, 'provisioning-tracking')).not.toBe(name);
  });
});

describe('the Control Tower deploy options', () => {
  const from = (context: Record<string, string>) => stackPropsFromContext((key) => context[key]);
  const resources = everything.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;

  it('puts every log group under the given key and every function in the given network', () => {
    const groups = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) expect(group.Properties.KmsKeyId).toBe(EVERY_OPTION.logsKmsKeyArn);
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    for (const [id, fn] of functions) {
      expect(fn.Properties.VpcConfig, id).toEqual({
        SubnetIds: EVERY_OPTION.vpcSubnetIds.split(','),
        SecurityGroupIds: [EVERY_OPTION.securityGroupIds],
      });
    }
    // The role may create the function's network interfaces before the function is created.
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy');
    const withEni = policies.filter((p) => JSON.stringify(p.Properties).includes('ec2:CreateNetworkInterface'));
    expect(withEni).toHaveLength(functions.length);
    for (const [id] of functions) {
      const dependsOn = (everything.template.toJSON().Resources[id].DependsOn ?? []) as string[];
      expect(
        dependsOn.some((d) => d.includes('RoleDefaultPolicy')),
        id,
      ).toBe(true);
    }
  });

  it('refuses what it cannot use, at synth', () => {
    expect(() => from({ vpcSubnetIds: 'subnet-0a1b2c3d4e5f60718' })).toThrow(/go together/);
    expect(() => from({ securityGroupIds: 'sg-0123456789abcdef0' })).toThrow(/go together/);
    expect(() => from({ vpcSubnetIds: 'vpc-0a1b2c3d', securityGroupIds: 'sg-0123456789abcdef0' })).toThrow(
      /not a subnet id/,
    );
    expect(() => from({ vpcSubnetIds: 'subnet-0a1b2c3d4e5f60718', securityGroupIds: 'default' })).toThrow(
      /not a security group id/,
    );
    expect(() => from({ logsKmsKeyArn: 'alias/logs' })).toThrow(/logsKmsKeyArn must be a KMS key ARN/);
    expect(
      from({ vpcSubnetIds: ' subnet-0a1b2c3d4e5f60718 , ', securityGroupIds: 'sg-0123456789abcdef0' }),
    ).toMatchObject({
      functionNetwork: { subnetIds: ['subnet-0a1b2c3d4e5f60718'], securityGroupIds: ['sg-0123456789abcdef0'] },
    });
  });
});
