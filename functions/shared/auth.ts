// Entra ID access tokens for Partner Center. App+user (Secure Application Model) when the credentials hold a
// refresh token, app-only otherwise. One cached token per container, one refresh in flight at a time.
import type { Credentials, CredentialsSource } from './credentials.js';
import { CredentialsError } from './errors.js';
import { timeoutReason } from './time-limit.js';
import { type Fetch, type FetchResponse, nodeFetch } from './transport.js';

export const PARTNER_CENTER_RESOURCE = 'https://api.partnercenter.microsoft.com';

export interface TokenProviderOptions {
  authorityUrl: string;
  credentials: CredentialsSource;
  fetch?: Fetch;
  now?: () => number;
  /** Renew this long before expiry, so a token never expires between being handed out and being used. */
  expiryMarginMs?: number;
  /** Bound for one token request. */
  timeoutMs?: number;
}

export interface AccessToken {
  value: string;
  expiresAt: number;
  mode: 'app+user' | 'app-only';
}

interface TokenResponse {
  access_token?: string;
  expires_in?: string | number;
  refresh_token?: string;
  error?: string;
  error_description?: string;
  error_codes?: number[];
}

/** `AADSTS700082: The refresh token has expired…` → `AADSTS700082`; the rest of the text is not needed to act. */
const aadstsCode = (body: TokenResponse) =>
  body.error_description?.match(/AADSTS\d+/)?.[0] ??
  (body.error_codes?.[0] === undefined ? undefined : `AADSTS${body.error_codes[0]}`);

export class TokenProvider {
  private token: AccessToken | undefined;
  private inFlight: Promise<AccessToken> | undefined;
  private refused = false;
  /** Entra rotates the refresh token on every use; the newest one is kept for this container's next redemption. */
  private rotated: { version: string; refreshToken: string } | undefined;
  private readonly fetch: Fetch;
  private readonly now: () => number;

  constructor(private readonly options: TokenProviderOptions) {
    this.fetch = options.fetch ?? nodeFetch;
    this.now = options.now ?? Date.now;
  }

  /**
   * A valid access token. `rejected` is a token Partner Center answered 401 to: unless another caller has already
   * replaced it, the cached token is dropped and the credentials are read again before a new one is redeemed.
   * `deadline` (epoch ms, the caller's request deadline) bounds the wait: reading the secret and redeeming the token
   * are shared between concurrent callers and go on for the others, but this caller gets a CredentialsError
   * (`unavailable`: a 503, worth retrying) when its deadline passes first.
   */
  get(options?: { rejected?: AccessToken; deadline?: number }): Promise<AccessToken> {
    const rejected = options?.rejected;
    if (rejected && this.token?.value === rejected.value) this.token = undefined;
    if (this.token && this.token.expiresAt - (this.options.expiryMarginMs ?? 300_000) > this.now()) {
      return Promise.resolve(this.token);
    }
    const deadline = options?.deadline;
    if (deadline !== undefined && deadline <= this.now()) return Promise.reject(deadlinePassed());
    if (!this.inFlight) {
      const acquiring = this.acquire(rejected !== undefined).finally(() => {
        if (this.inFlight === acquiring) this.inFlight = undefined;
      });
      this.inFlight = acquiring;
    }
    return deadline === undefined ? this.inFlight : within(this.inFlight, deadline - this.now());
  }

  private async acquire(reload: boolean): Promise<AccessToken> {
    const fresh = reload || this.refused;
    const credentials = await this.options.credentials.load({ reload: fresh });
    try {
      return await this.redeemAndKeep(credentials);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      // Entra refused credentials that may be a cached copy: the secret may have been rotated (in Entra and in the
      // store) since it was read, as a Partner Center 401 can mean. Read it once more and, when it changed, redeem
      // again within this same request. Not when this read was already fresh: at most one extra read per refusal.
      if (!fresh) {
        const reread = await this.options.credentials.load({ reload: true }).catch(() => undefined);
        if (reread && reread.version !== credentials.version) {
          try {
            return await this.redeemAndKeep(reread);
          } catch (retryError) {
            if (isRefusal(retryError)) this.refused = true;
            throw retryError;
          }
        }
      }
      // Refused credentials are re-read on the next attempt, so a fixed secret (re-consent) works at once
      // instead of after the cache's TTL.
      this.refused = true;
      throw error;
    }
  }

