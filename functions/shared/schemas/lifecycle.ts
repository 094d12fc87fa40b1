// The answers of the read routes after a purchase (functions/status/), as documented in OpenAPI. The handlers build
// them in lifecycle/; the `satisfies` checks at the end keep the two from drifting apart.
import * as z from 'zod/mini';
import type { PurchasesAnswer } from '../lifecycle/purchases.js';
import type { CartView, OrderStatusView } from '../lifecycle/status.js';
import { Cart } from './carts.js';
import { normalisedEnum } from './common.js';
import { idempotencyKey, orderId } from './ids.js';
import { Order, OrderLineItem } from './orders.js';

/** The read routes take no query parameters (an unknown one is refused with a 400). */
export const NoQuery = z.strictObject({});

/** The next page of a list: the `continuationToken` the previous page answered, as it was. */
const continuationToken = z.string().check(z.minLength(1), z.maxLength(4096));

/** `GET /customers/{customerId}/orders`: optionally only one billing cycle's orders (Partner Center's `billingType`). */
export const OrdersListQuery = z.strictObject({
  billingType: z.optional(normalisedEnum(['monthly', 'annual', 'triennial', 'none', 'one_time'])),
  continuationToken: z.optional(continuationToken),
});

/** `GET /customers/{customerId}/subscriptions`: optionally only the subscriptions one order created. */
export const SubscriptionsListQuery = z.strictObject({
  orderId: z.optional(orderId),
  continuationToken: z.optional(continuationToken),
});

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

/** One page of a list: the next behind `continuationToken` (absent on the last page). */
const listPage = <T extends z.ZodMiniType>(item: T) =>
  z.object({
    items: z.array(item),
    totalCount: describe(z.nullable(z.number()), "Partner Center's count of the whole list, when it gives one."),
    continuationToken: z.optional(
      describe(z.string(), 'Send it back as `?continuationToken=` for the next page; absent on the last page.'),
    ),
  });

export const OrderList = listPage(Order);
export const SubscriptionList = listPage(
  z.looseObject({
    id: z.string(),
    offerId: z.optional(z.nullable(z.string())),
    friendlyName: z.optional(z.nullable(z.string())),
    quantity: z.optional(z.nullable(z.number())),
    status: z.optional(z.nullable(z.string())),
    orderId: z.optional(z.nullable(z.string())),
  }),
);

export const CustomerCheck = z.object({
  customerId: z.string(),
  companyName: z.nullable(z.string()),
  domain: z.nullable(z.string()),
  relationshipToPartner: z.nullable(z.string()),
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
