// What became of a keyed purchase whose checkout answer was lost and whose caller stopped retrying, found without
// buying anything (the scheduled reconciler): its recorded cart is read, and only an Ordered cart is checked out
// again, which Partner Center documents to repeat the first checkout's result and place nothing. An Active cart is
// never checked out here: the caller was told "outcome unknown" and may have given up, so nothing is bought for it
// behind its back.
import { PartnerCenterError } from '../errors.js';
import { checkoutRequest, readCartRequest } from '../partner-center/carts.js';
import type { ServiceContext } from '../purchase/model.js';
import { Cart, CartCheckoutResult } from '../schemas/carts.js';
import { sendFor } from '../services/context.js';

export type CartOutcome =
  | { state: 'placed'; result: CartCheckoutResult }
  | { state: 'not-placed'; cart: Cart }
  | { state: 'unreadable'; detail: string };

export async function resolveCart(ctx: ServiceContext, customerId: string, cartId: string): Promise<CartOutcome> {
  let cart: Cart;
  try {
    cart = await sendFor(ctx, 'reconcile-cart', readCartRequest(customerId, cartId), Cart, 'a cart');
  } catch (error) {
    if (!(error instanceof PartnerCenterError) || error.status >= 500 || error.status === 429) throw error;
    return { state: 'unreadable', detail: `Cart ${cartId} can no longer be read (${error.status}${codeOf(error)}).` };
  }
  if (cart.status?.toLowerCase() !== 'ordered') return { state: 'not-placed', cart };
  let result: CartCheckoutResult;
  try {
    result = await sendFor(
      ctx,
      'reconcile-checkout',
      checkoutRequest(customerId, cartId),
      CartCheckoutResult,
      'a checkout result',
    );
  } catch (error) {
    if (!(error instanceof PartnerCenterError) || error.status >= 500 || error.status === 429) throw error;
    return {
      state: 'unreadable',
      detail: `Cart ${cartId} is Ordered, and Partner Center refused to repeat its checkout result (${error.status}${codeOf(error)}).`,
    };
  }
  if ((result.orders ?? []).length === 0) {
    return {
      state: 'unreadable',
      detail: `Cart ${cartId} is Ordered, and its checkout result, asked again, names no order.`,
    };
  }
  return { state: 'placed', result };
}

const codeOf = (error: PartnerCenterError) => (error.code ? ` ${error.code}` : '');
