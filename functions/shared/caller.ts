// Who is asking, reduced to what stays the same from one retry to the next: idempotency keys are scoped to it, so a
// key never crosses callers and never changes under the same caller. Who an HTTP caller is comes from
// identity/http.ts (a verified JWT, or API Gateway's IAM authorizer), never from the payload's own say-so.

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

/**
 * A verified JWT's issuer and subject; an app-only token without `sub` is its client application (`azp`, v1 `appid`,
 * or `client_id`). None of them: undefined, and the token is refused (identity/jwt.ts) rather than mapped to one
 * caller shared by every such token.
 */
export function jwtCaller(claims: Record<string, unknown>): string | undefined {
  const subject = claim(claims, 'sub') ?? claim(claims, 'azp') ?? claim(claims, 'appid') ?? claim(claims, 'client_id');
  const issuer = claim(claims, 'iss');
  if (subject === undefined || issuer === undefined) return undefined;
  return `jwt:${JSON.stringify([issuer, subject])}`;
}

/**
 * The claims that carry a token's groups and app roles: Entra ID's `groups` and `roles`, Cognito's `cognito:groups`.
 * Each is its own namespace: a group named like an app role is not that role.
 */
export const GROUP_CLAIMS = ['groups', 'roles', 'cognito:groups'] as const;

/**
 * The groups and app roles a verified JWT claims, for the purchase policy (not part of the caller: a key's scope must
 * not change when a group membership does), each prefixed by its claim: `groups:<id>`, `roles:<name>`,
 * `cognito:groups:<name>`. A claim is a JSON array of strings or a single string.
 */
export function jwtGroups(claims: Record<string, unknown>): string[] {
  const groups: string[] = [];
  for (const name of GROUP_CLAIMS) {
    const value = claims[name];
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (typeof v === 'string' && v.trim() !== '') groups.push(`${name}:${v.trim()}`);
  }
  return [...new Set(groups)];
}

/** An event's producer, as EventBridge reports it (bound to the producer by the bus policy). */
export const eventCaller = (source: string) => `events:${source}`;

/**
 * Direct invocation (the invoke-purchase function) carries no identity: Lambda does not tell the function who invoked
 * it, and nothing in the payload is proof. So every invoker is this one principal, `Invoker::"invoke"`, whatever the
 * payload says: whoever holds lambda:InvokeFunction on that function. Every invoker shares one key scope, so keys
 * must be namespaced by the caller (Step Functions: `$$.Execution.Id`).
 */
export const INVOKE_CALLER = 'invoke';
