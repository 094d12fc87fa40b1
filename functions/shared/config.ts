// Runtime configuration, read once from the environment. Secrets are never configuration: only the id of the
// secret (Lambda) or, locally, the credentials JSON in PARTNER_CENTER_CREDENTIALS.

/** PREFLIGHT (catalog/preflight.ts): check catalog lines and fail closed, check and buy unchecked when unreadable, or not. */
export const PREFLIGHT_MODES = ['on', 'best-effort', 'off'] as const;
export type PreflightMode = (typeof PREFLIGHT_MODES)[number];

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
  /**
   * The Amazon Verified Permissions policy store that decides every purchase (POLICY_STORE_ID, set by the stack).
   * Without it a function refuses every purchase (503 policy-unavailable); the local server evaluates policies/ itself.
   */
  policyStoreId?: string;
  /** Purchases without an idempotency key are refused (400), unless the deployment turned this off. */
  requireIdempotencyKey: boolean;
  /**
   * An event without `detail.idempotencyKey` is keyed by its event id instead of refused (EVENT_ID_AS_IDEMPOTENCY_KEY,
   * deploy option `eventIdAsKey`). Off by default: a producer's SDK retry of PutEvents gets a new event id.
   */
  eventIdAsKey: boolean;
  /** First pause between two checkouts of a purchase's cart within one request (later ones triple). */
  purchaseRetryDelayMs: number;
  /**
   * The catalog pre-flight (PREFLIGHT): `on` checks every catalog line before buying and fails closed when the catalog
   * cannot be read; `best-effort` then buys unchecked; `off` reads and checks nothing.
   */
  preflight: PreflightMode;
  /** How long a catalog answer (a SKU, its availabilities, a product list) is reused (CATALOG_CACHE_SECONDS). */
  catalogCacheMs: number;
  /** The most the catalog reads of one purchase may take (PREFLIGHT_TIMEOUT_MS), within the request's deadline. */
  preflightTimeoutMs: number;
}

const flag = (value: string | undefined, fallback: boolean, name: string): boolean => {
  if (value === undefined || value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${name} must be true or false`);
};

const oneOf = <const T extends readonly string[]>(
  value: string | undefined,
  values: T,
  fallback: T[number],
  name: string,
) => {
  if (value === undefined || value === '') return fallback;
  if (!values.includes(value)) throw new Error(`${name} must be one of ${values.join(', ')}`);
  return value as T[number];
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
    policyStoreId: env.POLICY_STORE_ID || undefined,
    requireIdempotencyKey: flag(env.IDEMPOTENCY_KEY_REQUIRED, true, 'IDEMPOTENCY_KEY_REQUIRED'),
    eventIdAsKey: flag(env.EVENT_ID_AS_IDEMPOTENCY_KEY, false, 'EVENT_ID_AS_IDEMPOTENCY_KEY'),
    purchaseRetryDelayMs: number(env.PURCHASE_RETRY_DELAY_MS, 250, 'PURCHASE_RETRY_DELAY_MS'),
    idempotencyTtlSeconds: number(env.IDEMPOTENCY_TTL_SECONDS, 29 * 86_400, 'IDEMPOTENCY_TTL_SECONDS'),
    preflight: oneOf(env.PREFLIGHT, PREFLIGHT_MODES, 'on', 'PREFLIGHT'),
    // Five minutes: Partner Center advises relying on an availability id "only within a short time span".
    catalogCacheMs: number(env.CATALOG_CACHE_SECONDS, 300, 'CATALOG_CACHE_SECONDS') * 1000,
    preflightTimeoutMs: number(env.PREFLIGHT_TIMEOUT_MS, 5_000, 'PREFLIGHT_TIMEOUT_MS'),
  };
}
