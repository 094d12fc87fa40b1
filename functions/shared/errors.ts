// Typed errors. Each one knows the HTTP problem it becomes (see problem.ts); none carries a secret.

export interface FieldError {
  /** Where the problem is: a JSON pointer into the request, prefixed by its part (`/body/lineItems/0/quantity`). */
  path: string;
  message: string;
}

/** The caller's request is wrong: nothing was sent upstream. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly errors: FieldError[],
    readonly status: 400 | 413 | 415 = 400,
    message = 'The request is not valid.',
  ) {
    super(message);
  }
}

/** No route matches the method and path. */
export class RouteNotFoundError extends Error {
  override readonly name = 'RouteNotFoundError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly allowed: string[] = [],
  ) {
    super(allowed.length > 0 ? `${method} is not allowed on ${path}` : `No route for ${method} ${path}`);
  }
}

/** What identifies one call to Partner Center in its logs and ours. */
export interface UpstreamIds {
  requestId: string;
  correlationId: string;
}

/** Partner Center answered with an error status. `code` and `description` come from its error body. */
export class PartnerCenterError extends Error {
  override readonly name = 'PartnerCenterError';
  constructor(
    readonly status: number,
    readonly ids: UpstreamIds,
    readonly code: string | undefined,
    readonly description: string | undefined,
    /** Seconds to wait, from `Retry-After` on a 429. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`Partner Center answered ${status}${code ? ` (${code})` : ''}${description ? `: ${description}` : ''}`);
  }
}

/** Partner Center could not be reached, or did not answer in time, within the request's deadline. */
export class UpstreamUnavailableError extends Error {
  override readonly name = 'UpstreamUnavailableError';
  constructor(
    readonly ids: UpstreamIds,
    readonly timedOut: boolean,
    readonly attempts: number,
    cause?: unknown,
  ) {
    super(
      timedOut ? `Partner Center did not answer in time (${attempts} attempts)` : 'Partner Center could not be reached',
      {
        cause,
      },
    );
  }
}

/**
 * One attempt of a purchase whose outcome is unknown: no answer (timeout, reset), a 5xx, or an unreadable 2xx. It may
 * have placed the purchase, so nothing is sent again before Partner Center has been read (exactly-once/).
 */
export class AmbiguousAttemptError extends Error {
  override readonly name = 'AmbiguousAttemptError';
  constructor(
    readonly ids: UpstreamIds,
    /** Partner Center answered (so it has finished with the request), as opposed to no answer at all. */
    readonly answered: boolean,
    readonly attempts: number,
    readonly reason: string,
    /** The 5xx, when that is what came back. */
    readonly upstream?: PartnerCenterError,
    cause?: unknown,
  ) {
    super(`The outcome of a Partner Center call is unknown (${reason})`, { cause: cause ?? upstream });
  }
}

/**
 * A purchase was sent and Partner Center could not be read to tell whether it was placed, or nothing was found yet
 * while the attempt may still be running there. Never a refusal: the caller retries with the same key, and the
 * purchase is looked for again before anything is sent.
 */
export class OutcomeUnknownError extends Error {
  override readonly name = 'OutcomeUnknownError';
  constructor(
    readonly retryAfterSeconds: number,
    detail: string,
    readonly ids?: UpstreamIds,
    cause?: unknown,
    /** The cart whose checkout's outcome is unknown: the one to check out again. */
    readonly cartId?: string,
  ) {
    super(detail, { cause });
  }
}

/** A purchase route was called without an Idempotency-Key while keys are required (the default). */
export class IdempotencyKeyRequiredError extends Error {
  override readonly name = 'IdempotencyKeyRequiredError';
  constructor(readonly path: string) {
    super(`${path}: is required for a purchase, so that a retry can never buy twice`);
  }
}

/** Partner Center answered 2xx with a body that is not the resource it should be: the purchase may have happened. */
export class UpstreamProtocolError extends Error {
  override readonly name = 'UpstreamProtocolError';
  constructor(
    readonly ids: UpstreamIds,
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * Our own Partner Center credentials are missing, malformed or refused by Entra ID. Never the caller's fault, and the
 * message names the problem (e.g. the AADSTS code) but never a value.
 */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
  constructor(
    message: string,
    /** Entra's error (`invalid_grant`) and AADSTS code when Entra refused the grant. */
    readonly entra?: { error?: string; aadsts?: string },
    /** True when the secret store itself could not be reached: worth retrying later. */
    readonly unavailable = false,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/**
 * A checkout failed after its cart was created. With an idempotency key the cart is on record under the key, so a
 * retry with the same key resumes at the checkout (`resumable`); without one the caller must check out the cart.
 */
export class CheckoutAfterCartError extends Error {
  override readonly name = 'CheckoutAfterCartError';
  constructor(
    readonly cartId: string,
    override readonly cause: unknown,
    readonly resumable = false,
  ) {
    super(`Cart ${cartId} was created but its checkout failed`);
  }
}

/** Checkout answered, and every order group failed: nothing was bought (a final refusal, not a success). */
export class CheckoutFailedError extends Error {
  override readonly name = 'CheckoutFailedError';
  constructor(
    readonly cartId: string,
    readonly orderErrors: unknown[],
  ) {
    super(`Every order group of cart ${cartId} failed at checkout; nothing was purchased.`);
  }
}

/** The Idempotency-Key is in use: by a request still in flight (409), or by a different request (422). */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  constructor(readonly reason: 'in-progress' | 'mismatch') {
    super(
      reason === 'in-progress'
        ? 'A request with this Idempotency-Key is still in progress.'
        : 'This Idempotency-Key was used with a different request.',
    );
  }
}

/**
 * The function ran out of time: middy's early timeout, a few ms before Lambda's own, while something (Partner Center,
 * Entra ID, Secrets Manager, the idempotency store) had not answered. What was under way may still complete.
 */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
  constructor(cause?: unknown) {
    super("The request did not finish within the function's time limit", { cause });
  }
}

/** The idempotency store could not be read or written: nothing is sent upstream without a record. */
export class IdempotencyStoreError extends Error {
  override readonly name = 'IdempotencyStoreError';
  constructor(cause: unknown) {
    super('The idempotency store is unavailable', { cause });
  }
}

/**
 * A read or write of the idempotency table's records: a failure is an unavailable store (nothing is sent without
 * them), except the errors `expected` names (a conditional write's refusal, which its caller reads as an answer).
 */
export const storeCall = async <T>(call: () => Promise<T>, expected?: (error: unknown) => boolean): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    if (expected?.(error)) throw error;
    throw new IdempotencyStoreError(error);
  }
};

/**
 * Log fields for a refused credential anywhere in an error's causes: `credentialProblem` (Entra's error, e.g.
 * `invalid_grant`) and the AADSTS code. The stack's metric filter turns `credentialProblem = invalid_grant` into an
 * alarm, whichever function saw it.
 */
export function credentialFields(error: unknown): { credentialProblem?: string; aadsts?: string } {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof CredentialsError && e.entra) {
      return {
        ...(e.entra.error ? { credentialProblem: e.entra.error } : {}),
        ...(e.entra.aadsts ? { aadsts: e.entra.aadsts } : {}),
      };
    }
  }
  return {};
}

