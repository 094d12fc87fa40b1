// Looking for what an earlier attempt placed. Partner Center has no "find the order this MS-RequestId made", so a
// purchase is recognised by what it bought: an order created since the first attempt was sent, with the same lines,
// that no other key has claimed. The same code answers a caller's retry, a redelivery and the client's own next
// attempt within one request.
import type * as z from 'zod/mini';
import { OutcomeUnknownError, PartnerCenterError } from '../errors.js';
import { Cart, type CartCheckoutResult } from '../schemas/carts.js';
import { Order, OrderCollection } from '../schemas/orders.js';
import { type ServiceContext, segment, sendFor } from '../services/context.js';

/** What identifies a line of a purchase: the fields the caller set, compared as Partner Center echoes them. */
export interface LineKey {
  offerId: string;
  quantity: number;
  termDuration?: string;
  friendlyName?: string;
  parentSubscriptionId?: string;
}

type Line = NonNullable<Order['lineItems']>[number];

const same = (a: string | null | undefined, b: string | undefined) =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();

/** A line matches when every field the caller gave is what Partner Center shows (ids and enums case-insensitively). */
export const lineMatches = (line: Line, key: LineKey): boolean =>
  same(line.offerId, key.offerId) &&
  line.quantity === key.quantity &&
  (key.termDuration === undefined || same(line.termDuration, key.termDuration)) &&
  (key.friendlyName === undefined || line.friendlyName === key.friendlyName) &&
  (key.parentSubscriptionId === undefined || same(line.parentSubscriptionId, key.parentSubscriptionId));

/** Pairs every key with a line of its own; true when all keys found one. */
export function coversAll(lines: readonly Line[], keys: readonly LineKey[]): Line[] | undefined {
  const free = [...lines];
  const taken: Line[] = [];
  for (const key of keys) {
    const index = free.findIndex((line) => lineMatches(line, key));
    if (index < 0) return undefined;
    taken.push(...free.splice(index, 1));
  }
  return taken;
}

const createdAt = (order: Order) => (order.creationDate ? Date.parse(order.creationDate) : Number.NaN);

/**
 * A read for reconciliation; one that cannot be made leaves the outcome unknown, never a refusal. With `missing`,
 * a 404 is an answer (the resource is not there) rather than a failure.
 */
async function read<T>(
  ctx: ServiceContext,
  step: string,
  path: string,
  schema: z.ZodMiniType<T>,
  what: string,
  missing?: 'undefined',
): Promise<T | undefined> {
  try {
    return await sendFor(ctx, step, { method: 'GET', path }, schema, what);
  } catch (error) {
    if (missing && error instanceof PartnerCenterError && error.status === 404) return undefined;
    const retryAfter = error instanceof PartnerCenterError ? error.retryAfterSeconds : undefined;
    throw new OutcomeUnknownError(
      Math.max(5, retryAfter ?? 0),
      'A purchase was sent with this key and Partner Center could not be read to find out whether it was placed.',
      (error as { ids?: OutcomeUnknownError['ids'] }).ids,
      error,
    );
  }
}

const ordersPath = (customerId: string) => `/v1/customers/${segment(customerId)}/orders`;

async function ordersSince(ctx: ServiceContext, customerId: string, since: number): Promise<Order[]> {
  const list = await read(ctx, 'reconcile-orders', ordersPath(customerId), OrderCollection, 'an order collection');
  return (list?.items ?? [])
    .filter((order) => !(createdAt(order) < since))
    .sort((a, b) => (createdAt(a) || 0) - (createdAt(b) || 0));
}

export type Claim = (id: string) => Promise<boolean>;

/** A new order whose lines are exactly the requested ones, created since `since`, claimed for this key. */
export async function findOrder(
  ctx: ServiceContext,
  customerId: string,
  keys: readonly LineKey[],
  since: number,
  claim: Claim,
): Promise<Order | undefined> {
  for (const order of await ordersSince(ctx, customerId, since)) {
    const lines = order.lineItems ?? [];
    if (lines.length !== keys.length || !coversAll(lines, keys)) continue;
    if (await claim(order.id)) return order;
  }
  return undefined;
}

