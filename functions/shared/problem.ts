// RFC 9457 problem details: the one shape every error of this API takes, whatever entry point it came through.

import { CatalogMismatchError, CatalogUnavailableError } from './catalog/errors.js';
import { PossibleDuplicateError } from './duplicates/errors.js';
import {
  AmbiguousAttemptError,
  AuthenticationUnavailableError,
  CheckoutAfterCartError,
  CheckoutFailedError,
  CredentialsError,
  CustomerNotFoundError,
  DeadlineExceededError,
  type FieldError,
  IdempotencyConflictError,
  IdempotencyKeyRequiredError,
  IdempotencyStoreError,
  InsufficientScopeError,
  isCustomerRefusal,
  OutcomeUnknownError,
  PartnerCenterError,
  PolicyDeniedError,
  PolicyUnavailableError,
  RouteNotFoundError,
  UnauthenticatedError,
  type UpstreamIds,
  UpstreamProtocolError,
  UpstreamUnavailableError,
  ValidationError,
  WrongEntryPointError,
} from './errors.js';
import { OutsideRefundWindowError, SubscriptionStateError } from './subscriptions/errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * At most this many field errors are listed. A 256 KiB body can hold ~24,000 unknown fields, whose full list made a
 * 1.3 MB answer (found by the reliability suites): past Lambda's 6 MB response limit for a direct invocation, and
 * past EventBridge's 256 KB for an OrderRejected event, which then could not be published and sent the command to
 * the DLQ. A caller fixing a request needs the first ones; the count says how many more there are.
 */
export const MAX_LISTED_ERRORS = 100;

/** Problem types are documented in the README ("Errors"); the URN names the kind, the status says who must act. */
const type = (slug: string) => `urn:partner-orders:problem:${slug}`;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  upstream?: {
    status?: number;
    code?: string;
    description?: string;
    requestId: string;
    correlationId: string;
  };
  /** When a cart was created before its checkout failed, or when every order group of a checkout failed. */
  cartId?: string;
  /** Partner Center's reasons, per order group, when a checkout placed nothing. */
  orderErrors?: unknown[];
  retryAfterSeconds?: number;
  /** A possible duplicate: the earlier purchase of the same lines (duplicates/guard.ts). */
  earlier?: { idempotencyKey: string; caller: string; orderIds: string[]; at: string };
  /** A refusal by the purchase policy: the Cedar action, the caller as the policies name it, the deciding `@id`s. */
  policy?: { decision: 'deny'; action: string; principal: string; policies: string[] };
  /** A cancel or reduction refused outside its window: the window, and what to do instead (subscriptions/). */
  refundWindow?: OutsideRefundWindowError['window'];
  alternative?: string;
}

export interface ProblemResponse {
  problem: Problem;
  /** Extra response headers (`Retry-After`, `Allow`). */
  headers: Record<string, string>;
}

const upstream = (ids: UpstreamIds, status?: number, code?: string, description?: string) => ({
  ...(status === undefined ? {} : { status }),
  ...(code === undefined ? {} : { code }),
  ...(description === undefined ? {} : { description }),
  requestId: ids.requestId,
  correlationId: ids.correlationId,
});

/** Partner Center statuses that are about the request itself, and so are the caller's to fix. */
const PASSED_THROUGH = new Set([400, 403, 404, 409]);

function fromPartnerCenter(error: PartnerCenterError): ProblemResponse {
  const up = upstream(error.ids, error.status, error.code, error.description);
  if (PASSED_THROUGH.has(error.status)) {
    return {
      problem: {
        type: type('partner-center-rejected'),
        title: 'Partner Center rejected the request',
        status: error.status,
        detail: error.description ?? `Partner Center answered ${error.status}.`,
        upstream: up,
      },
      headers: {},
    };
  }
  if (error.status === 429) {
    const seconds = error.retryAfterSeconds ?? 1;
    return {
      problem: {
        type: type('throttled'),
        title: 'Partner Center is throttling requests',
        status: 429,
        detail: `Partner Center asked to wait ${seconds} s before trying again; nothing was purchased.`,
        upstream: up,
        retryAfterSeconds: seconds,
      },
      headers: { 'Retry-After': String(seconds) },
    };
  }
  if (error.status === 401) {
    return {
      problem: {
        type: type('credentials'),
        title: 'Partner Center refused our credentials',
        status: 502,
        detail:
          'Partner Center answered 401 even after the credentials were read again; the configured credentials need attention.',
        upstream: up,
      },
      headers: {},
    };
  }
  return {
    problem: {
      type: type('upstream-error'),
      title: 'Partner Center failed',
      status: 502,
      detail:
        error.status >= 500
          ? `Partner Center kept failing (${error.status}). Retrying with the same Idempotency-Key is safe.`
          : `Partner Center answered ${error.status}, which this service does not expect.`,
      upstream: up,
    },
    headers: {},
  };
}