/** The purchase policy (functions/shared/policy/) refused the purchase: nothing was sent to Partner Center. */
export class PolicyDeniedError extends Error {
  override readonly name = 'PolicyDeniedError';
  constructor(
    readonly denial: {
      /** The Cedar action refused (`CreateOrder`, `AddOn`, `CreateCart`, `CheckoutCart`). */
      action: string;
      /** The caller as the policies name it: `PartnerOrders::Producer::"com.example.billing"`. */
      principal: string;
      /** The `@id`s of the policies that decided; none when no policy permits the purchase. */
      policies: string[];
      /** Where in the request: `/body/lineItems/0/quantity`. */
      path: string;
      /** Why, as the deciding policy's `@reason` says it. */
      reason: string;
    },
  ) {
    super(`${denial.path}: ${denial.reason}`);
  }
}

/** The purchase policy could not be evaluated (policy store unreachable, cart unreadable): nothing was sent. */
export class PolicyUnavailableError extends Error {
  override readonly name = 'PolicyUnavailableError';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/**
 * The HTTP caller could not be identified (JWT mode): no bearer token, or one whose signature, issuer, audience, expiry
 * or subject did not verify (identity/jwt.ts). Nothing was read or sent.
 */
export class UnauthenticatedError extends Error {
  override readonly name = 'UnauthenticatedError';
}

/** The verified token lacks the route's scope (routes.ts `scope`): nothing was read or sent. */
export class InsufficientScopeError extends Error {
  override readonly name = 'InsufficientScopeError';
  constructor(readonly scope: string) {
    super(`The token does not carry the scope ${scope}, which this route needs.`);
  }
}

/** The issuer's keys could not be fetched, so no token can be verified (fail closed): nothing was read or sent. */
export class AuthenticationUnavailableError extends Error {
  override readonly name = 'AuthenticationUnavailableError';
  constructor(cause: unknown) {
    super("The token issuer's signing keys could not be read", { cause });
  }
}

/**
 * A function was invoked with a payload meant for another entry point (an API Gateway event sent to the direct-invoke
 * function, a command sent to an API function, anything but an SQS batch sent to the consumer): refused by its shape
 * before anything is read, because an entry point trusts what its own trigger vouches for (entry-points.ts).
 */
export class WrongEntryPointError extends Error {
  override readonly name = 'WrongEntryPointError';
  constructor(message: string) {
    super(message);
  }
}

/**
 * Partner Center's answers that are about the customer, not the request: 404/60003 "Tenant not found", 400/900118
 * "Invalid Customer Id", 403/20002 "The partner id … has no commerce relationship with the customer id …" (error-codes).
 * Whatever read or purchase got them, the customer id is what the caller must fix.
 */
const CUSTOMER_REFUSALS: readonly [number, string][] = [
  [404, '60003'],
  [400, '900118'],
  [403, '20002'],
];

export const isCustomerRefusal = (error: unknown): boolean =>
  error instanceof PartnerCenterError &&
  CUSTOMER_REFUSALS.some(([status, code]) => error.status === status && error.code === code);

/** The customer is unknown to Partner Center, or not this partner's customer: 404 `customer-not-found`. */
export class CustomerNotFoundError extends Error {
  override readonly name = 'CustomerNotFoundError';
  constructor(
    /** Where the caller put the customer id: `/path/customerId`, `/detail/customerId`, `/customerId`. */
    readonly path: string,
    readonly upstream?: PartnerCenterError,
  ) {
    super(
      upstream?.code === '20002'
        ? 'This partner has no commerce relationship with the customer (Partner Center 20002): it is not one of your customers.'
        : `Partner Center does not know this customer${upstream ? ` (${[upstream.code, upstream.description].filter(Boolean).join(' ')})` : ''}: check the customer's tenant id.`,
      { cause: upstream },
    );
  }
}
