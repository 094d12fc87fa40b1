// Carts: New-PartnerCustomerCart (`POST …/carts`), optionally followed by Submit-PartnerCustomerCart in the same
// call, and a checkout of a cart by id. Checkout is what places the orders, and it is idempotent per cart id: a keyed
// purchase is its cart on record under the key, checked out until Partner Center answers (exactly-once/).
import { CheckoutAfterCartError, CheckoutFailedError } from '../errors.js';
import { placeCart, placePurchase, recordedCart } from '../exactly-once/one-cart.js';
import { checkoutRequest, createCartRequest } from '../partner-center/carts.js';
import type { PartnerCenterRequest } from '../partner-center/client.js';
import type { Command, ServiceContext, ServiceResult } from '../purchase/model.js';
import { Cart, type CreateCartRequest } from '../schemas/carts.js';
import { dryRun, sendFor } from './context.js';

export { checkoutRequest, createCartRequest } from '../partner-center/carts.js';

/**
 * New-PartnerCustomerCart, optionally followed by Submit-PartnerCustomerCart. 201 with the Cart, or with
 * `{ cart, checkout }` when checked out. With an idempotency key the created cart is on record before its checkout,
 * so a retry with the key checks out that cart and never creates a second one.
 */
export async function createCart(
  ctx: ServiceContext,
  input: { customerId: string; cart: CreateCartRequest },
): Promise<ServiceResult> {
  const { checkout, ...cartFields } = input.cart;
  const create = createCartRequest(input.customerId, cartFields);
  if (ctx.dryRun) {
    const steps: [string, PartnerCenterRequest][] = [['create-cart', create]];
    if (checkout) steps.push(['checkout', checkoutRequest(input.customerId, '{cartId}', false)]);
    return dryRun(ctx, steps);
  }
  // A cart alone buys nothing: it is created as asked, and a retry creates another.
  if (!checkout) return { status: 201, body: await sendFor(ctx, 'create-cart', create, Cart, 'a cart') };
  const toCheckOut = await recordedCart(ctx, input.customerId, cartFields);
  try {
    const placed = await placePurchase(ctx, input.customerId, cartFields, toCheckOut);
    // A cart from which an order was placed is Ordered (the cart resource's documented states): the cart as created
    // said Active, which next to a successful checkout was wrong.
    return {
      status: 201,
      body: { cart: { ...placed.cart, status: 'Ordered' }, checkout: placed.checkout },
      reconciled: placed.reconciled,
    };
  } catch (error) {
    if (error instanceof CheckoutFailedError) throw error;
    // The cart on record now (a gone cart may have been replaced): the one a retry with the key checks out.
    const onRecord = (await ctx.exactlyOnce?.journal?.read().catch(() => undefined))?.cart ?? toCheckOut.cart;
    throw new CheckoutAfterCartError(onRecord.id, error, ctx.exactlyOnce?.journal !== undefined);
  }
}

/** Submit-PartnerCustomerCart. 200 with the CartCheckoutResult (`partial: true` when some order groups failed). */
export async function checkoutCart(
  ctx: ServiceContext,
  input: { customerId: string; cartId: string },
): Promise<ServiceResult> {
  if (ctx.dryRun) return dryRun(ctx, [['checkout', checkoutRequest(input.customerId, input.cartId)]]);
  const placed = await placeCart(ctx, input.customerId, { id: input.cartId });
  return { status: 200, body: placed.checkout, reconciled: placed.reconciled };
}

export const createCartCommand = (customerId: string, cart: CreateCartRequest): Command => ({
  operation: 'createCart',
  customerId,
  input: cart,
  run: (ctx) => createCart(ctx, { customerId, cart }),
});

export const checkoutCommand = (customerId: string, cartId: string): Command => ({
  operation: 'checkoutCart',
  customerId,
  input: { cartId },
  run: (ctx) => checkoutCart(ctx, { customerId, cartId }),
});