  private async redeemAndKeep(credentials: Credentials): Promise<AccessToken> {
    this.token = await this.redeem(credentials);
    this.refused = false;
    return this.token;
  }

  private refreshTokenFor(credentials: Credentials): string | undefined {
    if (!credentials.refreshToken) return undefined;
    return this.rotated?.version === credentials.version ? this.rotated.refreshToken : credentials.refreshToken;
  }

  private async redeem(credentials: Credentials): Promise<AccessToken> {
    const refreshToken = this.refreshTokenFor(credentials);
    const granted = await redeemToken({
      authorityUrl: this.options.authorityUrl,
      credentials,
      ...(refreshToken ? { refreshToken } : {}),
      fetch: this.fetch,
      timeoutMs: this.options.timeoutMs ?? 10_000,
    });
    if (refreshToken && granted.refreshToken) {
      this.rotated = { version: credentials.version, refreshToken: granted.refreshToken };
    }
    return { value: granted.accessToken, expiresAt: this.now() + granted.expiresInSeconds * 1000, mode: granted.mode };
  }
}

/** Entra ID refused the credentials themselves (not an outage): other credentials are needed. */
const isRefusal = (error: unknown) => error instanceof CredentialsError && !error.unavailable;

const deadlinePassed = () =>
  new CredentialsError(
    "No Partner Center token within the request's deadline: Secrets Manager or Entra ID did not answer in time",
    undefined,
    true,
    timeoutReason(),
  );

/** `promise`, or a deadline CredentialsError after `ms`; the timer is cleared as soon as the promise settles. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadlinePassed()), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export interface GrantedToken {
  accessToken: string;
  expiresInSeconds: number;
  /** The replacement refresh token Entra returned (app+user only). */
  refreshToken?: string;
  mode: AccessToken['mode'];
}

/**
 * One token request to Entra ID: `refresh_token` grant when given a refresh token (app+user), `client_credentials`
 * otherwise. Refusals become a CredentialsError naming Entra's error and AADSTS code, never a value.
 */
export async function redeemToken(options: {
  authorityUrl: string;
  credentials: Pick<Credentials, 'tenantId' | 'clientId' | 'clientSecret'>;
  refreshToken?: string;
  fetch?: Fetch;
  timeoutMs?: number;
}): Promise<GrantedToken> {
  const { credentials, refreshToken } = options;
  const form = new URLSearchParams({
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    resource: PARTNER_CENTER_RESOURCE,
    ...(refreshToken
      ? { grant_type: 'refresh_token', refresh_token: refreshToken, scope: 'openid' }
      : { grant_type: 'client_credentials' }),
  });
  const url = `${options.authorityUrl}/${encodeURIComponent(credentials.tenantId)}/oauth2/token`;
  let response: FetchResponse;
  let body: TokenResponse;
  try {
    response = await (options.fetch ?? nodeFetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    body = (await response.json().catch(() => ({}))) as TokenResponse;
  } catch (error) {
    throw new CredentialsError('Entra ID could not be reached for a Partner Center token', undefined, true, error);
  }
  if (!response.ok || typeof body.access_token !== 'string') {
    const entra = { error: body.error, aadsts: aadstsCode(body) };
    const unavailable = response.status >= 500 || response.status === 429;
    throw new CredentialsError(
      `Entra ID refused the Partner Center credentials (${[entra.error, entra.aadsts].filter(Boolean).join(' ') || `HTTP ${response.status}`})`,
      entra,
      unavailable,
    );
  }
  const lifetimeSeconds = Number(body.expires_in ?? 3600);
  return {
    accessToken: body.access_token,
    expiresInSeconds: Number.isFinite(lifetimeSeconds) ? lifetimeSeconds : 3600,
    ...(refreshToken && body.refresh_token ? { refreshToken: body.refresh_token } : {}),
    mode: refreshToken ? 'app+user' : 'app-only',
  };
}