/** The subscriptions an order has before an add-on is sent: new lines are the ones not in this list. */
export async function subscriptionsOf(ctx: ServiceContext, customerId: string, orderId: string): Promise<string[]> {
  // Not a reconciliation read: an order that cannot be read is refused as Partner Center refuses it (404 and so on).
  const order = await sendFor(
    ctx,
    'read-order',
    { method: 'GET', path: `${ordersPath(customerId)}/${segment(orderId)}` },
    Order,
    'an order',
  );
  return (order.lineItems ?? []).flatMap((line) => (line.subscriptionId ? [line.subscriptionId] : []));
}

/** The order with the requested add-on lines among those it did not have before the first attempt. */
export async function findAddOn(
  ctx: ServiceContext,
  customerId: string,
  orderId: string,
  keys: readonly LineKey[],
  before: readonly string[],
  claim: Claim,
): Promise<Order | undefined> {
  const order = await read(ctx, 'reconcile-order', `${ordersPath(customerId)}/${segment(orderId)}`, Order, 'an order');
  if (!order) return undefined;
  const known = new Set(before.map((id) => id.toLowerCase()));
  const added = (order.lineItems ?? []).filter(
    (line) => !line.subscriptionId || !known.has(line.subscriptionId.toLowerCase()),
  );
  const lines = coversAll(added, keys);
  if (!lines) return undefined;
  for (const line of lines)
    if (!(await claim(`${order.id}#${line.subscriptionId ?? line.lineItemNumber}`))) return undefined;
  return order;
}

type CartLine = NonNullable<Cart['lineItems']>[number] & { termDuration?: string; friendlyName?: string };

/**
 * What a checkout of this cart placed. An Active cart placed nothing (Partner Center keeps a cart Active while no
 * order came of it); an Ordered one placed the orders created since `since` whose lines are lines of the cart.
 */
export async function findCheckout(
  ctx: ServiceContext,
  customerId: string,
  cartId: string,
  since: number,
  claim: Claim,
): Promise<CartCheckoutResult | undefined> {
  const path = `/v1/customers/${segment(customerId)}/carts/${segment(cartId)}`;
  // A cart that is gone (expired, unknown) was never ordered: Ordered carts do not expire.
  const cart = await read(ctx, 'reconcile-cart', path, Cart, 'a cart', 'undefined');
  if (!cart) return undefined;
  if (!same(cart.status, 'Ordered')) return undefined;
  const cartLines = (cart.lineItems ?? []) as CartLine[];
  const keys = cartLines.map((line) => ({
    offerId: line.catalogItemId ?? '',
    quantity: line.quantity ?? 0,
    ...(line.termDuration ? { termDuration: line.termDuration } : {}),
    ...(line.friendlyName ? { friendlyName: line.friendlyName } : {}),
  }));
  const orders: Order[] = [];
  const covered = new Set<number>();
  for (const order of await ordersSince(ctx, customerId, since)) {
    const lines = order.lineItems ?? [];
    const indexes = lines.map((line) => keys.findIndex((key, i) => !covered.has(i) && lineMatches(line, key)));
    if (lines.length === 0 || indexes.some((i) => i < 0)) continue;
    if (!(await claim(order.id))) continue;
    for (const i of indexes) covered.add(i);
    orders.push(order);
    if (covered.size === keys.length) break;
  }
  if (orders.length === 0) {
    throw new OutcomeUnknownError(60, `Cart ${cartId} is Ordered, but Partner Center does not show its orders yet.`);
  }
  const missing = [...new Set(cartLines.filter((_, i) => !covered.has(i)).map((line) => line.orderGroup ?? ''))];
  return {
    orders,
    orderErrors: missing.map((orderGroupId) => ({
      orderGroupId,
      code: 'not-found',
      description: 'No order from this order group was found when the checkout was reconciled.',
    })),
  };
}
