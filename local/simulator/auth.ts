import { randomBytes } from 'node:crypto';
import { type HandlerResult, json, type Reply } from './http.js';
import { PARTNER_CENTER_RESOURCE } from './models.js';
import { newGuid, randomString } from './validation.js';

export interface SimulatorCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  refreshToken?: string;
}

export const DEFAULT_SIMULATOR_CREDENTIALS: Readonly<Required<SimulatorCredentials>> = Object.freeze({
  tenantId: '6f1c2a8e-3b4d-4c5e-9f60-7a8b9c0d1e2f',
  clientId: '0b7e4d2c-9a1f-4e3b-8c5d-6e7f8091a2b3',
  clientSecret: 'sim-client-secret',
  refreshToken: 'sim-refresh-token-0',
});

/** Matches `/{tenant}/oauth2/token` (v1) and `/{tenant}/oauth2/v2.0/token` (v2). */
export const TOKEN_PATH = /^\/([^/]+)\/oauth2\/(v2\.0\/)?token\/?$/i;

/** Placeholder realm; real 401s carry `OAuth realm=urn:cpsvc:cpid:{cid}`. */
const WWW_AUTHENTICATE = 'OAuth realm=urn:cpsvc:cpid:00000000-0000-0000-0000-000000000000';

const entraTimestamp = (now: number): string =>
  new Date(now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

/** Entra's error body. Callers must never pass secrets into `message`. */
function entraError(
  status: number,
  error: string,
  code: number,
  message: string,
  correlationId: string,
  now: number,
): Reply {
  const traceId = newGuid();
  const timestamp = entraTimestamp(now);
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

function fakeJwt(tenantId: string, clientId: string, issuedAt: number, lifetime: number): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    part({ typ: 'JWT', alg: 'RS256', kid: 'partner-center-simulator' }),
    part({
      aud: PARTNER_CENTER_RESOURCE,
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + lifetime,
      appid: clientId,
      tid: tenantId,
      uti: randomString(22),
      ver: '1.0',
    }),
    randomBytes(32).toString('base64url'),
  ].join('.');
}

