// Who is asking over HTTP, established once per request by http.ts's stack before anything is read:
//   jwt  the bearer token, verified in the function (identity/jwt.ts); `requestContext.authorizer` is never read
//   iam  `requestContext.authorizer.iam`, as API Gateway wrote it after checking the SigV4 signature. A function
//        cannot check a signature itself, so this holds only while nobody but API Gateway may invoke the function:
//        lambda:InvokeFunction on an API function is impersonation, fenced by the stack's InvokeGuard output
//        (docs/authorization.md, "Entry points"). JWT claims in the context are never read in this mode.
// The mode is the deployment's (AUTHORIZER, set by the stack), never the payload's.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { iamCaller } from '../caller.js';
import type { Config } from '../config.js';
import { ValidationError } from '../errors.js';
import { type RouteKey, type RouteScope, routes } from '../routes.js';
import type { JwtIdentity } from './jwt.js';

export interface HttpCaller {
  /** caller.ts's name of the caller: the idempotency scope and the policy's principal. */
  caller: string;
  /** The groups and app roles of a JWT caller (namespaced by claim: caller.ts `jwtGroups`); none for IAM. */
  groups: readonly string[];
}

export interface HttpIdentity {
  readonly mode: 'iam' | 'jwt';
  identify(event: APIGatewayProxyEventV2): Promise<HttpCaller>;
}

const SCOPES = new Map<string, RouteScope>(routes.map((route) => [`${route.method} ${route.path}`, route.scope]));

/** The scope of the event's route; a route the table does not have is refused before anyone is identified. */
export function scopeOf(routeKey: string): RouteScope {
  const scope = SCOPES.get(routeKey as RouteKey);
  if (!scope) throw new ValidationError([{ path: '/routeKey', message: `${routeKey} is not served here` }], 400);
  return scope;
}

const ANONYMOUS: HttpCaller = Object.freeze({ caller: 'http:anonymous', groups: Object.freeze([]) });

/** IAM (SigV4) as API Gateway's IAM authorizer reports it; no authorizer (the local server) is anonymous. */
export const iamIdentity: HttpIdentity = {
  mode: 'iam',
  identify: async (event) => {
    const userArn = (event.requestContext as { authorizer?: { iam?: { userArn?: unknown } } }).authorizer?.iam?.userArn;
    return typeof userArn === 'string' && userArn !== ''
      ? { caller: `http:${iamCaller(userArn)}`, groups: [] }
      : ANONYMOUS;
  },
};

/** API Gateway lower-cases header names; a hand-made event may not. */
function authorizationOf(headers: APIGatewayProxyEventV2['headers'] | undefined): string | undefined {
  for (const name in headers) if (name.toLowerCase() === 'authorization') return headers[name];
  return undefined;
}

export function jwtIdentity(verifier: Pick<JwtIdentity, 'verify'>): HttpIdentity {
  return {
    mode: 'jwt',
    identify: (event) => {
      const scope = scopeOf(event.routeKey);
      return verifier.verify(authorizationOf(event.headers), scope);
    },
  };
}

/**
 * The deployment's identity mode, built once per container (the JWKS cache lives in it). The verifier (aws-jwt-verify)
 * is loaded on the first request in JWT mode only: an IAM-mode function does not evaluate it at init.
 */
export function identityFrom(config: Pick<Config, 'authorizer' | 'jwt'>): HttpIdentity {
  if (config.authorizer === 'iam') return iamIdentity;
  const settings = config.jwt;
  if (!settings) throw new Error('AUTHORIZER=jwt needs JWT_ISSUER and JWT_AUDIENCE');
  let loaded: Promise<JwtIdentity> | undefined;
  return jwtIdentity({
    verify: async (authorization, scope) => {
      loaded ??= import('./jwt.js').then(({ JwtIdentity }) => new JwtIdentity(settings));
      return (await loaded).verify(authorization, scope);
    },
  });
}
