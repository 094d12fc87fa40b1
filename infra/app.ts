// `cdk synth` / `cdk deploy`. Options come from context (`-c key=value` or cdk.json), never from lookups, so synth
// runs offline without credentials:
//   secretArn=arn:…            use an existing credentials secret
//   authorizer=jwt jwtIssuer=https://… jwtAudience=a,b   JWT instead of IAM (SigV4)
//   alarmEmail=ops@example.com tracing=true keeperSchedule='rate(12 hours)' idempotencyTtlHours=48
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type AuthorizerChoice, PartnerOrdersStack } from './stack.js';

const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key)?.toString() || undefined;

function authorizer(): AuthorizerChoice {
  if (context('authorizer') !== 'jwt') return { type: 'iam' };
  const issuer = context('jwtIssuer');
  const audience = context('jwtAudience')?.split(',').filter(Boolean) ?? [];
  if (!issuer || audience.length === 0) throw new Error('authorizer=jwt needs jwtIssuer and jwtAudience');
  return { type: 'jwt', issuer, audience };
}

new PartnerOrdersStack(app, context('stackName') ?? 'PartnerOrders', {
  description: 'partner-orders: Microsoft Partner Center orders and carts',
  ...(context('secretArn') ? { secretArn: context('secretArn') } : {}),
  ...(context('alarmEmail') ? { alarmEmail: context('alarmEmail') } : {}),
  authorizer: authorizer(),
  tracing: context('tracing') === 'true',
  ...(context('keeperSchedule') ? { keeperSchedule: context('keeperSchedule') } : {}),
  ...(context('idempotencyTtlHours') ? { idempotencyTtl: Duration.hours(Number(context('idempotencyTtlHours'))) } : {}),
});

// cdk-nag's AWS Solutions rules fail the synth on any finding not acknowledged on its resource.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
