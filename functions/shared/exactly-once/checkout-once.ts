// Every keyed purchase is one cart, recorded under its key, checked out as often as it takes. Partner Center
// documents checkout as idempotent per cart ("Partners can call the CheckoutCart API multiple times for one cart ID
// … the API response will reiterate the information returned after initial checkout"), so after an unknown outcome
// — no answer, a 5xx, an unreadable 2xx — nothing is ever sent as a new purchase: the same cart is checked out again,
// at once within the request while its deadline allows, and by every later retry, redelivery or the reconciler.
// Nothing here reads Partner Center's orders list (it may lag an order by up to 15 minutes), compares clocks or
// relies on MS-RequestId deduplication.
import {
  AmbiguousAttemptError,
  OutcomeUnknownError,
  PartnerCenterError,
  type UpstreamIds,
  UpstreamProtocolError,
} from '../errors.js';
import { logger } from '../log.js';
import { checkoutRequest, readCartRequest } from '../partner-center/carts.js';
import { afterAnswer, type ServiceContext } from '../purchase/model.js';
import { Cart, CartCheckoutResult } from '../schemas/carts.js';
import { callOptions, sendFor } from '../services/context.js';

export interface CheckedOut {
  result: CartCheckoutResult;
  /** An earlier checkout of this cart may have placed it (its answer was lost): this is Partner Center's reiteration. */
  reconciled: boolean;
}

/** "Cannot check out an already submitted cart" (older behaviour for a second checkout of an Ordered cart). */
const ALREADY_SUBMITTED = '800065';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const DEFAULT_ATTEMPTS = 4;

/** The MS-RequestId of every checkout of a keyed purchase (the same on every retry with its key). */
export const checkoutRequestId = (ctx: ServiceContext) => callOptions(ctx, 'checkout').requestId ?? '';

/** The first checkout is on record as being sent already (recorded with the cart: one-cart.ts). */
export interface SendingOnRecord {
  /** Whether a checkout of the cart before this request's may have placed it. */
  mayHavePlaced: boolean;
}

/**
 * Checks out `cartId` until Partner Center says what it placed. Only a refusal of a cart that no checkout can have
 * placed is a refusal (the journal then says `no`, and a retry is judged anew); after one that may have placed it,
 * every failure is "outcome unknown, retry with the same key", which checks out the same cart again.
 */
