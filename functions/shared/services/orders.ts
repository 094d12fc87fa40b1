// Orders: `POST /v1/customers/{id}/orders` for a new order, `PATCH …/orders/{orderId}` for add-ons
// (Partner Center refuses add-on lines on POST with code 2000). Only fields a caller may set are ever sent.

import type { Command } from '../commands.js';
import { placeOnce } from '../exactly-once/place-once.js';
import {
  addOnClaim,
  coversAll,
  findAddOn,
  findOrder,
  type LineKey,
  subscriptionsOf,
} from '../exactly-once/reconcile.js';
import type { PartnerCenterRequest } from '../partner-center/client.js';
import type { AddOnRequest, CreateOrderRequest, OrderCommandPayload, OrderLineItemInput } from '../schemas/orders.js';
import { Order } from '../schemas/orders.js';
import { dryRun, type ServiceContext, type ServiceResult, segment } from './context.js';

const ordersPath = (customerId: string) => `/v1/customers/${segment(customerId)}/orders`;

/** Line numbers run 0..n-1: kept when the caller gave them (checked unique and complete), assigned otherwise. */
const orderLines = (lines: OrderLineItemInput[]) =>
  lines.map((line, index) => ({ ...line, lineItemNumber: line.lineItemNumber ?? index }));

const orderBody = (customerId: string, order: CreateOrderRequest | AddOnRequest) => ({
  referenceCustomerId: customerId,
  ...(order.billingCycle ? { billingCycle: order.billingCycle } : {}),
  ...(order.partnerOnRecordAttestationAccepted === undefined
    ? {}
    : { partnerOnRecordAttestationAccepted: order.partnerOnRecordAttestationAccepted }),
  lineItems: orderLines(order.lineItems),
});

export function createOrderRequest(customerId: string, order: CreateOrderRequest): PartnerCenterRequest {
  return { method: 'POST', path: ordersPath(customerId), body: orderBody(customerId, order) };
}

export function addOnRequest(customerId: string, orderId: string, order: AddOnRequest): PartnerCenterRequest {
  return {
    method: 'PATCH',
    path: `${ordersPath(customerId)}/${segment(orderId)}`,
    body: { id: orderId, ...orderBody(customerId, order) },
  };
}

/** How a purchased line is recognised in Partner Center's orders: the fields the caller set (also the reconciler's). */
export const lineKeys = (lines: OrderLineItemInput[]): LineKey[] =>
  lines.map((line) => ({
    offerId: line.offerId,
    quantity: line.quantity,
    ...(line.termDuration === undefined ? {} : { termDuration: line.termDuration }),
    ...(line.friendlyName === undefined ? {} : { friendlyName: line.friendlyName }),
    ...(line.parentSubscriptionId === undefined ? {} : { parentSubscriptionId: line.parentSubscriptionId }),
  }));

/** New-PartnerCustomerOrder: one order with one subscription per line. 201 with the Order. */
export async function createOrder(
  ctx: ServiceContext,
  input: { customerId: string; order: CreateOrderRequest },
): Promise<ServiceResult> {
  const request = createOrderRequest(input.customerId, input.order);
  if (ctx.dryRun) return dryRun(ctx, [['create-order', request]]);
  const keys = lineKeys(input.order.lineItems);
  const claim = (id: string) => ctx.exactlyOnce?.records.claim(input.customerId, id) ?? Promise.resolve(true);
  // What another key could buy identically: the customer's lines, in a canonical order.
  const intent = JSON.stringify(keys.map((key) => JSON.stringify(key)).sort());
  const guard = ctx.exactlyOnce;
  const placed = await placeOnce(ctx, {
    step: 'create-order',
    request,
    schema: Order,
    what: 'an order',
    customerId: input.customerId,
    intent,
    find: (since, entry) =>
      findOrder(
        ctx,
        input.customerId,
        keys,
        since,
        claim,
        guard && {
          sentAt: entry.firstSentAt ?? since,
          othersInFlight: () =>
            guard.records.intents.othersSince(input.customerId, intent, (guard.now ?? Date.now)() - guard.settleMs),
          claimedByOther: (id) => guard.records.claimedByOther(input.customerId, id),
        },
      ),
    claims: (order) => [order.id],
  });
  return { status: 201, body: placed.value, reconciled: placed.reconciled };
}

/** New-PartnerCustomerOrder -OrderId: add-ons to an existing order's subscriptions. 200 with the updated Order. */
export async function addOnToOrder(
  ctx: ServiceContext,
  input: { customerId: string; orderId: string; order: AddOnRequest },
): Promise<ServiceResult> {
  const request = addOnRequest(input.customerId, input.orderId, input.order);
  if (ctx.dryRun) return dryRun(ctx, [['add-on', request]]);
  const keys = lineKeys(input.order.lineItems);
  const journal = ctx.exactlyOnce?.records.journal;
  // The order's subscriptions before the first attempt: an add-on line is one that was not there then.
  let before = ((await journal?.read())?.before ?? undefined) as string[] | undefined;
  if (journal && before === undefined) {
    before = await subscriptionsOf(ctx, input.customerId, input.orderId);
    await journal.keep({ before });
  }
  const known = new Set((before ?? []).map((id) => id.toLowerCase()));
  const claim = (id: string) => ctx.exactlyOnce?.records.claim(input.customerId, id) ?? Promise.resolve(true);
  const placed = await placeOnce(ctx, {
    step: 'add-on',
    request,
    schema: Order,
    what: 'an order',
    customerId: input.customerId,
    find: () => findAddOn(ctx, input.customerId, input.orderId, keys, before ?? [], claim),
    claims: (order) => {
      const added = (order.lineItems ?? []).filter(
        (l) => !l.subscriptionId || !known.has(l.subscriptionId.toLowerCase()),
      );
      return (coversAll(added, keys) ?? []).map((line) => addOnClaim(order.id, line));
    },
  });
  return { status: 200, body: placed.value, reconciled: placed.reconciled };
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
