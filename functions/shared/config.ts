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
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlSeconds: number;
}

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
    idempotencyTtlSeconds: number(env.IDEMPOTENCY_TTL_SECONDS, 86_400, 'IDEMPOTENCY_TTL_SECONDS'),
  };
}
