// The answers of the read routes after a purchase (functions/status/), as documented in OpenAPI. The handlers build
// them in lifecycle/; the `satisfies` checks at the end keep the two from drifting apart.
import * as z from 'zod/mini';
import type { PurchasesAnswer } from '../lifecycle/purchases.js';
import type { CartView, OrderStatusView } from '../lifecycle/status.js';
import { Cart } from './carts.js';
import { idempotencyKey } from './ids.js';
import { Order, OrderLineItem } from './orders.js';

/** The read routes take no query parameters (an unknown one is refused with a 400). */
export const NoQuery = z.strictObject({});

/** `GET /purchases/{idempotencyKey}`: the key as a purchase takes it (1-255 printable ASCII, no comma). */
export const PurchasePath = z.strictObject({ idempotencyKey });

const describe = <T extends z.ZodMiniType>(schema: T, text: string): T => schema.check(z.describe(text));

export const OrderStatus = z.extend(Order, {
  state: describe(
    z.enum(['pending', 'provisioning', 'provisioned', 'cancelled', 'unknown']),
    'One overall state from the order status and every line’s provisioning status: `provisioned` when every line is ' +
      'Fulfilled; `unknown` when Partner Center answers a status this service does not know.',
  ),
  provisioningStatusAvailable: describe(
    z.boolean(),
    'False when Partner Center would not show the lines’ provisioning (app-only credentials, an order type without it): the state then follows the order status alone.',
  ),
  lineItems: z.array(
    z.extend(OrderLineItem, {
      provisioningStatus: describe(
        z.nullable(z.string()),
        '`Fulfilled`, `Unfulfilled`, `PrefulfillmentPending` (or a newer value); null when not readable.',
      ),
      quantityProvisioningInformation: z.array(
        z.looseObject({
          quantity: z.optional(z.nullable(z.number())),
          status: z.optional(z.nullable(z.string())),
        }),
      ),
    }),
  ),
});

export const CartStatus = z.extend(Cart, {
  expiresAt: describe(
    z.nullable(z.string()),
    'When an Active cart can no longer be checked out: Partner Center’s expirationTimestamp, else creation + 7 days.',
  ),
  expired: describe(z.boolean(), 'Past expiresAt and never ordered (an Ordered cart does not expire).'),
});

export const PurchaseStatus = z.object({
  operation: z.string(),
  customerId: z.string(),
  state: describe(
    z.enum(['in-progress', 'succeeded', 'refused', 'not-placed', 'unknown']),
    '`unknown`: an attempt was sent and nobody knows yet whether it placed the purchase; retry with the key (it ' +
      'looks before it sends) or wait for the reconciler.',
  ),
  orderIds: z.optional(z.array(z.string())),
  status: z.optional(z.number()),
  result: z.optional(z.unknown()),
  problem: z.optional(z.unknown()),
  reconciled: z.optional(z.boolean()),
  reconciliation: z.optional(
    z.object({
      outcome: z.string(),
      at: z.string(),
      detail: z.string(),
      candidates: z.optional(z.array(z.string())),
    }),
  ),
  cartId: z.optional(z.string()),
  firstSentAt: z.optional(z.string()),
  lastSentAt: z.optional(z.string()),
  requestIds: z.array(z.string()),
  detail: z.string(),
});

export const PurchasesAnswerSchema = z.object({
  idempotencyKey: z.string(),
  purchases: z.array(PurchaseStatus),
});

// Drift checks: what the handlers answer is what the documentation says.
type Check<Actual, Documented> = Actual extends Documented ? true : false;
const drift: [
  Check<OrderStatusView, z.output<typeof OrderStatus>>,
  Check<CartView, z.output<typeof CartStatus>>,
  Check<PurchasesAnswer, z.output<typeof PurchasesAnswerSchema>>,
] = [true, true, true];
void drift;