function basicCredentials(header: string | undefined): { id?: string; secret?: string } {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return {};
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return {};
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

function targetsPartnerCenter(resource: string | null, scope: string | null): boolean {
  if (resource !== null && resource.replace(/\/+$/, '').toLowerCase() === PARTNER_CENTER_RESOURCE) return true;
  return (scope ?? '').split(/\s+/).some((s) => s.toLowerCase().startsWith(PARTNER_CENTER_RESOURCE));
}

export interface TokenRequest {
  method: string;
  tenant: string;
  v2: boolean;
  body: string;
  headers: Readonly<Record<string, string>>;
  now: number;
}

/** Entra ID token endpoint plus validation of the access tokens it issued. */
export class TokenService {
  private readonly tenantId: string;
  private readonly clientId: string;
  private clientSecret: string;
  /** Entra keeps an older refresh token usable after redeeming it, so more than one may be valid. */
  private refreshTokens: Set<string>;
  private refreshTokensIssued = 0;
  private readonly accessTokens = new Map<string, number>();

  constructor(
    credentials: SimulatorCredentials,
    private readonly lifetimeSeconds: number,
  ) {
    this.tenantId = credentials.tenantId;
    this.clientId = credentials.clientId;
    this.clientSecret = credentials.clientSecret;
    this.refreshTokens = new Set([credentials.refreshToken ?? DEFAULT_SIMULATOR_CREDENTIALS.refreshToken]);
  }

  token(req: TokenRequest): HandlerResult {
    const correlationId = req.headers['client-request-id'] ?? newGuid();
    const fail = (status: number, error: string, code: number, message: string): HandlerResult => ({
      reply: entraError(status, error, code, message, correlationId, req.now),
    });
    const missing = (name: string) =>
      fail(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);

    if (req.tenant.toLowerCase() !== this.tenantId.toLowerCase()) {
      return fail(
        400,
        'invalid_request',
        90002,
        `Tenant '${req.tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (req.method !== 'POST') {
      return fail(
        400,
        'invalid_request',
        900561,
        `The endpoint only accepts POST, OPTIONS requests. Received a ${req.method} request.`,
      );
    }
    const form = new URLSearchParams(req.body);
    const basic = basicCredentials(req.headers.authorization);
    const grantType = form.get('grant_type');
    const clientId = form.get('client_id') ?? basic.id;
    const clientSecret = form.get('client_secret') ?? basic.secret;
    if (!grantType) return missing('grant_type');
    if (grantType !== 'client_credentials' && grantType !== 'refresh_token') {
      return fail(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    if (!clientId) return missing('client_id');
    if (!targetsPartnerCenter(form.get('resource'), form.get('scope'))) {
      return req.v2
        ? fail(400, 'invalid_scope', 70011, "The provided value for the input parameter 'scope' is not valid.")
        : fail(
            400,
            'invalid_resource',
            500011,
            `The resource principal named ${form.get('resource') ?? '(none)'} was not found in the tenant named ${req.tenant}.`,
          );
    }
    const refreshToken = form.get('refresh_token');
    if (grantType === 'refresh_token' && !refreshToken) return missing('refresh_token');
    if (clientId.toLowerCase() !== this.clientId.toLowerCase()) {
      // A refresh token is bound to the app it was issued to (seen in the wild as AADSTS700007).
      return grantType === 'refresh_token'
        ? fail(400, 'invalid_grant', 700007, 'The grant was issued for a different client id.')
        : fail(
            400,
            'unauthorized_client',
            700016,
            `Application with identifier '${clientId}' was not found in the directory '${req.tenant}'.`,
          );
    }
    if (!clientSecret) {
      return fail(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (clientSecret !== this.clientSecret) {
      return fail(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.clientId}'.`,
      );
    }
    if (refreshToken !== null && grantType === 'refresh_token' && !this.refreshTokens.has(refreshToken)) {
      return fail(
        400,
        'invalid_grant',
        700082,
        'The refresh token has expired due to inactivity. The token was issued on 2000-01-01T00:00:00.0000000Z and was inactive for 90.00:00:00.',
      );
    }
    return this.issue(grantType === 'refresh_token', req.v2, req.now);
  }

  private issue(withRefreshToken: boolean, v2: boolean, now: number): HandlerResult {
    const issuedAt = Math.floor(now / 1000);
    const lifetime = this.lifetimeSeconds;
    const accessToken = fakeJwt(this.tenantId, this.clientId, issuedAt, lifetime);
    const refreshToken = withRefreshToken ? `sim-refresh-token-${this.refreshTokensIssued + 1}` : undefined;
    const body = v2
      ? {
          token_type: 'Bearer',
          scope: `${PARTNER_CENTER_RESOURCE}/${withRefreshToken ? 'user_impersonation' : '.default'}`,
          expires_in: lifetime,
          ext_expires_in: lifetime,
          access_token: accessToken,
          ...(refreshToken && { refresh_token: refreshToken }),
        }
      : {
          token_type: 'Bearer',
          ...(withRefreshToken && { scope: 'user_impersonation' }),
          // The v1 endpoint sends these numbers as strings.
          expires_in: String(lifetime),
          ext_expires_in: String(lifetime),
          expires_on: String(issuedAt + lifetime),
          not_before: String(issuedAt),
          resource: PARTNER_CENTER_RESOURCE,
          access_token: accessToken,
          ...(refreshToken && { refresh_token: refreshToken }),
        };
    return {
      reply: json(200, body, { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' }),
      commit: () => {
        this.accessTokens.set(accessToken, now + lifetime * 1000);
        if (refreshToken) {
          this.refreshTokensIssued++;
          this.refreshTokens.add(refreshToken);
        }
      },
    };
  }

  /** Undefined when the bearer token is acceptable, else the 401 to send. */
  authorize(authorization: string | undefined, now: number): Reply | undefined {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (token === undefined) return unauthorized(800001, 'Partner Token missing in request context');
    const expiresAt = this.accessTokens.get(token);
    if (expiresAt === undefined) return unauthorized(400, 'Access denied');
    if (now >= expiresAt) {
      this.accessTokens.delete(token);
      return unauthorized(400, 'Access denied');
    }
    return undefined;
  }

  revokeAccessTokens(): void {
    this.accessTokens.clear();
  }

  /** A rotated value replaces every earlier one, unlike a refresh-token redemption. */
  rotate(next: Partial<{ clientSecret: string; refreshToken: string }>): void {
    if (next.clientSecret !== undefined) this.clientSecret = next.clientSecret;
    if (next.refreshToken !== undefined) this.refreshTokens = new Set([next.refreshToken]);
  }
}

function unauthorized(code: number, description: string): Reply {
  return json(401, { code, description, data: [], source: 'PartnerFD' }, { 'WWW-Authenticate': WWW_AUTHENTICATE });
}
