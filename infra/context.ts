// Deploy options from CDK context (`-c key=value`, or `context` in cdk.json), never from lookups, so `cdk synth` runs
// offline without credentials. Each option is checked here, so a typo fails the synth instead of deploying a default.
//   secretArn=arn:…             use an existing credentials secret
//   secretKmsKeyArn=arn:…       the customer-managed KMS key that secret is encrypted with
//   authMode=app-only           the credentials have no refresh token (default app+user)
//   authorizer=jwt jwtIssuer=https://… jwtAudience=a,b   JWT instead of IAM (SigV4)
//   jwtJwksUri=https://…        the issuer's JWKS, for the functions' own token check (default: OpenID discovery)
//   alarmEmail=ops@example.com tracing=true keeperSchedule='rate(12 hours)' keeperReservedConcurrency=1
//   idempotencyTtlHours=720 (at least 696: 29 days)   logRetentionDays=731 (one of CloudWatch's values; 365 default)
//   idempotencyKeyRequired=false   purchases without an idempotency key are accepted (refused by default)
//   eventIdAsKey=true           an event without detail.idempotencyKey is keyed by its event id (refused by default)
//   mcpWrites=true              the MCP route (POST /mcp) lists its tools that buy and change (read-only by default)
//   preflight=best-effort|off   the catalog pre-flight (default on: fail closed when the catalog cannot be read)
//   duplicateWindowHours=24     the possible-duplicate guard's window (0 turns it off; docs/idempotency.md)
//   jwtPurchaseScope=… jwtReadScope=…   the JWT scopes of the purchase and read routes (authorizer=jwt)
//   eventProducers=com.example.billing=arn:aws:iam::111122223333:role/Billing,…   who may put commands, with which source
//   provisioningTrackingHours=48 pollBudgetPerMinute=50 reconcilerSchedule='rate(30 minutes)' reconcileAfterMinutes=30
//                               after the purchase (docs/after-purchase.md; checked in infra/after-purchase.ts)
//   refundWarningHours=24       RefundWindowClosing that long before a subscription's refund window closes (off)
//   partnerCenterRequestsPerMinute=300 eventMaxConcurrency=10   the event path's concurrency: derived from the
//                               tenant's Partner Center limit (500 default), or set (docs/events.md, "Sizing for bulk")
//   logsKmsKeyArn=arn:aws:kms:…   every log group under this key   vpcSubnetIds=subnet-…,… securityGroupIds=sg-…,…
//                               the functions in these subnets (docs/deploy.md, "Control Tower")
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { PREFLIGHT_MODES, type PreflightMode } from '../functions/shared/config.js';
import { DEFAULT_JWT_SCOPES, parseEventProducers } from './authorization.js';
import { checkFunctionNetwork, checkLogsKmsKeyArn } from './control-tower.js';
import type { AuthMode, AuthorizerChoice, PartnerOrdersStackProps } from './stack.js';

/** Every option infra/app.ts reads (docs/deploy.md lists them). */
export const CONTEXT_OPTIONS = [
  'stackName',
  'secretArn',
  'secretKmsKeyArn',
  'authMode',
  'authorizer',
  'jwtIssuer',
  'jwtAudience',
  'jwtJwksUri',
  'jwtPurchaseScope',
  'jwtReadScope',
  'eventProducers',
  'alarmEmail',
  'tracing',
  'keeperSchedule',
  'keeperReservedConcurrency',
  'idempotencyTtlHours',
  'idempotencyKeyRequired',
  'eventIdAsKey',
  'mcpWrites',
  'preflight',
  'duplicateWindowHours',
  'logRetentionDays',
  'provisioningTrackingHours',
  'pollBudgetPerMinute',
  'reconcilerSchedule',
  'reconcileAfterMinutes',
  'refundWarningHours',
  'partnerCenterRequestsPerMinute',
  'eventMaxConcurrency',
  'logsKmsKeyArn',
  'vpcSubnetIds',
  'securityGroupIds',
] as const;

