// Orders: `POST /v1/customers/{id}/orders` for a new order, `PATCH …/orders/{orderId}` for add-ons
// (Partner Center refuses add-on lines on POST with code 2000). Only fields a caller may set are ever sent.

import type { Command } from '../commands.js';
import type { PartnerCenterRequest } from '../partner-center/client.js';
import type { AddOnRequest, CreateOrderRequest, OrderCommandPayload, OrderLineItemInput } from '../schemas/orders.js';
import { Order } from '../schemas/orders.js';
import { dryRun, type ServiceContext, type ServiceResult, segment, sendFor } from './context.js';

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

/** New-PartnerCustomerOrder: one order with one subscription per line. 201 with the Order. */
export async function createOrder(
  ctx: ServiceContext,
  input: { customerId: string; order: CreateOrderRequest },
): Promise<ServiceResult> {
  const request = createOrderRequest(input.customerId, input.order);
  if (ctx.dryRun) return dryRun(ctx, [['create-order', request]]);
  return { status: 201, body: await sendFor(ctx, 'create-order', request, Order, 'an order') };
}

/** New-PartnerCustomerOrder -OrderId: add-ons to an existing order's subscriptions. 200 with the updated Order. */
export async function addOnToOrder(
  ctx: ServiceContext,
  input: { customerId: string; orderId: string; order: AddOnRequest },
): Promise<ServiceResult> {
  const request = addOnRequest(input.customerId, input.orderId, input.order);
  if (ctx.dryRun) return dryRun(ctx, [['add-on', request]]);
  return { status: 200, body: await sendFor(ctx, 'add-on', request, Order, 'an order') };
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
