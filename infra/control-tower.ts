// What AWS Control Tower's proactive controls (CloudFormation hooks running the public cfn-guard rules) ask of the
// stack (docs/deploy.md, "Control Tower"). Cheap ones always: `SourceAccount` on every Lambda permission
// (CT.LAMBDA.PR.2), dead-letter queues that name their one source queue (CT.SQS.PR.1), and a key policy that keeps
// grants to AWS services (CT.KMS.PR.3). The others cost the deployer something, so they are deploy options: log groups
// under a given KMS key (`logsKmsKeyArn`, CT.CLOUDWATCH.PR.3) and functions in given subnets (`vpcSubnetIds` +
// `securityGroupIds`, CT.LAMBDA.PR.3). test/infra/control-tower.test.ts runs the rules on the synthesized templates.
import { createHash } from 'node:crypto';
import { Aws, type IAspect, Stack } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { type CfnFunction, CfnPermission } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { CfnQueue, Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';

/** The functions' network, when they must run in the deployer's VPC (CT.LAMBDA.PR.3). */
export interface FunctionNetwork {
  subnetIds: string[];
  securityGroupIds: string[];
}

const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;

/** `logsKmsKeyArn`: a key ARN (an alias would not do: CloudWatch Logs takes the key's ARN). */
export function checkLogsKmsKeyArn(arn: string): string {
  if (!KMS_KEY_ARN.test(arn)) {
    throw new Error(`logsKmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got ${arn}`);
  }
  return arn;
}

/** `vpcSubnetIds` and `securityGroupIds`: both or neither, each a list of ids. */
export function checkFunctionNetwork(subnetIds: string[], securityGroupIds: string[]): FunctionNetwork | undefined {
  if (subnetIds.length === 0 && securityGroupIds.length === 0) return undefined;
  if (subnetIds.length === 0 || securityGroupIds.length === 0) {
    throw new Error('vpcSubnetIds and securityGroupIds go together: the functions need subnets and security groups');
  }
  for (const id of subnetIds) if (!SUBNET.test(id)) throw new Error(`vpcSubnetIds: ${id} is not a subnet id`);
  for (const id of securityGroupIds) {
    if (!SECURITY_GROUP.test(id)) throw new Error(`securityGroupIds: ${id} is not a security group id`);
  }
  if (subnetIds.length > 16) throw new Error('vpcSubnetIds: Lambda takes at most 16 subnets');
  if (securityGroupIds.length > 5) throw new Error('securityGroupIds: Lambda takes at most 5 security groups');
  return { subnetIds: [...new Set(subnetIds)], securityGroupIds: [...new Set(securityGroupIds)] };
}

/**
 * A function in the deployer's subnets. Lambda creates its network interfaces with the function's role, so the role
 * gets the EC2 actions of AWSLambdaVPCAccessExecutionRole (which allow no resource-level scoping for Describe*).
 */
export function placeInNetwork(fn: NodejsFunction, role: Role, network: FunctionNetwork): PolicyStatement {
  const statement = new PolicyStatement({
    actions: [
      'ec2:CreateNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses',
      'ec2:UnassignPrivateIpAddresses',
    ],
    resources: ['*'],
  });
  role.addToPolicy(statement);
  const cfn = fn.node.defaultChild as CfnFunction;
  cfn.vpcConfig = { subnetIds: network.subnetIds, securityGroupIds: network.securityGroupIds };
  // The interfaces are created when the function is: the role must already carry the EC2 actions.
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy) cfn.node.addDependency(policy);
  return statement;
}

/**
 * A queue's name fixed at synth, `<stack>-<suffix>` (shortened with a hash past SQS's 80 characters), so that its
 * dead-letter queue can name it in RedriveAllowPolicy without a reference (which would be a cycle: the queue's
 * RedrivePolicy names the DLQ).
 */
export function sourceQueueName(stack: Stack, suffix: string): string {
  const name = `${stack.stackName}-${suffix}`;
  if (name.length <= 80) return name;
  const hash = createHash('sha256').update(stack.stackName).digest('hex').slice(0, 8);
  return `${stack.stackName.slice(0, 80 - suffix.length - hash.length - 2)}-${hash}-${suffix}`;
}

/** A dead-letter queue that only its source queue may use (CT.SQS.PR.1: `byQueue`, not open to every queue). */
export function onlyDeadLetterQueueOf(deadLetters: Queue, sourceName: string): void {
  const stack = Stack.of(deadLetters);
  (deadLetters.node.defaultChild as CfnQueue).redriveAllowPolicy = {
    redrivePermission: 'byQueue',
    sourceQueueArns: [stack.formatArn({ service: 'sqs', resource: sourceName })],
  };
}

/**
 * The alarm topic's key may be granted only to AWS services acting for an AWS resource (CT.KMS.PR.3): nobody
 * creates a grant that outlives a key-policy change. CloudWatch and SNS use the key directly, not by grant.
 */
export function grantsOnlyForAwsResources(key: Key): void {
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'GrantsOnlyForAwsResources',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}

/**
 * Every Lambda permission for a service (API Gateway, EventBridge) also names the account (CT.LAMBDA.PR.2): an ARN
 * condition alone is a `Fn::Join` the hook cannot read, and the account keeps the confused deputy out either way.
 */
export class SourceAccountOnPermissions implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof CfnPermission)) return;
    const principal = Stack.of(node).resolve(node.principal);
    if (typeof principal === 'string' && principal.endsWith('.amazonaws.com') && node.sourceAccount === undefined) {
      node.sourceAccount = Aws.ACCOUNT_ID;
    }
  }
}
