// The cart requests every purchase is made of (New-PartnerCustomerCart, Get-, Submit-PartnerCustomerCart): create
// (`POST …/carts`), read (`GET …/carts/{cartId}`) and check out (`POST …/carts/{cartId}/checkout`). Only fields a
// caller may set are ever sent.
import type { CartLineItemInput } from '../schemas/carts.js';
import type { PartnerCenterRequest } from './client.js';

/** Path segments are validated before they get here; encoding is the second line of defence. */
export const segment = encodeURIComponent;

export const cartsPath = (customerId: string) => `/v1/customers/${segment(customerId)}/carts`;
const cartPath = (customerId: string, cartId: string) => `${cartsPath(customerId)}/${segment(cartId)}`;

/** A cart's body: its lines (numbered 0..n-1 unless the caller numbered them) and the attestation. */
export interface CartBody {
  lineItems: (Omit<CartLineItemInput, 'id'> & { id?: number })[];
  partnerOnRecordAttestationAccepted?: boolean;
}

export function createCartRequest(customerId: string, cart: CartBody): PartnerCenterRequest {
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

export const readCartRequest = (customerId: string, cartId: string): PartnerCenterRequest => ({
  method: 'GET',
  path: cartPath(customerId, cartId),
});

/**
 * Documented with no body (`Content-Length: 0`); the .NET SDK's `"success"` string is not needed. A dry run shows the
 * placeholder `{cartId}` of a cart not created yet as it is, not percent-encoded.
 */
export function checkoutRequest(customerId: string, cartId: string, encode = true): PartnerCenterRequest {
  return { method: 'POST', path: `${cartsPath(customerId)}/${encode ? segment(cartId) : cartId}/checkout` };
}
