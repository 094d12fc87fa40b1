// The Partner Center credentials: where they come from, how long they are reused, and how they are kept out of
// logs. In Lambda they live in Secrets Manager; locally they come from PARTNER_CENTER_CREDENTIALS.
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import type { Config } from './config.js';
import { CredentialsError } from './errors.js';
import { describeIssues } from './validation.js';

const CredentialsShape = z.object({
  tenantId: z.string().check(z.regex(/^[A-Za-z0-9.-]{1,256}$/, { error: 'must be a tenant id or domain' })),
  clientId: z.string().check(z.minLength(1)),
  clientSecret: z.string().check(z.minLength(1)),
  refreshToken: z.optional(z.string()),
});

const SECRET_FIELDS = ['clientSecret', 'refreshToken'] as const;

/** Credentials whose secret fields are hidden from JSON.stringify, util.inspect and string conversion. */
export interface Credentials {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Present for app+user (Secure Application Model); absent for app-only. */
  readonly refreshToken?: string;
  /** Identifies the stored version these came from (Secrets Manager VersionId, or `env`). */
  readonly version: string;
  /** When that version was written: the refresh token's last rotation, for the keeper and the health check. */
  readonly createdAt?: Date;
}

function redacted(credentials: Omit<Credentials, never>): Credentials {
  const visible = {
    tenantId: credentials.tenantId,
    clientId: credentials.clientId,
    version: credentials.version,
    ...(credentials.createdAt ? { createdAt: credentials.createdAt } : {}),
  };
  const hidden = () => ({ ...visible, ...Object.fromEntries(SECRET_FIELDS.map((f) => [f, '[redacted]'])) });
  Object.defineProperties(credentials, {
    toJSON: { value: hidden, enumerable: false },
    [Symbol.for('nodejs.util.inspect.custom')]: { value: hidden, enumerable: false },
    toString: { value: () => '[Credentials]', enumerable: false },
  });
  return Object.freeze(credentials);
}

/** Parses the credentials JSON; the error says which field is wrong, never what it holds. */
export function parseCredentials(json: string, version: string, createdAt?: Date): Credentials {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new CredentialsError('The Partner Center credentials are not valid JSON');
  }
  const result = CredentialsShape.safeParse(value);
  if (!result.success) {
    const fields = describeIssues(result.error.issues, '')
      .map((e) => `${e.path || '(root)'} ${e.message}`)
      .join('; ');
    throw new CredentialsError(`The Partner Center credentials are malformed: ${fields}`);
  }
  const { tenantId, clientId, clientSecret, refreshToken } = result.data;
  return redacted({
    tenantId,
    clientId,
    clientSecret,
    ...(refreshToken ? { refreshToken } : {}),
    version,
    ...(createdAt ? { createdAt } : {}),
  });
}

export interface CredentialsSource {
  /** Cached credentials; `reload` forces a fresh read (after Partner Center or Entra refused the current ones). */
  load(options?: { reload?: boolean }): Promise<Credentials>;
}

/** Credentials from a JSON string (local development): parsed once. */
export function staticCredentials(json: string): CredentialsSource {
  const credentials = parseCredentials(json, 'env');
  return { load: async () => credentials };
}

/**
 * How every Secrets Manager client of this service gives up (the API functions' and the keeper's): a Secrets Manager
 * that accepts the connection and never answers must not hold a request until the Lambda times out, but fail it with
 * a 503 within a few seconds. The SDK's default has no timeout at all, and a `requestTimeout` alone only logs a
 * warning (smithy's node-http-handler): `throwOnRequestTimeout` makes it an error. A read takes tens of ms in-region,
 * so 1 s per attempt (connection included) is ample even on a cold start. Worst case: 3 attempts plus backoff, about
 * 3.1 s; the request's own deadline (TokenProvider.get) cuts it shorter when less time is left. The same kind of
 * bounds as the idempotency store's client (IDEMPOTENCY_CLIENT_CONFIG).
 */
export const SECRETS_MANAGER_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_000, throwOnRequestTimeout: true },
} as const satisfies SecretsManagerClientConfig;

export interface SecretsManagerCredentialsOptions {
  secretId: string;
  ttlMs: number;
  client?: SecretsManagerClient;
  now?: () => number;
}

/**
 * Credentials from Secrets Manager, cached per container for `ttlMs` (Partner Center credentials change rarely;
 * Powertools' 5 s default would call Secrets Manager on most requests). Concurrent callers share one read.
 */
export function secretsManagerCredentials(options: SecretsManagerCredentialsOptions): CredentialsSource {
  const client = options.client ?? new SecretsManagerClient(SECRETS_MANAGER_CLIENT_CONFIG);
  const now = options.now ?? Date.now;
  let cached: { credentials: Credentials; expiresAt: number } | undefined;
  let inFlight: Promise<Credentials> | undefined;

  const read = async (): Promise<Credentials> => {
    let secret: { SecretString?: string; VersionId?: string; CreatedDate?: Date };
    try {
      secret = await client.send(new GetSecretValueCommand({ SecretId: options.secretId }));
    } catch (error) {
      const { name = 'Error', $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      // No answer, 5xx or throttling will pass; a missing secret or a denied read needs a person (502, not 503).
      const status = $metadata?.httpStatusCode;
      const transient = status === undefined || status >= 500 || name === 'ThrottlingException';
      throw new CredentialsError(
        `Could not read the Partner Center credentials secret (${name})`,
        undefined,
        transient,
        error,
      );
    }
    if (!secret.SecretString) throw new CredentialsError('The Partner Center credentials secret has no string value');
    const credentials = parseCredentials(secret.SecretString, secret.VersionId ?? 'unknown', secret.CreatedDate);
    cached = { credentials, expiresAt: now() + options.ttlMs };
    return credentials;
  };

  return {
    load(loadOptions) {
      if (!loadOptions?.reload && cached && cached.expiresAt > now()) return Promise.resolve(cached.credentials);
      inFlight ??= read().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}

/** The credentials source configuration names: Secrets Manager in Lambda, the JSON itself locally. */
export function credentialsFrom(
  config: Pick<Config, 'secretId' | 'credentialsJson' | 'credentialsTtlMs'>,
): CredentialsSource {
  if (config.secretId) return secretsManagerCredentials({ secretId: config.secretId, ttlMs: config.credentialsTtlMs });
  if (config.credentialsJson) {
    const json = config.credentialsJson;
    let source: CredentialsSource | undefined;
    // Parsed on first use so that a malformed value is a 502 problem on a request, not a crash at start-up.
    return {
      load: (options) => {
        source ??= staticCredentials(json);
        return source.load(options);
      },
    };
  }
  const missing = new CredentialsError('No Partner Center credentials configured (PARTNER_CENTER_SECRET_ID)');
  return { load: () => Promise.reject(missing) };
}
