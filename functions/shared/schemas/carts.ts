// Payloads of the cart routes (the PowerShell `New-PartnerCustomerCart` / `Submit-PartnerCustomerCart`) and the
// lenient Cart and CartCheckoutResult models that Partner Center answers with.
import * as z from 'zod/mini';
import {
  billingCycle,
  checkLineNumbers,
  MAX_LINE_ITEMS,
  MAX_QUANTITY,
  mpnId,
  normalisedEnum,
  provisioningContext,
  termDuration,
  text,
} from './common.js';
import { cartId, customerId } from './ids.js';
import { Order } from './orders.js';

/** NCE catalog ids `productId:skuId:availabilityId`, legacy offer GUIDs or ids like `MS-AZR-0145P`. */
export const catalogItemId = z.string().check(
  z.regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}(?::[A-Za-z0-9-]{1,64}){0,2}$/, {
    error: 'must be a catalog item id such as productId:skuId:availabilityId',
  }),
);

export const PARTICIPANT_TYPES = [
  'transaction_reseller',
  'consumption_reseller',
  'additional_transaction_reseller',
] as const;

export const CartLineItemInput = z.strictObject({
  catalogItemId,
  quantity: z.int().check(z.gte(1), z.lte(MAX_QUANTITY)),
  billingCycle,
  id: z.optional(z.int().check(z.gte(0), z.lt(MAX_LINE_ITEMS))),
  friendlyName: z.optional(text(256)),
  termDuration: z.optional(termDuration),
  provisioningContext: z.optional(provisioningContext),
  participants: z.optional(
    z.array(z.strictObject({ key: normalisedEnum(PARTICIPANT_TYPES), value: mpnId })).check(z.maxLength(10)),
  ),
  renewsTo: z.optional(z.strictObject({ termDuration })),
});
export type CartLineItemInput = z.infer<typeof CartLineItemInput>;

const cartFields = {
  lineItems: z.array(CartLineItemInput).check(z.minLength(1), z.maxLength(MAX_LINE_ITEMS)),
  checkout: z.optional(z.boolean()),
  partnerOnRecordAttestationAccepted: z.optional(z.boolean()),
};

const uniqueLineIds = z.superRefine((cart: { lineItems: CartLineItemInput[] }, ctx) => {
  const problem = checkLineNumbers(
    cart.lineItems.map((line) => line.id),
    'id',
  );
  if (problem) ctx.issues.push({ code: 'custom', message: problem, input: cart.lineItems, path: ['lineItems'] });
});

/** `POST /customers/{customerId}/carts`: a cart, checked out in the same call when `checkout` is true. */
export const CreateCartRequest = z.strictObject(cartFields).check(uniqueLineIds);
export type CreateCartRequest = z.infer<typeof CreateCartRequest>;

/** The same cart as one flat payload, for events (`CreateCart` detail) and direct invocation. */
export const CartCommandPayload = z.strictObject({ customerId, ...cartFields }).check(uniqueLineIds);

/** Direct invocation of a checkout: the cart to check out. */
export const CheckoutCommandPayload = z.strictObject({ customerId, cartId });

/** `POST /customers/{customerId}/carts/{cartId}/checkout` takes no options: an empty body or `{}`. */
export const CheckoutRequest = z.strictObject({});

const cartError = z.looseObject({
  errorCode: z.optional(z.union([z.number(), z.string()])),
  errorDescription: z.optional(z.nullable(z.string())),
});

export const CartLineItem = z.looseObject({
  id: z.optional(z.union([z.number(), z.string()])),
  catalogItemId: z.optional(z.string()),
  quantity: z.optional(z.number()),
  billingCycle: z.optional(z.string()),
  orderGroup: z.optional(z.nullable(z.string())),
  error: z.optional(z.nullable(cartError)),
});

export const Cart = z.looseObject({
  id: z.string(),
  status: z.optional(z.string()),
  creationTimestamp: z.optional(z.string()),
  expirationTimestamp: z.optional(z.string()),
  lineItems: z.optional(z.array(CartLineItem)),
});
export type Cart = z.infer<typeof Cart>;

/** Checkout may succeed for some order groups and fail for others: both lists are returned to the caller as-is. */
export const CartCheckoutResult = z.looseObject({
  orders: z.optional(z.nullable(z.array(Order))),
  orderErrors: z.optional(
    z.nullable(
      z.array(
        z.looseObject({
          orderGroupId: z.optional(z.nullable(z.string())),
          code: z.optional(z.union([z.number(), z.string()])),
          description: z.optional(z.nullable(z.string())),
        }),
      ),
    ),
  ),
});
export type CartCheckoutResult = z.infer<typeof CartCheckoutResult>;
