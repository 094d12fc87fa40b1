// What became of an order after it was placed: the order as Partner Center shows it, each line's provisioning status
// merged in, and one overall state. Partner Center's enums are read leniently (Partner-Center-PowerShell #394, #397,
// #403 broke on new values): a status this code does not know makes the state `unknown`, never an error.
//
//   order status      lines' provisioning status                         state
//   cancelled         (anything)                                          cancelled
//   (any)             every line Fulfilled                                provisioned
//   pending           none Fulfilled, all known                           pending
//   pending/completed some Fulfilled, or completed with lines not yet     provisioning
//   (any)             a line status this code does not know               unknown
//   pending           not readable (app-only credentials, 403/404, or     pending
//                     no entry for some line)
//   completed         not readable                                        provisioned (Partner Center completes an
//                                                                         order once it is fulfilled)
//   anything else     not readable, or not every line Fulfilled           unknown
import * as z from 'zod/mini';
import { PartnerCenterError } from '../errors.js';
import { Cart } from '../schemas/carts.js';
import { Order } from '../schemas/orders.js';
import { type ServiceContext, segment, sendFor } from '../services/context.js';

export const ORDER_STATES = ['pending', 'provisioning', 'provisioned', 'cancelled', 'unknown'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

const quantityInformation = z.looseObject({
  quantity: z.optional(z.nullable(z.number())),
  status: z.optional(z.nullable(z.string())),
});

/** `GET …/orders/{orderId}/provisioningstatus`: one entry per order line (OrderLineItemProvisioningStatus). */
export const LineProvisioningStatus = z.looseObject({
  lineItemNumber: z.optional(z.nullable(z.number())),
  status: z.optional(z.nullable(z.string())),
  quantityProvisioningInformation: z.optional(z.nullable(z.array(quantityInformation))),
});
export type LineProvisioningStatus = z.infer<typeof LineProvisioningStatus>;

/** A ResourceCollection, or (read leniently) a bare array. */
export const ProvisioningStatusCollection = z.union([
  z.array(LineProvisioningStatus),
  z.looseObject({ items: z.optional(z.nullable(z.array(LineProvisioningStatus))) }),
]);

/** `GET …/subscriptions?order_id=…`: the subscriptions an order created. */
export const Subscription = z.looseObject({
  id: z.string(),
  offerId: z.optional(z.nullable(z.string())),
  friendlyName: z.optional(z.nullable(z.string())),
  quantity: z.optional(z.nullable(z.number())),
  status: z.optional(z.nullable(z.string())),
  orderId: z.optional(z.nullable(z.string())),
});
export type Subscription = z.infer<typeof Subscription>;
export const SubscriptionCollection = z.looseObject({ items: z.optional(z.nullable(z.array(Subscription))) });

type Line = NonNullable<Order['lineItems']>[number];

/** A line as `GET /customers/{customerId}/orders/{orderId}` answers it: Partner Center's line plus its provisioning. */
export type MergedLine = Line & {
  /** Partner Center's word for the line (`Fulfilled`, `Unfulfilled`, `PrefulfillmentPending`, or a newer one); null when not readable. */
  provisioningStatus: string | null;
  quantityProvisioningInformation: { quantity?: number | null; status?: string | null }[];
};

/** The order's own fields but its lines (Omit would lose them: a loose object has an index signature). */
type OrderFields = { [K in keyof Order as K extends 'lineItems' ? never : K]: Order[K] };

export type OrderStatusView = OrderFields & {
  state: OrderState;
  lineItems: MergedLine[];
  /** False when Partner Center would not show the lines' provisioning (app-only credentials, an order type without it). */
  provisioningStatusAvailable: boolean;
};

type LineState = 'fulfilled' | 'unfulfilled' | 'pending' | 'unknown';

const lineState = (status: string | null | undefined): LineState => {
  switch ((status ?? '').toLowerCase()) {
    case 'fulfilled':
      return 'fulfilled';
    case 'unfulfilled':
      return 'unfulfilled';
    case 'prefulfillmentpending':
      return 'pending';
    default:
      return 'unknown';
  }
};

/** The one overall state of an order, from its status and (when readable) each line's provisioning status. */
export function overallState(
  orderStatus: string | null | undefined,
  lineStatuses: readonly (string | null | undefined)[] | undefined,
): OrderState {
  const status = (orderStatus ?? '').toLowerCase();
  if (status === 'cancelled') return 'cancelled';
  if (lineStatuses === undefined || lineStatuses.length === 0) {
    if (status === 'pending') return 'pending';
    return status === 'completed' ? 'provisioned' : 'unknown';
  }
  const lines = lineStatuses.map(lineState);
  if (lines.every((line) => line === 'fulfilled')) return 'provisioned';
  if (lines.includes('unknown')) return 'unknown';
  if (status === 'pending') return lines.includes('fulfilled') ? 'provisioning' : 'pending';
  return status === 'completed' ? 'provisioning' : 'unknown';
}

const itemsOf = (collection: z.infer<typeof ProvisioningStatusCollection>) =>
  Array.isArray(collection) ? collection : (collection.items ?? []);

/** The order with each line's provisioning merged in (matched by lineItemNumber, else by position). */
export function mergeOrderStatus(order: Order, provisioning: LineProvisioningStatus[] | undefined): OrderStatusView {
  const lines = order.lineItems ?? [];
  const merged = lines.map((line, index): MergedLine => {
    const entry =
      provisioning?.find((p) => p.lineItemNumber != null && p.lineItemNumber === line.lineItemNumber) ??
      (provisioning?.every((p) => p.lineItemNumber == null) ? provisioning[index] : undefined);
    return {
      ...line,
      provisioningStatus: entry?.status ?? null,
      quantityProvisioningInformation: entry?.quantityProvisioningInformation ?? [],
    };
  });
  // Lines Partner Center gave no provisioning entry for: the order's status decides, as when none is readable.
  const readable = provisioning !== undefined && merged.every((line) => line.provisioningStatus !== null);
  return {
    ...order,
    state: overallState(order.status, readable ? merged.map((line) => line.provisioningStatus) : undefined),
    lineItems: merged,
    provisioningStatusAvailable: provisioning !== undefined,
  };
}

const ordersPath = (customerId: string, orderId: string) =>
  `/v1/customers/${segment(customerId)}/orders/${segment(orderId)}`;

/**
 * A line-level provisioning status that Partner Center will not show is no error: the provisioning status endpoint
 * takes App+User credentials only (403 for app-only), and some order types have none (404).
 */
async function provisioningOf(
  ctx: ServiceContext,
  customerId: string,
  orderId: string,
): Promise<LineProvisioningStatus[] | undefined> {
  try {
    const collection = await sendFor(
      ctx,
      'read-provisioning-status',
      { method: 'GET', path: `${ordersPath(customerId, orderId)}/provisioningstatus` },
      ProvisioningStatusCollection,
      'a provisioning status collection',
    );
    return itemsOf(collection);
  } catch (error) {
    if (error instanceof PartnerCenterError && (error.status === 403 || error.status === 404)) return undefined;
    throw error;
  }
}

/** Two reads of Partner Center, at once: the order, and its lines' provisioning status. */
export async function readOrderStatus(
  ctx: ServiceContext,
  customerId: string,
  orderId: string,
): Promise<OrderStatusView> {
  const [order, provisioning] = await Promise.all([
    sendFor(ctx, 'read-order', { method: 'GET', path: ordersPath(customerId, orderId) }, Order, 'an order'),
    provisioningOf(ctx, customerId, orderId),
  ]);
  return mergeOrderStatus(order, provisioning);
}

/** The subscriptions an order created (one read). */
export async function readOrderSubscriptions(
  ctx: ServiceContext,
  customerId: string,
  orderId: string,
): Promise<Subscription[]> {
  const collection = await sendFor(
    ctx,
    'read-subscriptions',
    {
      method: 'GET',
      path: `/v1/customers/${segment(customerId)}/subscriptions?order_id=${encodeURIComponent(orderId)}`,
    },
    SubscriptionCollection,
    'a subscription collection',
  );
  return collection.items ?? [];
}

/** "Carts expire 7 days from the initial creation" (checkout-a-cart). */
export const CART_LIFETIME_MS = 7 * 86_400_000;

export type CartView = Cart & {
  /** When an Active cart can no longer be checked out: Partner Center's expirationTimestamp, else creation + 7 days. */
  expiresAt: string | null;
  /** Past expiresAt and never ordered (an Ordered cart does not expire). */
  expired: boolean;
};

export function cartView(cart: Cart, now: number): CartView {
  const expiry = cart.expirationTimestamp
    ? Date.parse(cart.expirationTimestamp)
    : cart.creationTimestamp
      ? Date.parse(cart.creationTimestamp) + CART_LIFETIME_MS
      : Number.NaN;
  const ordered = (cart.status ?? '').toLowerCase() === 'ordered';
  return {
    ...cart,
    expiresAt: Number.isNaN(expiry) ? null : new Date(expiry).toISOString(),
    expired: !ordered && !Number.isNaN(expiry) && expiry <= now,
  };
}

/** One read: the cart, its status and its expiry. Partner Center answers 404 for an unknown or expired cart. */
export async function readCart(ctx: ServiceContext, customerId: string, cartId: string, now = Date.now()) {
  const cart = await sendFor(
    ctx,
    'read-cart',
    { method: 'GET', path: `/v1/customers/${segment(customerId)}/carts/${segment(cartId)}` },
    Cart,
    'a cart',
  );
  return cartView(cart, now);
}