/** Maps any error to the problem the caller sees. Unknown errors become a bare 500 that reveals nothing. */
export function toProblem(error: unknown): ProblemResponse {
  if (error instanceof ValidationError) {
    const titles = { 400: 'Invalid request', 413: 'Request body too large', 415: 'Unsupported media type' };
    const { errors } = error;
    const unlisted = errors.length - MAX_LISTED_ERRORS;
    return {
      problem: {
        type: type(error.status === 400 ? 'validation' : error.status === 413 ? 'too-large' : 'media-type'),
        title: titles[error.status],
        status: error.status,
        detail:
          errors.length === 1
            ? `${errors[0]?.path}: ${errors[0]?.message}`
            : unlisted > 0
              ? `${error.message} The first ${MAX_LISTED_ERRORS} of ${errors.length} problems are listed; ${unlisted} more are not listed.`
              : error.message,
        errors: unlisted > 0 ? errors.slice(0, MAX_LISTED_ERRORS) : errors,
      },
      headers: {},
    };
  }
  if (error instanceof IdempotencyKeyRequiredError) {
    return {
      problem: {
        type: type('idempotency-key-required'),
        title: 'Idempotency-Key required',
        status: 400,
        detail: `${error.message}. Send a key of your own (1 to 255 printable ASCII characters, e.g. a UUID) and reuse it on every retry of this purchase.`,
        errors: [{ path: error.path, message: 'is required for a purchase' }],
      },
      headers: {},
    };
  }
  if (error instanceof OutcomeUnknownError) {
    return {
      problem: {
        type: type('outcome-unknown'),
        title: 'The outcome of the purchase is not known yet',
        status: 502,
        detail: `${error.message} Nothing is ever sent as a new purchase after an unknown outcome; retry after ${error.retryAfterSeconds} s.`,
        ...(error.cartId ? { cartId: error.cartId } : {}),
        ...(error.ids ? { upstream: upstream(error.ids) } : {}),
        retryAfterSeconds: error.retryAfterSeconds,
      },
      headers: { 'Retry-After': String(error.retryAfterSeconds) },
    };
  }
  if (error instanceof AmbiguousAttemptError) {
    // Only a purchase's own loop sees these (exactly-once/); one that escapes is still never a refusal.
    return toProblem(new OutcomeUnknownError(5, `${error.message}.`, error.ids, error));
  }
  if (error instanceof CatalogMismatchError) {
    return {
      problem: {
        type: type('catalog-mismatch'),
        title: "The customer's catalog does not offer this",
        status: 422,
        detail: `${error.message} Nothing was sent to Partner Center.`,
        errors: error.errors,
      },
      headers: {},
    };
  }
  if (error instanceof CatalogUnavailableError) {
    return {
      problem: {
        type: type('catalog-unavailable'),
        title: "The customer's catalog could not be read",
        status: 503,
        detail: `${error.message} The purchase was not checked, so nothing was sent to Partner Center (PREFLIGHT=on); retry with the same key.`,
        retryAfterSeconds: error.retryAfterSeconds,
      },
      headers: { 'Retry-After': String(error.retryAfterSeconds) },
    };
  }
  if (error instanceof OutsideRefundWindowError) {
    const alternative =
      'Schedule the change for renewal instead (POST …/scheduled-changes: a lower quantity, or turn auto-renew off to let the subscription end with its term).';
    return {
      problem: {
        type: type('outside-refund-window'),
        title: 'Outside the refund window',
        status: 422,
        detail: `${error.message} Nothing was sent to Partner Center. ${alternative}`,
        errors: [{ path: error.path, message: error.message }],
        refundWindow: error.window,
        alternative,
      },
      headers: {},
    };
  }
  if (error instanceof SubscriptionStateError) {
    return {
      problem: {
        type: type('subscription-state'),
        title: 'The subscription does not allow this change',
        status: 422,
        detail: `${error.message} Nothing was sent to Partner Center.`,
        errors: error.errors,
      },
      headers: {},
    };
  }
  if (error instanceof PolicyDeniedError) {
    const { denial } = error;
    const by = denial.policies.length > 0 ? ` (policy ${denial.policies.join(', ')})` : '';
    return {
      problem: {
        type: type('policy-denied'),
        title: denial.action === 'Read' ? 'Refused by the read policy' : 'Refused by the purchase policy',
        status: 403,
        detail: `${denial.path}: ${denial.reason}${by}. ${denial.action === 'Read' ? 'Nothing was read' : 'Nothing was sent to Partner Center'}.`,
        errors: [{ path: denial.path, message: `${denial.reason}${by}` }],
        policy: { decision: 'deny', action: denial.action, principal: denial.principal, policies: denial.policies },
      },
      headers: {},
    };
  }
  if (error instanceof PolicyUnavailableError) {
    return {
      problem: {
        type: type('policy-unavailable'),
        title: 'The purchase policy could not be evaluated',
        status: 503,
        detail: `${error.message} Nothing was sent to Partner Center; retry with the same key.`,
        retryAfterSeconds: 5,
      },
      headers: { 'Retry-After': '5' },
    };
  }
  if (error instanceof CheckoutFailedError) {
    return {
      problem: {
        type: type('checkout-failed'),
        title: 'Checkout placed no order',
        status: 422,
        detail: `${error.message} Partner Center's reasons are in orderErrors; the cart stays Active and can be checked out again with a new key once the cause is fixed.`,
        cartId: error.cartId,
        orderErrors: error.orderErrors,
      },
      headers: {},
    };
  }
  if (error instanceof UnauthenticatedError) {
    return {
      problem: {
        type: type('unauthenticated'),
        title: 'Not authenticated',
        status: 401,
        detail: `${error.message} Nothing was read or sent to Partner Center.`,
      },
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    };
  }
  if (error instanceof InsufficientScopeError) {
    return {
      problem: {
        type: type('insufficient-scope'),
        title: 'Scope missing',
        status: 403,
        detail: `${error.message} Nothing was read or sent to Partner Center.`,
      },
      headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${error.scope}"` },
    };
  }
  if (error instanceof AuthenticationUnavailableError) {
    return {
      problem: {
        type: type('authentication-unavailable'),
        title: 'The token could not be verified',
        status: 503,
        detail: `${error.message}. Nothing was read or sent to Partner Center; retry later.`,
        retryAfterSeconds: 5,
      },
      headers: { 'Retry-After': '5' },
    };
  }
  if (error instanceof WrongEntryPointError) {
    return {
      problem: {
        type: type('wrong-entry-point'),
        title: 'Not an entry point of this function',
        status: 400,
        detail: `${error.message} Nothing was read or sent to Partner Center.`,
      },
      headers: {},
    };
  }
  if (error instanceof RouteNotFoundError) {
    const status = error.allowed.length > 0 ? 405 : 404;
    return {
      problem: {
        type: type(status === 405 ? 'method-not-allowed' : 'not-found'),
        title: status === 405 ? 'Method not allowed' : 'Not found',
        status,
        detail: error.message,
      },
      headers: status === 405 ? { Allow: error.allowed.join(', ') } : {},
    };
  }
  if (error instanceof PossibleDuplicateError) {
    const { earlier } = error;
    return {
      problem: {
        type: type('possible-duplicate'),
        title: 'Possible duplicate purchase',
        status: 409,
        detail: `${error.message} Nothing was sent to Partner Center. If this is a second purchase on purpose, send the same request again with ${error.path.startsWith('/headers/') ? 'Allow-Duplicate: true' : 'allowDuplicate: true'}.`,
        errors: [{ path: error.path, message: 'is required to buy the same lines again within the duplicate window' }],
        earlier: {
          idempotencyKey: earlier.idempotencyKey,
          caller: earlier.caller,
          orderIds: earlier.orderIds,
          at: new Date(earlier.at).toISOString(),
        },
      },
      headers: {},
    };
  }
  if (error instanceof CustomerNotFoundError) {
    return {
      problem: {
        type: type('customer-not-found'),
        title: 'Customer not found',
        status: 404,
        detail: `${error.path}: ${error.message} Nothing was purchased.`,
        errors: [{ path: error.path, message: error.message }],
        ...(error.upstream
          ? {
              upstream: upstream(
                error.upstream.ids,
                error.upstream.status,
                error.upstream.code,
                error.upstream.description,
              ),
            }
          : {}),
      },
      headers: {},
    };
  }
  // A read route's customer is in its path; the purchase entry points name theirs (customers/guard.ts).
  if (isCustomerRefusal(error)) {
    return toProblem(new CustomerNotFoundError('/path/customerId', error as PartnerCenterError));
  }
  if (error instanceof PartnerCenterError) return fromPartnerCenter(error);
  if (error instanceof UpstreamUnavailableError) {
    return {
      problem: {
        type: type(error.timedOut ? 'upstream-timeout' : 'upstream-unreachable'),
        title: error.timedOut ? 'Partner Center did not answer in time' : 'Partner Center could not be reached',
        status: error.timedOut ? 504 : 502,
        detail: `${error.message}. The outcome is unknown: retry with the same Idempotency-Key, which reuses the same MS-RequestId.`,
        upstream: upstream(error.ids),
      },
      headers: {},
    };
  }
  if (error instanceof DeadlineExceededError) {
    return {
      problem: {
        type: type('upstream-timeout'),
        title: 'The request did not finish in time',
        status: 504,
        detail:
          'Partner Center or AWS did not answer within the time limit. The outcome is unknown: retry with the same Idempotency-Key, which reuses the same MS-RequestId.',
      },
      headers: {},
    };
  }
  if (error instanceof UpstreamProtocolError) {
    return {
      problem: {
        type: type('upstream-protocol'),
        title: 'Partner Center answered with an unexpected body',
        status: 502,
        detail: `${error.message} The purchase may have been placed: check the customer's orders before buying again.`,
        upstream: upstream(error.ids, error.status),
      },
      headers: {},
    };
  }
  if (error instanceof CredentialsError) {
    return {
      problem: {
        type: type('credentials'),
        title: error.unavailable
          ? 'Partner Center credentials are unavailable'
          : 'Partner Center credentials were refused',
        status: error.unavailable ? 503 : 502,
        detail: error.message,
      },
      headers: error.unavailable ? { 'Retry-After': '5' } : {},
    };
  }
  if (error instanceof IdempotencyConflictError) {
    const inProgress = error.reason === 'in-progress';
    return {
      problem: {
        type: type(inProgress ? 'idempotency-in-progress' : 'idempotency-mismatch'),
        title: inProgress ? 'Request in progress' : 'Idempotency-Key reused',
        status: inProgress ? 409 : 422,
        detail: inProgress
          ? `${error.message} Retry with the same key after it finishes to get its result.`
          : `${error.message} Use a new key for a new request.`,
      },
      headers: inProgress ? { 'Retry-After': '2' } : {},
    };
  }
  if (error instanceof IdempotencyStoreError) {
    return {
      problem: {
        type: type('idempotency-unavailable'),
        title: 'Idempotency store unavailable',
        status: 503,
        detail: 'The request could not be recorded, so nothing was sent to Partner Center. Retry with the same key.',
      },
      headers: { 'Retry-After': '5' },
    };
  }
  if (error instanceof CheckoutAfterCartError) {
    const inner = toProblem(error.cause);
    const { status } = inner.problem;
    const refused = status < 500 && status !== 409 && status !== 429;
    // One instruction: with a key the cart is on record under it, and a retry with the key resumes at its checkout.
    const instruction = refused
      ? inner.problem.detail
      : error.resumable
        ? `${inner.problem.title}. Retry with the same Idempotency-Key: it checks out cart ${error.cartId} and creates no other cart.`
        : `${inner.problem.title}. Retry with POST /customers/{customerId}/carts/${error.cartId}/checkout.`;
    return {
      problem: {
        ...inner.problem,
        detail: `Cart ${error.cartId} was created, but its checkout did not complete: ${instruction}`,
        cartId: error.cartId,
      },
      headers: inner.headers,
    };
  }
  return {
    problem: {
      type: type('internal'),
      title: 'Internal error',
      status: 500,
      detail: 'An unexpected error occurred. It has been logged with the correlation id.',
    },
    headers: {},
  };
}
