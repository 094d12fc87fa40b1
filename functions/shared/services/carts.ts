// Carts: create (`POST …/carts`), then check out (`POST …/carts/{cartId}/checkout`), which is what places the
// orders. Checkout is idempotent per cart id, so a cart that was created but not checked out is safe to retry.
import type { Command } from '../commands.js';
import { CheckoutAfterCartError, CheckoutFailedError } from '../errors.js';
import { placeOnce } from '../exactly-once/place-once.js';
import { findCheckout } from '../exactly-once/reconcile.js';
import type { PartnerCenterRequest } from '../partner-center/client.js';
import { Cart, CartCheckoutResult, type CreateCartRequest } from '../schemas/carts.js';
import { dryRun, type ServiceContext, type ServiceResult, segment, sendFor } from './context.js';

const cartsPath = (customerId: string) => `/v1/customers/${segment(customerId)}/carts`;

export function createCartRequest(customerId: string, cart: CreateCartRequest): PartnerCenterRequest {
  return {
    method: 'POST',
    path: cartsPath(customerId),
    body: {
      ...(cart.partnerOnRecordAttestationAccepted === undefined
        ? {}
        : { partnerOnRecordAttestationAccepted: cart.partnerOnRecordAttestationAccepted }),
      lineItems: cart.lineItems.map((line, index) => ({ ...line, id: line.id ?? index })),
    },
  };
}

const cartPath = (customerId: string, cartId: string) => `${cartsPath(customerId)}/${segment(cartId)}`;

/**
 * Documented with no body (`Content-Length: 0`); the .NET SDK's `"success"` string is not needed. A dry run of cart +
 * checkout shows the placeholder `{cartId}` as it is, not percent-encoded.
 */
export function checkoutRequest(customerId: string, cartId: string, encode = true): PartnerCenterRequest {
  return { method: 'POST', path: `${cartsPath(customerId)}/${encode ? segment(cartId) : cartId}/checkout` };
}

/**
 * Submit-PartnerCustomerCart, placed once: an earlier attempt whose answer was lost is looked for (the cart read
 * back, and when it is Ordered its orders) before the checkout is sent again. A result in which every order group
 * failed bought nothing and is a refusal (422 checkout-failed), not a success; one in which some failed is a success
 * marked `partial: true`.
 */
async function placeCheckout(ctx: ServiceContext, customerId: string, cartId: string, cart: Cart | undefined) {
  const claim = (id: string) => ctx.exactlyOnce?.records.claim(customerId, id) ?? Promise.resolve(true);
  const placed = await placeOnce(ctx, {
    step: 'checkout',
    request: checkoutRequest(customerId, cartId),
    schema: CartCheckoutResult,
    what: 'a checkout result',
    customerId,
    find: (since) => findCheckout(ctx, customerId, cartId, since, claim, cart),
    claims: (result) => (result.orders ?? []).map((order) => order.id),
    // A 2xx that names neither an order nor a failed group says nothing about what was placed: read the cart back.
    accept: (result) => (result.orders ?? []).length > 0 || (result.orderErrors ?? []).length > 0,
  });
  const orders = placed.value.orders ?? [];
  const orderErrors = placed.value.orderErrors ?? [];
  if (orders.length === 0) throw new CheckoutFailedError(cartId, orderErrors);
  return {
    checkout: orderErrors.length > 0 ? { ...placed.value, partial: true } : placed.value,
    reconciled: placed.reconciled,
  };
}

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
  const journal = checkout ? ctx.exactlyOnce?.records.journal : undefined;
  const recorded = (await journal?.read())?.cart;
  const cart = recorded === undefined ? await sendFor(ctx, 'create-cart', create, Cart, 'a cart') : (recorded as Cart);
  if (!checkout) return { status: 201, body: cart };
  // Resumable only once the cart is on record: a retry with the key then checks it out; before, it makes a new one.
  let resumable = recorded !== undefined;
  try {
    if (journal && recorded === undefined) {
      await journal.keep({ cart });
      resumable = true;
    }
    const { checkout: result, reconciled } = await placeCheckout(ctx, input.customerId, cart.id, cart);
    // A cart from which an order was placed is Ordered (the cart resource's documented states): the cart as created
    // said Active, which next to a successful checkout was wrong.
    return { status: 201, body: { cart: { ...cart, status: 'Ordered' }, checkout: result }, reconciled };
  } catch (error) {
    if (error instanceof CheckoutFailedError) throw error;
    throw new CheckoutAfterCartError(cart.id, error, resumable);
  }
}

/** Submit-PartnerCustomerCart. 200 with the CartCheckoutResult (`partial: true` when some order groups failed). */
export async function checkoutCart(
  ctx: ServiceContext,
  input: { customerId: string; cartId: string },
): Promise<ServiceResult> {
  if (ctx.dryRun) return dryRun(ctx, [['checkout', checkoutRequest(input.customerId, input.cartId)]]);
  const journal = ctx.exactlyOnce?.records.journal;
  // The cart before the first attempt, so that a checkout whose answer was lost can still be looked for after the
  // cart itself can no longer be read. A cart that cannot be read now is refused as Partner Center refuses it.
  let cart = (await journal?.read())?.before as Cart | undefined;
  if (journal && cart === undefined) {
    cart = await sendFor(
      ctx,
      'read-cart',
      { method: 'GET', path: cartPath(input.customerId, input.cartId) },
      Cart,
      'a cart',
    );
    await journal.keep({ before: cart });
  }
  const { checkout, reconciled } = await placeCheckout(ctx, input.customerId, input.cartId, cart);
  return { status: 200, body: checkout, reconciled };
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
