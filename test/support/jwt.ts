// A token issuer on loopback for JWT mode: an RSA key made here (node:crypto), its JWKS and OpenID discovery document
// served over http on 127.0.0.1, and RS256 tokens signed with it (or with another key, to forge one).
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type HttpIdentity, jwtIdentity } from '../../functions/shared/identity/http.js';
import { JwtIdentity, type JwtSettings } from '../../functions/shared/identity/jwt.js';

export const AUDIENCE = 'partner-orders-api';
export const SCOPES = { purchase: 'partner-orders/purchase', read: 'partner-orders/read' } as const;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export interface TokenIssuer {
  /** The issuer URL (`iss`), also where its discovery document is. */
  url: string;
  /** Requests the issuer answered, by path (the JWKS is fetched once per container). */
  fetches: string[];
  /** An RS256 token with these claims (iss, aud, exp, iat filled in unless given), signed by the issuer's key. */
  token(claims?: Record<string, unknown>, options?: { key?: KeyObject; kid?: string }): string;
  /** The identity of an API function configured for this issuer (AUTHORIZER=jwt). */
  identity(settings?: Partial<JwtSettings>): HttpIdentity;
  stop(): Promise<void>;
}

export function newKey(): KeyObject {
  return createPrivateKey(
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
  );
}

export async function startTokenIssuer(): Promise<TokenIssuer> {
  const key = newKey();
  const kid = 'test-key-1';
  const jwk = { ...key.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } as Record<string, unknown>;
  // Only the public half is published.
  for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete jwk[part];
  const fetches: string[] = [];
  let url = '';
  const server = createServer((request, response) => {
    fetches.push(request.url ?? '');
    const body =
      request.url === '/.well-known/openid-configuration'
        ? { issuer: url, jwks_uri: `${url}/keys` }
        : request.url === '/keys'
          ? { keys: [jwk] }
          : undefined;
    response.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    fetches,
    token: (claims = {}, options = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const header = b64url({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? kid });
      const payload = b64url({ iss: url, aud: AUDIENCE, iat: now, exp: now + 600, ...claims });
      const signature = sign('sha256', Buffer.from(`${header}.${payload}`), options.key ?? key).toString('base64url');
      return `${header}.${payload}.${signature}`;
    },
    identity: (settings = {}) =>
      jwtIdentity(new JwtIdentity({ issuer: url, audience: [AUDIENCE], scopes: SCOPES, ...settings })),
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The event with `Authorization: Bearer <token>`. */
export const withBearer = (event: APIGatewayProxyEventV2, token: string): APIGatewayProxyEventV2 => ({
  ...event,
  headers: { ...event.headers, authorization: `Bearer ${token}` },
});

/** The event with a forged `requestContext.authorizer`, as a direct invoker can write it. */
export const withAuthorizer = (event: APIGatewayProxyEventV2, authorizer: unknown): APIGatewayProxyEventV2 => ({
  ...event,
  requestContext: { ...event.requestContext, authorizer } as APIGatewayProxyEventV2['requestContext'],
});
