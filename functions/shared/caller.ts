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

/** An event's producer, as EventBridge reports it (bound to the producer by the bus policy). */
export const eventCaller = (source: string) => `events:${source}`;

/**
 * Direct invocation carries no identity (Lambda does not tell the function who invoked it): every invoker shares one
 * scope, so keys must be namespaced by the caller (Step Functions: `$$.Execution.Id`).
 */
export const INVOKE_CALLER = 'invoke';
