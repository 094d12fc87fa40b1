// A purchase as one cart: created once and recorded under the key before anything else, then checked out until
// Partner Center answers (checkout-once.ts). A cart already on record under the key is never created again. A lost
// create-cart answer can leave an extra Active cart behind (carts cannot be listed, and without MS-RequestId
// deduplication the retry creates another): it is never checked out, and Partner Center expires it after 7 days.
import { CheckoutFailedError, PartnerCenterError } from '../errors.js';
import { type CartBody, createCartRequest } from '../partner-center/carts.js';
import type { ServiceContext } from '../purchase/model.js';
import { Cart, type CartCheckoutResult } from '../schemas/carts.js';
import { sendFor } from '../services/context.js';
import { checkoutOnce, checkoutRequestId, type SendingOnRecord } from './checkout-once.js';
import type { RecordedCart } from './records.js';

export interface PlacedCart {
  cart: RecordedCart;
  /** What the checkout placed: `partial: true` when some order groups failed. */
  checkout: CartCheckoutResult & { partial?: true };
  reconciled: boolean;
}

/** A cart to check out next, and whether its first checkout is already on record as being sent. */
export interface CartToCheckOut {
  cart: RecordedCart;
  /** Set when the cart was recorded with its first checkout's `sending` (one write): what that write found. */
  sending?: SendingOnRecord;
}

/**
 * The cart on record under the key, or a new one, recorded together with its first checkout's `sending` in one
 * journal write (the checkout is sent next): on record before the checkout, as always.
 */
export async function recordedCart(ctx: ServiceContext, customerId: string, body: CartBody): Promise<CartToCheckOut> {
  const journal = ctx.exactlyOnce?.journal;
  const recorded = (await journal?.read())?.cart;
  if (recorded) return { cart: recorded };
  // The key's pointer goes out beside the cart's creation; the journal's first write waits for it (records.ts).
  journal?.pointKey?.().catch(() => undefined);
  const created = await createCart(ctx, customerId, body);
  if (!journal) return { cart: created };
  const at = (ctx.exactlyOnce?.now ?? Date.now)();
  // Creating the cart used up the deadline: no checkout will leave (the client gives up before its first attempt),
  // so the cart alone goes on record, not "may be placed": a retry checks it out and is judged as not yet sent.
  if (at >= ctx.deadline) return { cart: await journal.recordCart(created) };
  const cart = await journal.recordCartSending(created, checkoutRequestId(ctx), at);
  // The cart this request just created cannot have been checked out by anyone before this write; a cart another
  // request recorded first, or one whose checkout was on record before, may have been.
  const firstSentAt = (await journal.read()).firstSentAt;
  return { cart, sending: { mayHavePlaced: cart.id !== created.id || firstSentAt !== at } };
}

/**
 * A new cart of `body`'s lines (buys nothing). When Partner Center refuses it, nothing can be placed, and the key's
 * journal says so: GET /purchases/{key} then shows the refusal stored under the key (nothing else writes the journal).
 */
async function createCart(ctx: ServiceContext, customerId: string, body: CartBody): Promise<RecordedCart> {
  try {
    return (await sendFor(ctx, 'create-cart', createCartRequest(customerId, body), Cart, 'a cart')) as RecordedCart;
  } catch (error) {
    if (error instanceof PartnerCenterError && error.status < 500 && error.status !== 429) {
      await ctx.exactlyOnce?.journal?.refused().catch(() => undefined);
    }
    throw error;
  }
}

/**
 * A purchase of `body` as one cart: the cart on record under the key (or a new one), checked out. A recorded cart that
 * is gone when it is checked out (Partner Center expires carts 7 days after their creation: a DLQ redrive, a retry
 * after a week) and that no checkout can have placed (the journal says `no`: throttled, refused, or the reconciler saw
 * it Active) is replaced once by a new cart of the same lines; one that may have been placed never is.
 */
export async function placePurchase(
  ctx: ServiceContext,
  customerId: string,
  body: CartBody,
  toCheckOut?: CartToCheckOut,
): Promise<PlacedCart> {
  const { cart, sending } = toCheckOut ?? (await recordedCart(ctx, customerId, body));
  try {
    return await placeCart(ctx, customerId, cart, sending);
  } catch (error) {
    const journal = ctx.exactlyOnce?.journal;
    const gone = error instanceof PartnerCenterError && error.status === 404;
    if (!journal || !gone || (await journal.read()).placed !== 'no') throw error;
    return placeCart(ctx, customerId, await journal.replaceCart(cart, await createCart(ctx, customerId, body)));
  }
}

/**
 * Checks out the recorded cart. A result in which every order group failed bought nothing and is a refusal (422
 * checkout-failed), not a success; one in which some failed is a success marked `partial: true`.
 */
export async function placeCart(
  ctx: ServiceContext,
  customerId: string,
  cart: RecordedCart,
  sending?: SendingOnRecord,
): Promise<PlacedCart> {
  const { result, reconciled } = await checkoutOnce(ctx, customerId, cart.id, sending);
  const orders = result.orders ?? [];
  const orderErrors = result.orderErrors ?? [];
  if (orders.length === 0) throw new CheckoutFailedError(cart.id, orderErrors);
  return { cart, checkout: orderErrors.length > 0 ? { ...result, partial: true } : result, reconciled };
}
