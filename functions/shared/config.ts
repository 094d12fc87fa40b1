// Runtime configuration, read once from the environment. Secrets are never configuration: only the id of the
// secret (Lambda) or, locally, the credentials JSON in PARTNER_CENTER_CREDENTIALS.

export interface Config {
  /** Partner Center REST API base URL (without `/v1`). */
  partnerCenterUrl: string;
  /** Entra ID authority; the token endpoint is `{authority}/{tenantId}/oauth2/token`. */
  authorityUrl: string;
  /** Secrets Manager secret id or ARN holding the credentials JSON (Lambda). */
  secretId?: string;
  /** The credentials JSON itself (local development and tests only). */
  credentialsJson?: string;
  /** How long credentials read from Secrets Manager are reused before being read again. */
  credentialsTtlMs: number;
  /** Upper bound for one attempt of one upstream call. */
  attemptTimeoutMs: number;
  /** Time kept back from the Lambda's remaining time so that we answer before the platform kills us. */
  deadlineMarginMs: number;
  /** Upper bound for a whole request when there is no Lambda deadline (API Gateway gives up at 30 s). */
  maxRequestMs: number;
  /** Sent as `MS-PartnerCenter-Application`. */
  applicationName: string;
  /** DynamoDB table of idempotency records; without it, requests with an Idempotency-Key are refused (503). */
  idempotencyTableName?: string;
  /**
   * How long an Idempotency-Key is remembered: 29 days by default, the command queue's 14 days of retention + the
   * DLQ's 14 + 1, so a redriven command is a replay (the stack derives and sets it: MIN_IDEMPOTENCY_TTL).
   */
  idempotencyTtlSeconds: number;
  /** Purchases without an idempotency key are refused (400), unless the deployment turned this off. */
  requireIdempotencyKey: boolean;
  /** How long an attempt that got no answer may still be running at Partner Center: it is not re-sent before. */
  reconcileSettleMs: number;
  /** How far Partner Center's clock may be behind ours when its orders are compared with our first send. */
  clockSkewMs: number;
  /** First pause between two attempts of a purchase within one request (later ones triple). */
  purchaseRetryDelayMs: number;
}

const flag = (value: string | undefined, fallback: boolean, name: string): boolean => {
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${name} must be true or false`);
};

const number = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative number`);
  return parsed;
};

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    partnerCenterUrl: (env.PARTNER_CENTER_URL || 'https://api.partnercenter.microsoft.com').replace(/\/+$/, ''),
    authorityUrl: (env.PARTNER_CENTER_AUTHORITY_URL || 'https://login.microsoftonline.com').replace(/\/+$/, ''),
    secretId: env.PARTNER_CENTER_SECRET_ID || undefined,
    credentialsJson: env.PARTNER_CENTER_CREDENTIALS || undefined,
    credentialsTtlMs: number(env.CREDENTIALS_TTL_SECONDS, 300, 'CREDENTIALS_TTL_SECONDS') * 1000,
    attemptTimeoutMs: number(env.UPSTREAM_ATTEMPT_TIMEOUT_MS, 20_000, 'UPSTREAM_ATTEMPT_TIMEOUT_MS'),
    deadlineMarginMs: number(env.DEADLINE_MARGIN_MS, 1_000, 'DEADLINE_MARGIN_MS'),
    maxRequestMs: number(env.MAX_REQUEST_MS, 29_000, 'MAX_REQUEST_MS'),
    applicationName: env.PARTNER_CENTER_APPLICATION || 'partner-orders',
    idempotencyTableName: env.IDEMPOTENCY_TABLE_NAME || undefined,
    requireIdempotencyKey: flag(env.IDEMPOTENCY_KEY_REQUIRED, true, 'IDEMPOTENCY_KEY_REQUIRED'),
    reconcileSettleMs: number(env.RECONCILE_SETTLE_SECONDS, 120, 'RECONCILE_SETTLE_SECONDS') * 1000,
    clockSkewMs: number(env.CLOCK_SKEW_SECONDS, 60, 'CLOCK_SKEW_SECONDS') * 1000,
    purchaseRetryDelayMs: number(env.PURCHASE_RETRY_DELAY_MS, 250, 'PURCHASE_RETRY_DELAY_MS'),
    idempotencyTtlSeconds: number(env.IDEMPOTENCY_TTL_SECONDS, 29 * 86_400, 'IDEMPOTENCY_TTL_SECONDS'),
  };
}
