// Carts: create (`POST …/carts`), then check out (`POST …/carts/{cartId}/checkout`), which is what places the
// orders. Checkout is idempotent per cart id, so a cart that was created but not checked out is safe to retry.
import type { Command } from '../commands.js';
import { CheckoutAfterCartError } from '../errors.js';
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

/** Documented with no body (`Content-Length: 0`); the .NET SDK's `"success"` string is not needed. */
export function checkoutRequest(customerId: string, cartId: string): PartnerCenterRequest {
  return { method: 'POST', path: `${cartsPath(customerId)}/${segment(cartId)}/checkout` };
}

async function sendCheckout(ctx: ServiceContext, customerId: string, cartId: string) {
  return sendFor(ctx, 'checkout', checkoutRequest(customerId, cartId), CartCheckoutResult, 'a checkout result');
}

/**
 * New-PartnerCustomerCart, optionally followed by Submit-PartnerCustomerCart. 201 with the Cart, or with
 * `{ cart, checkout }` when checked out. A checkout result with `orderErrors` is returned as it is: some order
 * groups may have been placed and others not, and the caller must see both.
 */
export async function createCart(
  ctx: ServiceContext,
  input: { customerId: string; cart: CreateCartRequest },
): Promise<ServiceResult> {
  const { checkout, ...cartFields } = input.cart;
  const create = createCartRequest(input.customerId, cartFields);
  if (ctx.dryRun) {
    const steps: [string, PartnerCenterRequest][] = [['create-cart', create]];
    if (checkout) steps.push(['checkout', checkoutRequest(input.customerId, '{cartId}')]);
    return dryRun(ctx, steps);
  }
  const cart = await sendFor(ctx, 'create-cart', create, Cart, 'a cart');
  if (!checkout) return { status: 201, body: cart };
  try {
    return { status: 201, body: { cart, checkout: await sendCheckout(ctx, input.customerId, cart.id) } };
  } catch (error) {
    throw new CheckoutAfterCartError(cart.id, error);
  }
}

/** Submit-PartnerCustomerCart. 200 with the CartCheckoutResult (partial failures included). */
export async function checkoutCart(
  ctx: ServiceContext,
  input: { customerId: string; cartId: string },
): Promise<ServiceResult> {
  if (ctx.dryRun) return dryRun(ctx, [['checkout', checkoutRequest(input.customerId, input.cartId)]]);
  return { status: 200, body: await sendCheckout(ctx, input.customerId, input.cartId) };
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
