// Identifiers that arrive in the URL path. They are checked before anything is sent upstream, and restricted
// to characters that cannot change the meaning of the Partner Center URL we build from them.
import * as z from 'zod/mini';
import { guid } from './common.js';

// GUIDs are case-insensitive: one canonical (lower-case) form keeps URLs, logs and idempotency scopes consistent.
const lower = z.transform((value: string) => value.toLowerCase());

/** The customer's Entra tenant id (any case). */
export const customerId = z.pipe(guid('customer tenant id'), lower);

/** Order ids are opaque (`Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1`, GUIDs, `5cf72f146967`): no dots or slashes. */
export const orderId = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, { error: 'must be an order id: 1-128 letters, digits, _ or -' }));

/** Cart ids are GUIDs assigned by Partner Center on cart creation. */
export const cartId = z.pipe(guid('cart id'), lower);

export const CustomerPath = z.strictObject({ customerId });
export const OrderPath = z.strictObject({ customerId, orderId });
export const CartPath = z.strictObject({ customerId, cartId });

/** `?dryRun=true` is the cmdlets' `-WhatIf`: validate, show the requests, send nothing. */
export const DryRunQuery = z.strictObject({
  dryRun: z.optional(z.enum(['true', 'false'], { error: 'must be true or false' })),
});

/**
 * `Idempotency-Key` (Stripe; IETF draft-ietf-httpapi-idempotency-key-header): 1–255 printable ASCII characters.
 * The draft sends it as a Structured Field string (`"…"`): the quotes are not part of the key. No comma: API Gateway
 * joins two `Idempotency-Key` headers into one value with a comma, and which key was meant is then unknowable.
 */
export const idempotencyKey = z.pipe(
  z.pipe(
    z.string(),
    z.transform((value: string) => (/^"[^"]*"$/.test(value) ? value.slice(1, -1) : value)),
  ),
  z.string().check(
    z.regex(/^[\x20-\x7E]{1,255}$/, { error: 'must be 1 to 255 printable ASCII characters' }),
    z.regex(/^[^,]*$/, {
      error: 'must be one key without a comma (two Idempotency-Key headers arrive joined by one)',
    }),
  ),
);

/** The request headers an operation reads (API Gateway v2 gives them lower-cased); others pass untouched. */
export const IdempotencyKeyHeaders = z.looseObject({
  'idempotency-key': z.optional(idempotencyKey),
  /** The same lines as a recent purchase are bought again on purpose (duplicates/guard.ts). */
  'allow-duplicate': z.optional(
    z.pipe(
      z.string(),
      z.pipe(
        z.transform((value: string) => value.trim().toLowerCase()),
        z.enum(['true', 'false'], { error: 'must be true or false' }),
      ),
    ),
  ),
});
