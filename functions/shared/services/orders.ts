// Orders: New-PartnerCustomerOrder, and with -OrderId add-ons to an order's subscriptions. Both are placed through a
// cart (exactly-once/: one cart per key, checked out until Partner Center answers), which Partner Center documents as
// idempotent per cart; its orders API (`POST …/orders`, `PATCH …/orders/{orderId}`) documents nothing a retry could
// rest on. Every order field is mapped onto the cart line that carries it (docs/api.md, "Orders are placed through a
// cart").
import { ValidationError } from '../errors.js';
import { placePurchase } from '../exactly-once/one-cart.js';
import { type CartBody, checkoutRequest, createCartRequest, segment } from '../partner-center/carts.js';
import type { Command, ServiceContext, ServiceResult } from '../purchase/model.js';
import type { CartCheckoutResult } from '../schemas/carts.js';
import type { AddOnRequest, CreateOrderRequest, OrderCommandPayload } from '../schemas/orders.js';
import { Order } from '../schemas/orders.js';
import { dryRun, sendFor } from './context.js';

/**
 * The Order resource carries one billing cycle; a cart line carries its own. An order that names none is billed
 * monthly, Order's documented default at creation.
 */
export const DEFAULT_ORDER_BILLING_CYCLE = 'monthly';

/** The key of a cart line's provisioning context that makes it an add-on to an existing subscription. */
export const PARENT_SUBSCRIPTION_KEY = 'ParentSubscriptionId';

/** The cart an order (or add-on) is placed through: one cart line per order line, numbered as the order's. */
export function cartForOrder(order: CreateOrderRequest | AddOnRequest): CartBody {
  const billingCycle = order.billingCycle ?? DEFAULT_ORDER_BILLING_CYCLE;
  return {
    ...(order.partnerOnRecordAttestationAccepted === undefined
      ? {}
      : { partnerOnRecordAttestationAccepted: order.partnerOnRecordAttestationAccepted }),
    lineItems: order.lineItems.map((line, index) => {
      const context = {
        ...line.provisioningContext,
        ...(line.parentSubscriptionId === undefined ? {} : { [PARENT_SUBSCRIPTION_KEY]: line.parentSubscriptionId }),
      };
      return {
        id: line.lineItemNumber ?? index,
        catalogItemId: line.offerId,
        quantity: line.quantity,
        billingCycle,
        ...(line.termDuration === undefined ? {} : { termDuration: line.termDuration }),
        ...(line.friendlyName === undefined ? {} : { friendlyName: line.friendlyName }),
        ...(Object.keys(context).length === 0 ? {} : { provisioningContext: context }),
        // The order's partner of record (an indirect reseller's MPN id) is the cart line's transaction reseller.
        ...(line.partnerIdOnRecord === undefined
          ? {}
          : { participants: [{ key: 'transaction_reseller' as const, value: line.partnerIdOnRecord }] }),
      };
    }),
  };
}

/**
 * What an order route answers: the Order when the checkout placed one order, as the orders API did; the checkout
 * result (`{ orders, orderErrors, partial? }`) when Partner Center split the cart into several orders or some of its
 * order groups failed, so that no order is left out of the answer.
 */
const orderAnswer = (checkout: CartCheckoutResult & { partial?: true }) => {
  const orders = checkout.orders ?? [];
  return orders.length === 1 && !checkout.partial ? orders[0] : checkout;
};

/** New-PartnerCustomerOrder: 201 with the Order (or the checkout result, see orderAnswer). */
export async function createOrder(
  ctx: ServiceContext,
  input: { customerId: string; order: CreateOrderRequest },
): Promise<ServiceResult> {
  const body = cartForOrder(input.order);
  if (ctx.dryRun) {
    return dryRun(ctx, [
      ['create-cart', createCartRequest(input.customerId, body)],
      ['checkout', checkoutRequest(input.customerId, '{cartId}', false)],
    ]);
  }
  const placed = await placePurchase(ctx, input.customerId, body);
  return { status: 201, body: orderAnswer(placed.checkout), reconciled: placed.reconciled };
}

/**
 * New-PartnerCustomerOrder -OrderId: add-ons to the subscriptions of an existing order, through a cart whose lines
 * carry `provisioningContext.ParentSubscriptionId` ("Create a cart with add-ons to a customer order"). Before the
 * cart is created, the order is read: every parent subscription must be one of its subscriptions (a 422 naming the
 * line otherwise, and nothing is bought). 200 with the order Partner Center placed for the add-on lines.
 */
export async function addOnToOrder(
  ctx: ServiceContext,
  input: { customerId: string; orderId: string; order: AddOnRequest },
): Promise<ServiceResult> {
  const body = cartForOrder(input.order);
  if (ctx.dryRun) {
    return dryRun(ctx, [
      ['create-cart', createCartRequest(input.customerId, body)],
      ['checkout', checkoutRequest(input.customerId, '{cartId}', false)],
    ]);
  }
  if (!(await ctx.exactlyOnce?.journal.read())?.cart)
    await checkParents(ctx, input.customerId, input.orderId, input.order);
  const placed = await placePurchase(ctx, input.customerId, body);
  return { status: 200, body: orderAnswer(placed.checkout), reconciled: placed.reconciled };
}

async function checkParents(ctx: ServiceContext, customerId: string, orderId: string, order: AddOnRequest) {
  const existing = await sendFor(
    ctx,
    'read-order',
    { method: 'GET', path: `/v1/customers/${segment(customerId)}/orders/${segment(orderId)}` },
    Order,
    'an order',
  );
  const subscriptions = new Set(
    (existing.lineItems ?? []).flatMap((line) => (line.subscriptionId ? [line.subscriptionId.toLowerCase()] : [])),
  );
  const strangers = order.lineItems.flatMap((line, index) =>
    line.parentSubscriptionId && !subscriptions.has(line.parentSubscriptionId.toLowerCase())
      ? [
          {
            path: `${ctx.payloadPath ?? '/body'}/lineItems/${index}/parentSubscriptionId`,
            message: `is not a subscription of order ${orderId}`,
          },
        ]
      : [],
  );
  // Nothing was bought: Partner Center would refuse the cart line (800029), after a cart was created for it.
  if (strangers.length > 0) throw new ValidationError(strangers, 400, `The add-on lines must extend order ${orderId}.`);
}

export const createOrderCommand = (customerId: string, order: CreateOrderRequest): Command => ({
  operation: 'createOrder',
  customerId,
  input: order,
  run: (ctx) => createOrder(ctx, { customerId, order }),
});

export const addOnCommand = (customerId: string, orderId: string, order: AddOnRequest): Command => ({
  operation: 'addOnToOrder',
  customerId,
  input: { orderId, order },
  run: (ctx) => addOnToOrder(ctx, { customerId, orderId, order }),
});

/** A flat order payload (event detail, direct invocation): an add-on when it names the order. */
export const orderCommand = ({ customerId, orderId, ...order }: OrderCommandPayload): Command =>
  orderId === undefined ? createOrderCommand(customerId, order) : addOnCommand(customerId, orderId, order);
