// What happens to an order after Partner Center accepted it: its status starts `pending` and becomes `completed` once
// every line is provisioned, `provisioningDelayMs` after the purchase (0 by default: at once, as before). Served:
//   GET /v1/customers/{id}/orders/{orderId}/provisioningstatus   per line `lineItemNumber`, `status` (`Fulfilled`,
//       `Unfulfilled`), `quantityProvisioningInformation[{ quantity, status }]`, as a ResourceCollection
//   GET /v1/customers/{id}/subscriptions?order_id={orderId}      the subscriptions the order created (all of the
//       customer's without `order_id`), as a ResourceCollection of Subscription
// Field names are the documented ones (get-order-provisioning-status, get-a-list-of-subscriptions-by-order). A line
// whose offer id contains STALLED_MARKER is never provisioned: its order completes, the line stays Unfulfilled.
// Test hooks: `setOrderStatus` (any value, documented or not) on PartnerCenterSimulator.
import { type HandlerResult, json, pcError, type RouteContext } from './http.js';
import { link, type Order, type OrderLineItem } from './models.js';
import { paged } from './pages.js';
import type { Store } from './store.js';

/** Test hook: a line whose offer id contains this marker is never provisioned (its order stays `provisioning`). */
export const STALLED_MARKER = 'STALLED';

const stalled = (line: OrderLineItem) => line.offerId.includes(STALLED_MARKER);

export class Provisioning {
  /** How long after the purchase an order's lines are provisioned. */
  delayMs = 0;
  /** Order id → when its lines are provisioned (and its status becomes completed); absent once settled. */
  private readonly due = new Map<string, number>();
  /** `orderId#lineItemNumber` → when that line is provisioned (lines added by PATCH keep their own). */
  private readonly lines = new Map<string, number>();
  /** Orders whose status a test set: settling leaves them alone. */
  private readonly pinned = new Set<string>();

  /** The order as it is committed: completed at once without a delay, else pending until it is provisioned. */
  placed(order: Order, now: number): Order {
    const at = now + this.delayMs;
    for (const line of order.lineItems) this.lines.set(`${order.id}#${line.lineItemNumber}`, at);
    if (this.delayMs <= 0) return { ...order, status: 'completed' };
    this.due.set(order.id, at);
    return { ...order, status: 'pending' };
  }

  /** Add-on lines committed to an existing order (PATCH): provisioned after the delay; the order is pending till then. */
  added(order: Order, lines: readonly OrderLineItem[], now: number): void {
    const at = now + this.delayMs;
    for (const line of lines) this.lines.set(`${order.id}#${line.lineItemNumber}`, at);
    if (this.delayMs <= 0 || this.pinned.has(order.id)) return;
    order.status = 'pending';
    this.due.set(order.id, Math.max(at, this.due.get(order.id) ?? 0));
  }

  /** Orders whose time has come are completed (lazily, when something reads them). */
  settle(store: Store, now: number): void {
    for (const [orderId, at] of this.due) {
      if (at > now) continue;
      this.due.delete(orderId);
      if (this.pinned.has(orderId)) continue;
      for (const order of store.ordersById(orderId)) if (order.status === 'pending') order.status = 'completed';
    }
  }

  /** A test sets an order's status (any string: Partner Center adds values); it is not settled afterwards. */
  pin(order: Order, status: string): void {
    this.pinned.add(order.id);
    this.due.delete(order.id);
    (order as { status: string }).status = status;
  }

  lineFulfilled(order: Order, line: OrderLineItem, now: number): boolean {
    if (stalled(line) || (order.status as string) === 'cancelled') return false;
    const at = this.lines.get(`${order.id}#${line.lineItemNumber}`);
    // Orders the simulator did not place itself (a test pushed them into the ledger) are provisioned.
    return at === undefined || at <= now;
  }

  clear(): void {
    this.due.clear();
    this.lines.clear();
    this.pinned.clear();
  }

  /** What a restart must keep (store.ts snapshot). */
  snapshot(): ProvisioningSnapshot {
    return { due: [...this.due], lines: [...this.lines], pinned: [...this.pinned] };
  }

  restore(snapshot: ProvisioningSnapshot): void {
    this.clear();
    for (const [id, at] of snapshot.due) this.due.set(id, at);
    for (const [id, at] of snapshot.lines) this.lines.set(id, at);
    for (const id of snapshot.pinned) this.pinned.add(id);
  }
}

export interface ProvisioningSnapshot {
  due: [string, number][];
  lines: [string, number][];
  pinned: string[];
}

const orderNotFound = () => pcError(404, 20000, 'Order Id not found');

/** `GET /v1/customers/{id}/orders/{orderId}/provisioningstatus`. */
export function getProvisioningStatus(ctx: RouteContext): HandlerResult {
  ctx.store.provisioning.settle(ctx.store, ctx.now);
  const order = ctx.store.findOrder(ctx.params.customerId, ctx.params.orderId);
  if (!order) return { reply: orderNotFound() };
  const items = order.lineItems.map((line) => {
    const status = ctx.store.provisioning.lineFulfilled(order, line, ctx.now) ? 'Fulfilled' : 'Unfulfilled';
    return {
      lineItemNumber: line.lineItemNumber,
      status,
      quantityProvisioningInformation: [{ quantity: line.quantity, status }],
    };
  });
  const collection = {
    totalCount: items.length,
    items,
    links: { self: link(`/customers/${ctx.params.customerId}/orders/${order.id}/provisioningstatus`) },
    attributes: { objectType: 'Collection' as const },
  };
  return { reply: json(200, collection) };
}

/** `GET /v1/customers/{id}/subscriptions[?order_id=…]`. */
export function listSubscriptions(ctx: RouteContext): HandlerResult {
  ctx.store.provisioning.settle(ctx.store, ctx.now);
  const orderId = [...ctx.query].find(([name]) => name.toLowerCase() === 'order_id')?.[1];
  const orders = ctx.store
    .ordersOf(ctx.params.customerId)
    .filter((order) => orderId === undefined || order.id === orderId);
  const items = orders
    .flatMap((order) =>
      order.lineItems.map((line) => {
        const active = ctx.store.provisioning.lineFulfilled(order, line, ctx.now);
        return {
          id: line.subscriptionId,
          offerId: line.offerId,
          ...(line.friendlyName !== undefined && { friendlyName: line.friendlyName }),
          quantity: line.quantity,
          unitType: 'Licenses',
          ...(line.parentSubscriptionId !== undefined && { parentSubscriptionId: line.parentSubscriptionId }),
          creationDate: order.creationDate,
          effectiveStartDate: order.creationDate,
          status: active ? 'active' : 'pending',
          autoRenewEnabled: true,
          billingCycle: order.billingCycle,
          ...(line.termDuration !== undefined && { termDuration: line.termDuration }),
          orderId: order.id,
          links: { self: link(`/customers/${order.referenceCustomerId}/subscriptions/${line.subscriptionId}`) },
          attributes: { objectType: 'Subscription' },
        };
      }),
    )
    .map((item) => ctx.store.subscriptions.overlay(item, ctx.now));
  const query = orderId === undefined ? '' : `?order_id=${encodeURIComponent(orderId)}`;
  return paged(ctx, items, `/customers/${ctx.params.customerId}/subscriptions${query}`);
}