const RETENTION_VALUES = new Set(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

export function stackPropsFromContext(tryGetContext: (key: string) => unknown): PartnerOrdersStackProps {
  const context = (key: string): string | undefined => {
    const value = tryGetContext(key);
    return value === undefined || value === null || value === '' ? undefined : String(value);
  };
  const positive = (key: string): number | undefined => {
    const value = context(key);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${key} must be a positive number, got ${value}`);
    return parsed;
  };

  const authorizer = (): AuthorizerChoice => {
    const choice = context('authorizer') ?? 'iam';
    if (choice === 'iam') return { type: 'iam' };
    if (choice !== 'jwt') throw new Error(`authorizer must be iam or jwt, got ${choice}`);
    const issuer = context('jwtIssuer');
    const audience = context('jwtAudience')?.split(',').filter(Boolean) ?? [];
    if (!issuer || audience.length === 0) throw new Error('authorizer=jwt needs jwtIssuer and jwtAudience');
    const jwksUri = context('jwtJwksUri');
    if (jwksUri !== undefined && !/^https:\/\/[^\s]+$/.test(jwksUri)) {
      throw new Error(`jwtJwksUri must be an https URL, got ${jwksUri}`);
    }
    return { type: 'jwt', issuer, audience, ...(jwksUri ? { jwksUri } : {}) };
  };
  const authMode = (context('authMode') ?? 'app+user') as AuthMode;
  if (authMode !== 'app+user' && authMode !== 'app-only') {
    throw new Error(`authMode must be app+user or app-only, got ${authMode}`);
  }
  const retentionDays = positive('logRetentionDays');
  if (retentionDays !== undefined && !RETENTION_VALUES.has(retentionDays)) {
    throw new Error(`logRetentionDays must be one of ${[...RETENTION_VALUES].join(', ')} (9999: never expire)`);
  }
  const flag = (key: string): boolean | undefined => {
    const value = context(key);
    if (value !== undefined && value !== 'true' && value !== 'false') {
      throw new Error(`${key} must be true or false, got ${value}`);
    }
    return value === undefined ? undefined : value === 'true';
  };
  const chosen = authorizer();
  const scopes = { purchase: context('jwtPurchaseScope'), read: context('jwtReadScope') };
  if (chosen.type !== 'jwt' && (scopes.purchase || scopes.read || context('jwtJwksUri'))) {
    throw new Error('jwtPurchaseScope, jwtReadScope and jwtJwksUri are for authorizer=jwt (IAM has no scopes)');
  }
  for (const scope of Object.values(scopes)) {
    if (scope !== undefined && !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
      throw new Error(`a JWT scope is one word of printable characters, got ${JSON.stringify(scope)}`);
    }
  }
  const producers = context('eventProducers');
  const tracing = flag('tracing');
  const keyRequired = flag('idempotencyKeyRequired');
  const eventIdAsKey = flag('eventIdAsKey');
  const mcpWrites = flag('mcpWrites');
  const preflight = context('preflight');
  if (preflight !== undefined && !(PREFLIGHT_MODES as readonly string[]).includes(preflight)) {
    throw new Error(`preflight must be one of ${PREFLIGHT_MODES.join(', ')}, got ${preflight}`);
  }
  const windowText = context('duplicateWindowHours');
  const duplicateWindowHours = windowText === undefined ? undefined : Number(windowText);
  if (duplicateWindowHours !== undefined && !(Number.isFinite(duplicateWindowHours) && duplicateWindowHours >= 0)) {
    throw new Error(`duplicateWindowHours must be a number of hours, 0 or more, got ${windowText}`);
  }
  const ttlHours = positive('idempotencyTtlHours');
  const reserved = positive('keeperReservedConcurrency');
  const afterPurchase = Object.fromEntries(
    Object.entries({
      trackingHours: positive('provisioningTrackingHours'),
      pollBudgetPerMinute: positive('pollBudgetPerMinute'),
      reconcilerSchedule: context('reconcilerSchedule'),
      reconcileAfterMinutes: positive('reconcileAfterMinutes'),
      refundWarningHours: positive('refundWarningHours'),
    }).filter(([, value]) => value !== undefined),
  ) as NonNullable<PartnerOrdersStackProps['afterPurchase']>;

  const ids = (key: string) =>
    (context(key) ?? '')
      .split(',')
      .map((id) => id.trim())
      .filter(Boolean);
  const network = checkFunctionNetwork(ids('vpcSubnetIds'), ids('securityGroupIds'));
  const logsKey = context('logsKmsKeyArn');

  const optional = <K extends keyof PartnerOrdersStackProps>(key: K, value: PartnerOrdersStackProps[K] | undefined) =>
    value === undefined ? {} : { [key]: value };
  return {
    description: 'partner-orders: Microsoft Partner Center orders and carts',
    ...optional('secretArn', context('secretArn')),
    ...optional('secretKmsKeyArn', context('secretKmsKeyArn')),
    authMode,
    authorizer: chosen,
    ...(chosen.type === 'jwt'
      ? {
          jwtScopes: {
            purchase: scopes.purchase ?? DEFAULT_JWT_SCOPES.purchase,
            read: scopes.read ?? DEFAULT_JWT_SCOPES.read,
          },
        }
      : {}),
    ...optional('eventProducers', producers === undefined ? undefined : parseEventProducers(producers)),
    ...optional('alarmEmail', context('alarmEmail')),
    tracing: tracing === true,
    ...optional('keeperSchedule', context('keeperSchedule')),
    ...optional('keeperReservedConcurrency', reserved),
    ...optional('idempotencyTtl', ttlHours === undefined ? undefined : Duration.hours(ttlHours)),
    ...optional('idempotencyKeyRequired', keyRequired),
    ...optional('eventIdAsKey', eventIdAsKey),
    ...optional('mcpWrites', mcpWrites),
    ...optional('preflight', preflight as PreflightMode | undefined),
    ...optional('duplicateWindowHours', duplicateWindowHours),
    ...optional('logRetention', retentionDays as RetentionDays | undefined),
    ...(Object.keys(afterPurchase).length > 0 ? { afterPurchase } : {}),
    ...optional('partnerCenterRequestsPerMinute', positive('partnerCenterRequestsPerMinute')),
    ...optional('eventMaxConcurrency', positive('eventMaxConcurrency')),
    ...optional('logsKmsKeyArn', logsKey === undefined ? undefined : checkLogsKmsKeyArn(logsKey)),
    ...optional('functionNetwork', network),
  };
}