export async function checkoutOnce(
  ctx: ServiceContext,
  customerId: string,
  cartId: string,
  sending?: SendingOnRecord,
): Promise<CheckedOut> {
  const request = checkoutRequest(customerId, cartId);
  const guard = ctx.exactlyOnce;
  const journal = guard?.journal;
  const now = guard?.now ?? Date.now;
  const pause = guard?.sleep ?? sleep;
  const requestId = checkoutRequestId(ctx);
  // Whether any checkout of this cart, in an earlier request or this one, may have placed it.
  let mayHavePlaced = sending ? sending.mayHavePlaced : (await journal?.read())?.placed === 'maybe';
  // "May be placed" is on record before every attempt; the first one's already, when it was written with the cart.
  let onRecord = sending !== undefined && journal !== undefined;
  const beforeAttempt = async () => {
    if (onRecord) {
      onRecord = false;
      return;
    }
    await journal?.sending(requestId, now());
  };
  // With a key, a retry checks the recorded cart out again. Without one nothing is on record: a retry of the request
  // would be a new purchase, so the one safe next step is to check this cart out by its id.
  const next = journal
    ? `Cart ${cartId} is on record under this key: a retry with the same key checks out that cart again, which places it at most once.`
    : `No idempotency key was given, so a retry of this request would create another cart and could buy twice: check out cart ${cartId} itself (POST /customers/{customerId}/carts/${cartId}/checkout), which places it at most once.`;
  const unknown = (detail: string, retryAfterSeconds: number, ids?: UpstreamIds, cause?: unknown) =>
    new OutcomeUnknownError(retryAfterSeconds, `${detail} ${next}`, ids, cause, cartId);

  for (let round = 1; ; round++) {
    try {
      const result = await sendFor(ctx, 'checkout', request, CartCheckoutResult, 'a checkout result', {
        beforeAttempt,
      });
      // A 2xx that names neither an order nor a failed group says nothing about what was placed: check out again.
      if ((result.orders ?? []).length === 0 && (result.orderErrors ?? []).length === 0) {
        throw new UpstreamProtocolError(
          { requestId, correlationId: ctx.correlationId },
          200,
          'Partner Center answered the checkout without saying what it placed.',
        );
      }
      // Every order group failed: the cart placed nothing (it stays Active), which the journal says as a refusal.
      if ((result.orders ?? []).length === 0) await journal?.refused().catch(logStoreError);
      // Placed: out of the unresolved index beside the outcome's own write (a crash between the two leaves it to the
      // reconciler, which finds the outcome stored: `settled`).
      else if (journal) await afterAnswer(ctx, journal.settled().catch(logStoreError));
      if (mayHavePlaced) logger.warn('checkout answered after an earlier checkout of the cart was lost', { cartId });
      return { result, reconciled: mayHavePlaced };
    } catch (error) {
      const ambiguous = error instanceof AmbiguousAttemptError || error instanceof UpstreamProtocolError;
      // "Cart … is being processed by another request" (800064): a checkout of it is running.
      const busy = error instanceof PartnerCenterError && error.status === 409;
      if (ambiguous || busy) {
        mayHavePlaced = true;
        const wait = (guard?.retryDelayMs ?? 500) * 3 ** Math.min(round - 1, 4) * (0.5 + Math.random() / 2);
        if (round < (guard?.maxAttempts ?? DEFAULT_ATTEMPTS) && now() + wait < ctx.deadline) {
          logger.warn('checkout outcome unknown; the same cart is checked out again', {
            reason: busy
              ? 'cart being processed'
              : error instanceof AmbiguousAttemptError
                ? error.reason
                : 'unreadable',
            round,
          });
          await pause(wait);
          continue;
        }
        throw unknown('The checkout was sent and its outcome is not known yet.', 5, idsOf(error), error);
      }
      if (error instanceof PartnerCenterError) {
        if (!mayHavePlaced) {
          // Refused (throttled, or the cart refused) and no checkout can have placed it: nothing was bought.
          await journal?.refused().catch(logStoreError);
          throw error;
        }
        if (error.status === 429) {
          throw unknown(
            'Partner Center is throttling, and an earlier checkout may have placed the purchase.',
            error.retryAfterSeconds ?? 5,
            error.ids,
            error,
          );
        }
        return refusedAfterUnknown(ctx, customerId, cartId, error, journal, unknown);
      }
      if (mayHavePlaced)
        throw unknown('The checkout was sent and its outcome is not known yet.', 5, idsOf(error), error);
      throw error;
    }
  }
}

/**
 * A refusal after a checkout that may have placed the cart: the cart says which. Active, nothing was placed and the
 * refusal stands. Ordered, an earlier checkout placed it and Partner Center did not repeat its result (older
 * behaviour: 400 800065 "Cannot check out an already submitted cart"): the outcome stays unknown for a person.
 */
async function refusedAfterUnknown(
  ctx: ServiceContext,
  customerId: string,
  cartId: string,
  refusal: PartnerCenterError,
  journal: NonNullable<ServiceContext['exactlyOnce']>['journal'],
  unknown: (detail: string, retryAfterSeconds: number, ids?: UpstreamIds, cause?: unknown) => OutcomeUnknownError,
): Promise<never> {
  let cart: Cart;
  try {
    cart = await sendFor(ctx, 'read-cart', readCartRequest(customerId, cartId), Cart, 'a cart');
  } catch (error) {
    throw unknown(
      `Partner Center refused the checkout (${refusal.status}) after one whose answer was lost, and the cart could not be read.`,
      60,
      refusal.ids,
      error,
    );
  }
  // 800065 says the cart was submitted, whatever a cart read a moment later says.
  if (same(cart.status, 'Active') && String(refusal.code) !== ALREADY_SUBMITTED) {
    await journal?.refused().catch(logStoreError);
    throw refusal;
  }
  throw unknown(
    `Cart ${cartId} is ${cart.status ?? 'not Active'}: an earlier checkout placed it, and Partner Center refused to repeat its result (${refusal.code ?? refusal.status}). A person must look (the reconciler reports it).`,
    300,
    refusal.ids,
    refusal,
  );
}

const same = (a: string | undefined, b: string) => a?.toLowerCase() === b.toLowerCase();
const idsOf = (error: unknown) => (error as { ids?: UpstreamIds }).ids;

function logStoreError(error: unknown) {
  logger.error('purchase record not updated', { storeError: (error as Error)?.name });
}
