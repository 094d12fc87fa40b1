// Who is asking, reduced to what stays the same from one retry to the next: idempotency keys are scoped to it, so a
// key never crosses callers and never changes under the same caller.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

interface Authorizer {
  iam?: { userArn?: string; accountId?: string };
  jwt?: { claims?: Record<string, unknown> };
}

/** `arn:aws:sts::<account>:assumed-role/<role>/<session>` → the role; the session name changes at every refresh. */
const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

/**
 * The IAM principal behind a SigV4 request: an assumed role is its account and role name (pitfall #13: the session
 * name in `userArn` changes with every credential refresh), anything else (an IAM user, a root) its ARN.
 */
export function iamCaller(userArn: string): string {
  const role = ASSUMED_ROLE.exec(userArn);
  return role ? `iam:arn:${role[1]}:iam::${role[2]}:role/${role[3]}` : `iam:${userArn}`;
}

const claim = (claims: Record<string, unknown>, name: string) => {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** A JWT's issuer and subject; an app-only token without `sub` is its client application (`azp`, or v1 `appid`). */
export function jwtCaller(claims: Record<string, unknown>): string {
  const subject = claim(claims, 'sub') ?? claim(claims, 'azp') ?? claim(claims, 'appid') ?? claim(claims, 'client_id');
  return `jwt:${JSON.stringify([claim(claims, 'iss') ?? '', subject ?? ''])}`;
}

/** The caller of an HTTP request, as its authorizer established it. */
export function httpCaller(event: APIGatewayProxyEventV2): string {
  const authorizer = (event.requestContext as { authorizer?: Authorizer }).authorizer;
  if (authorizer?.iam?.userArn) return `http:${iamCaller(authorizer.iam.userArn)}`;
  if (authorizer?.jwt?.claims) return `http:${jwtCaller(authorizer.jwt.claims)}`;
  return 'http:anonymous';
}

/** The claims that carry a token's groups and app roles: Entra ID's `groups` and `roles`, Cognito's `cognito:groups`. */
export const GROUP_CLAIMS = ['groups', 'roles', 'cognito:groups'] as const;

/**
 * The groups and app roles a JWT claims, for the purchase policy (not part of the caller: a key's scope must not change
 * when a group membership does). API Gateway hands array claims to the function as one string, `[a b c]`; a JSON
 * array (a direct test event) and a single value are taken too.
 */
export function jwtGroups(claims: Record<string, unknown>): string[] {
  const groups: string[] = [];
  for (const name of GROUP_CLAIMS) {
    const value = claims[name];
    if (Array.isArray(value)) groups.push(...value.filter((v): v is string => typeof v === 'string'));
    else if (typeof value === 'string') {
      const bracketed = /^\[(.*)\]$/s.exec(value.trim());
      groups.push(...(bracketed ? (bracketed[1] ?? '').split(/\s+/) : [value.trim()]));
    }
  }
  return [...new Set(groups.filter((g) => g !== ''))];
}

/** The groups an HTTP caller's JWT claims; none for SigV4. */
export function httpCallerGroups(event: APIGatewayProxyEventV2): string[] {
  const claims = (event.requestContext as { authorizer?: Authorizer }).authorizer?.jwt?.claims;
  return claims ? jwtGroups(claims) : [];
}

/** An event's producer, as EventBridge reports it (bound to the producer by the bus policy). */
export const eventCaller = (source: string) => `events:${source}`;

/**
 * Direct invocation carries no identity (Lambda does not tell the function who invoked it): every invoker shares one
 * scope, so keys must be namespaced by the caller (Step Functions: `$$.Execution.Id`).
 */
export const INVOKE_CALLER = 'invoke';
