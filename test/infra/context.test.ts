// The deploy options as `cdk synth -c key=value` passes them (strings; booleans and numbers from cdk.json), and what
// infra/app.ts makes of them: a typo or an unsafe value fails the synth instead of deploying a default.
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { stackPropsFromContext } from '../../infra/context.js';
import { synth } from '../support/infra.js';

const from = (context: Record<string, unknown>) => stackPropsFromContext((key) => context[key]);

describe('deploy options (CDK context)', () => {
  it('defaults: IAM, app+user, no tracing, and nothing else set (the stack supplies its defaults)', () => {
    expect(from({})).toEqual({
      description: 'partner-orders: Microsoft Partner Center orders and carts',
      authMode: 'app+user',
      authorizer: { type: 'iam' },
      tracing: false,
    });
  });

  it('reads every option', () => {
    const props = from({
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pc-AbCdEf',
      secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      authMode: 'app-only',
      authorizer: 'jwt',
      jwtIssuer: 'https://login.example.com/',
      jwtAudience: 'a,b',
      alarmEmail: 'ops@example.com',
      tracing: true, // a JSON boolean from cdk.json
      keeperSchedule: 'rate(12 hours)',
      keeperReservedConcurrency: '1',
      idempotencyTtlHours: '720',
      idempotencyKeyRequired: 'false',
      preflight: 'best-effort',
      logRetentionDays: 731,
    });
    expect(props).toMatchObject({
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pc-AbCdEf',
      secretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k',
      authMode: 'app-only',
      authorizer: { type: 'jwt', issuer: 'https://login.example.com/', audience: ['a', 'b'] },
      alarmEmail: 'ops@example.com',
      tracing: true,
      keeperSchedule: 'rate(12 hours)',
      keeperReservedConcurrency: 1,
      logRetention: RetentionDays.TWO_YEARS,
      idempotencyKeyRequired: false,
      preflight: 'best-effort',
    });
    expect(props.idempotencyTtl?.toHours()).toBe(720);
  });

  it.each([
    [{ authMode: 'app_only' }, /authMode must be app\+user or app-only/],
    [{ authorizer: 'cognito' }, /authorizer must be iam or jwt/],
    [{ authorizer: 'jwt', jwtIssuer: 'https://i/' }, /needs jwtIssuer and jwtAudience/],
    [{ logRetentionDays: '400000' }, /logRetentionDays must be one of/],
    [{ logRetentionDays: '366' }, /logRetentionDays must be one of/],
    [{ idempotencyTtlHours: 'a day' }, /idempotencyTtlHours must be a positive number/],
    [{ keeperReservedConcurrency: '0' }, /keeperReservedConcurrency must be a positive number/],
    [{ tracing: 'yes' }, /tracing must be true or false/],
    [{ idempotencyKeyRequired: 'no' }, /idempotencyKeyRequired must be true or false/],
    [{ preflight: 'maybe' }, /preflight must be one of on, best-effort, off/],
  ])('refuses %j', (context, message) => {
    expect(() => from(context)).toThrow(message);
  });

  it('refuses an idempotency lifetime shorter than the queue + DLQ retention + 1 day at synth', () => {
    expect(() => synth(from({ idempotencyTtlHours: '48' }))).toThrow(/idempotencyTtl must be at least 696 hours/);
    expect(from({ idempotencyTtlHours: '696' }).idempotencyTtl?.toSeconds()).toBe(Duration.days(29).toSeconds());
  });
});
