// JWT mode: the function verifies the bearer token itself (aws-jwt-verify), because `requestContext.authorizer` is
// whatever the invoker wrote (pitfall #19). Checked here, as API Gateway's JWT authorizer checks them: the signature
// against the issuer's JWKS (fetched once per container, again only for an unknown `kid`), `iss`, `exp`/`nbf`, `aud`
// (or `client_id` when the token has no `aud`), and the route's scope (`scope` or Entra ID's `scp`). The caller and
// its groups come from the verified payload only.
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { jwtCaller, jwtGroups } from '../caller.js';
import { AuthenticationUnavailableError, InsufficientScopeError, UnauthenticatedError } from '../errors.js';
import type { RouteScope } from '../routes.js';
import { nodeFetch } from '../transport.js';

export interface JwtSettings {
  /** The `iss` tokens must carry (JWT_ISSUER); the same issuer as the API's JWT authorizer. */
  issuer: string;
  /** Accepted audiences (JWT_AUDIENCE): the token's `aud`, or its `client_id` when it has no `aud`. */
  audience: readonly string[];
  /** The issuer's JWKS (JWT_JWKS_URI); found by OpenID discovery from the issuer when absent, as API Gateway does. */
  jwksUri?: string;
  /** The scope each kind of route needs (JWT_PURCHASE_SCOPE, JWT_READ_SCOPE; routes.ts `scope`). */
  scopes: Record<RouteScope, string>;
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  graceSeconds?: number;
  /** How long one fetch of the discovery document or the JWKS may take. */
  fetchTimeoutMs?: number;
}

export interface VerifiedCaller {
  caller: string;
  groups: string[];
}

/** https only; plain http is accepted for a loopback issuer (tests and local development). */
function checkedUrl(uri: string): string {
  const url = new URL(uri);
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`${uri}: the issuer's documents are fetched over https only`);
  }
  return url.href;
}

/** The issuer's discovery document or keys could not be fetched (named as aws-jwt-verify names its own). */
class FetchError extends Error {
  override readonly name = 'FetchError';
}

/**
 * aws-jwt-verify's Fetcher, with a time limit (its own one has none), over the transport the Partner Center calls use
 * (transport.ts: fetch's undici would cost the first request ~40 ms of CPU). A redirect is refused, as any non-200.
 */
const fetcher = (timeoutMs: number) => ({
  fetch: async (uri: string): Promise<ArrayBuffer> => {
    try {
      const response = await nodeFetch(checkedUrl(uri), { signal: AbortSignal.timeout(timeoutMs) });
      if (response.status !== 200) throw new Error(`answered ${response.status}`);
      return await response.arrayBuffer();
    } catch (error) {
      throw new FetchError(`${uri}: ${(error as Error).message}`, { cause: error });
    }
  },
});

const BEARER = /^bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/i;

/** The space-separated `scope` (OAuth) or `scp` (Entra ID, string or array) of a verified token. */
function scopesOf(payload: JwtPayload): Set<string> {
  const scopes = new Set<string>();
  for (const value of [payload.scope, payload.scp]) {
    const words = Array.isArray(value) ? value : typeof value === 'string' ? value.split(' ') : [];
    for (const word of words) if (typeof word === 'string' && word !== '') scopes.add(word);
  }
  return scopes;
}

/** `aud` when the token has one (string or array), else `client_id` (Cognito access tokens): API Gateway's rule. */
function audienceMatches(payload: JwtPayload, accepted: readonly string[]): boolean {
  const aud = payload.aud;
  if (aud !== undefined) return (Array.isArray(aud) ? aud : [aud]).some((a) => accepted.includes(a));
  return typeof payload.client_id === 'string' && accepted.includes(payload.client_id);
}

export class JwtIdentity {
  private readonly cache: SimpleJwksCache;
  private jwksUri: Promise<string> | undefined;
  private verifier: Promise<ReturnType<typeof JwtVerifier.create>> | undefined;

  constructor(private readonly settings: JwtSettings) {
    if (settings.audience.length === 0) throw new Error('JWT mode needs at least one audience (JWT_AUDIENCE)');
    this.cache = new SimpleJwksCache({ fetcher: fetcher(settings.fetchTimeoutMs ?? 3_000) });
    if (settings.jwksUri) this.jwksUri = Promise.resolve(checkedUrl(settings.jwksUri));
  }

  /** The verified caller of a request carrying `authorization`, for a route needing `scope`; throws otherwise. */
  async verify(authorization: string | undefined, scope: RouteScope): Promise<VerifiedCaller> {
    const token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      throw new UnauthenticatedError('A bearer token is required (Authorization: Bearer <JWT>).');
    }
    const verifier = await this.verifierNow();
    let payload: JwtPayload;
    try {
      payload = await verifier.verify(token);
    } catch (error) {
      const name = (error as Error)?.name ?? '';
      // The keys could not be read (network, not JSON): nothing can be verified, which is not the caller's fault.
      if (/FetchError|JwksValidationError|JwksNotAvailableInCacheError/.test(name)) {
        throw new AuthenticationUnavailableError(error);
      }
      // The reason names the check (expired, issuer, signature), never the token.
      throw new UnauthenticatedError(`The bearer token did not verify (${name || 'invalid token'}).`);
    }
    if (!audienceMatches(payload, this.settings.audience)) {
      throw new UnauthenticatedError('The bearer token did not verify (JwtInvalidAudienceError).');
    }
    const needed = this.settings.scopes[scope];
    if (!scopesOf(payload).has(needed)) throw new InsufficientScopeError(needed);
    const caller = jwtCaller(payload as Record<string, unknown>);
    if (caller === undefined) {
      throw new UnauthenticatedError(
        'The bearer token names no subject (sub, azp, appid or client_id): it cannot be told apart from other such tokens.',
      );
    }
    return { caller: `http:${caller}`, groups: jwtGroups(payload as Record<string, unknown>) };
  }

  private verifierNow() {
    this.verifier ??= this.resolveJwksUri().then((jwksUri) =>
      JwtVerifier.create(
        {
          issuer: this.settings.issuer,
          // Checked above, as API Gateway does (`aud`, else `client_id`).
          audience: null,
          jwksUri,
          graceSeconds: this.settings.graceSeconds ?? 0,
        },
        { jwksCache: this.cache },
      ),
    );
    // A failed discovery is tried again by the next request, not cached for the container's life.
    return this.verifier.catch((error: unknown) => {
      this.verifier = undefined;
      this.jwksUri = undefined;
      throw new AuthenticationUnavailableError(error);
    });
  }

  /** OpenID discovery (`<issuer>/.well-known/openid-configuration`), whose `issuer` must be the configured one. */
  private resolveJwksUri(): Promise<string> {
    this.jwksUri ??= (async () => {
      const url = `${this.settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const body = new TextDecoder().decode(await fetcher(this.settings.fetchTimeoutMs ?? 3_000).fetch(url));
      const document = JSON.parse(body) as { issuer?: unknown; jwks_uri?: unknown };
      if (document.issuer !== this.settings.issuer || typeof document.jwks_uri !== 'string') {
        throw new Error(`${url}: not the discovery document of ${this.settings.issuer}`);
      }
      return checkedUrl(document.jwks_uri);
    })();
    return this.jwksUri;
  }
}
