// Looking for what an earlier attempt placed. Partner Center has no "find the order this MS-RequestId made", so a
// purchase is recognised by what it bought: an order created since the first attempt was sent, with the same lines,
// that no other key has claimed. The same code answers a caller's retry, a redelivery and the client's own next
// attempt within one request.
import type * as z from 'zod/mini';
import { OutcomeUnknownError, PartnerCenterError } from '../errors.js';
import { logger } from '../log.js';
import { Cart, CartCheckoutResult } from '../schemas/carts.js';
import { Order, OrderCollection } from '../schemas/orders.js';

import { type ServiceContext, segment, sendFor } from '../services/context.js';
import { compiled } from '../validation.js';

type PageLink = NonNullable<NonNullable<OrderCollection['links']>['next']>;

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
  headers?: Record<string, string>,
): Promise<T | undefined> {
  try {
    return await sendFor(ctx, step, { method: 'GET', path, ...(headers ? { headers } : {}) }, schema, what);
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

/** Pages of the orders list followed at the most; a longer list leaves the outcome unknown rather than guessed. */
const MAX_ORDER_PAGES = 20;

/**
 * The customer's orders created since `since`, oldest first: every page, each order read on its own (one this service
 * cannot read is passed over, not fatal). A list that says it holds more than it gave leaves the outcome unknown: a
 * purchase not seen is not a purchase not placed.
 */
async function ordersSince(ctx: ServiceContext, customerId: string, since: number): Promise<Order[]> {
  const orders: Order[] = [];
  let seen = 0;
  let total: number | undefined;
  let request: { path: string; headers?: Record<string, string> } | undefined = { path: ordersPath(customerId) };
  for (let page = 1; request; page++) {
    if (page > MAX_ORDER_PAGES) throw incomplete(`more than ${MAX_ORDER_PAGES} pages`);
    const list: OrderCollection | undefined = await read(
      ctx,
      'reconcile-orders',
      request.path,
      OrderCollection,
      'an order collection',
      undefined,
      request.headers,
    );
    const items = list?.items ?? [];
    seen += items.length;
    total ??= list?.totalCount ?? undefined;
    for (const item of items) {
      const order = compiled(Order).safeParse(item);
      if (order.success) orders.push(order.data);
      else logger.warn('an order in the list could not be read; passed over', { step: 'reconcile-orders' });
    }
    const next: PageLink | null | undefined = list?.links?.next;
    request = next?.uri
      ? {
          path: `/v1${next.uri.replace(/^\/v1(?=\/)/i, '')}`,
          headers: Object.fromEntries((next.headers ?? []).map((header) => [header.key, header.value])),
        }
      : undefined;
  }
  if (total !== undefined && seen < total) throw incomplete(`${seen} of ${total} orders`);
  return orders
    .filter((order) => !(createdAt(order) < since))
    .sort((a, b) => (createdAt(a) || 0) - (createdAt(b) || 0));
}

const incomplete = (what: string) =>
  new OutcomeUnknownError(
    60,
    `A purchase was sent with this key and Partner Center's orders list could not be read whole (${what}), so whether it was placed is not known.`,
  );

export type Claim = (id: string) => Promise<boolean>;

/** What keeps another key's purchase from being taken for this one's (place-once.ts). */
export interface Contest {
  /** Epoch ms of this key's first attempt: an order created before it (within the clock margin) is not surely ours. */
  sentAt: number;
  /** Another key's purchase of the same lines is in flight: its order may be the one just found. */
  othersInFlight(): Promise<boolean>;
  claimedByOther(id: string): Promise<boolean>;
}

/**
 * A new order whose lines are exactly the requested ones, created since `since`, claimed for this key. An order that
 * could as well be another purchase's — another key's of the same lines still waiting for its answer, or one created
 * in the clock margin before this key's first attempt (the portal, another tool) — is neither adopted nor a reason to
 * buy again: the outcome stays unknown until the other purchase has claimed its order, or a person has looked.
 */
export async function findOrder(
  ctx: ServiceContext,
  customerId: string,
  keys: readonly LineKey[],
  since: number,
  claim: Claim,
  contest?: Contest,
): Promise<Order | undefined> {
  let doubtful: Order | undefined;
  for (const order of await ordersSince(ctx, customerId, since)) {
    const lines = order.lineItems ?? [];
    if (lines.length !== keys.length || !coversAll(lines, keys)) continue;
    if (contest && createdAt(order) < contest.sentAt) {
      if (!doubtful && !(await contest.claimedByOther(order.id))) doubtful = order;
      continue;
    }
    if (contest && !(await contest.claimedByOther(order.id)) && (await contest.othersInFlight())) {
      throw new OutcomeUnknownError(
        Math.max(1, Math.ceil((ctx.exactlyOnce?.settleMs ?? 60_000) / 1000)),
        'An order with these lines exists, and another purchase of the same lines for this customer is still waiting for its answer: which of the two it belongs to is not known yet.',
      );
    }
    if (await claim(order.id)) return order;
  }
  if (doubtful) {
    throw new OutcomeUnknownError(
      Math.max(1, Math.ceil((ctx.exactlyOnce?.settleMs ?? 60_000) / 1000)),
      `Order ${doubtful.id} has the same lines and was created just before this key's first attempt: whether it is this purchase is not known, and nothing is bought again until a person has looked.`,
    );
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

/** The add-on line's claim: the order and the line's subscription (or number). */
export const addOnClaim = (orderId: string, line: Line) => `${orderId}#${line.subscriptionId ?? line.lineItemNumber}`;

/**
 * The order with the requested add-on lines among those it did not have before the first attempt, each claimed for
 * this key: a line another key claimed (the same add-on bought twice on purpose) is passed over for the next one.
 */
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
  const free = (order.lineItems ?? []).filter(
    (line) => !line.subscriptionId || !known.has(line.subscriptionId.toLowerCase()),
  );
  for (const key of keys) {
    let mine = false;
    for (const line of free.filter((candidate) => lineMatches(candidate, key))) {
      free.splice(free.indexOf(line), 1);
      if (await claim(addOnClaim(order.id, line))) {
        mine = true;
        break;
      }
    }
    if (!mine) return undefined;
  }
  return order;
}

type CartLine = NonNullable<Cart['lineItems']>[number] & { termDuration?: string; friendlyName?: string };

const cartKeys = (lines: readonly CartLine[]): LineKey[] =>
  lines.map((line) => ({
    offerId: line.catalogItemId ?? '',
    quantity: line.quantity ?? 0,
    ...(line.termDuration ? { termDuration: line.termDuration } : {}),
    ...(line.friendlyName ? { friendlyName: line.friendlyName } : {}),
  }));

/**
 * What a checkout of this cart placed. An Active cart placed nothing (Partner Center keeps a cart Active while no
 * order came of it); an Ordered one placed the orders created since `since` whose lines are lines of the cart. Where
 * the orders list does not account for every order group, the checkout is asked again: for an Ordered cart Partner
 * Center documents that it repeats the first result (checkout is idempotent per cart) and places nothing. A cart that
 * can no longer be read (gone, expired) is looked for by the lines recorded before the first attempt; nothing found
 * then leaves the outcome unknown — never a resend to a cart that is gone.
 */
export async function findCheckout(
  ctx: ServiceContext,
  customerId: string,
  cartId: string,
  since: number,
  claim: Claim,
  recorded?: Cart,
): Promise<CartCheckoutResult | undefined> {
  const path = `/v1/customers/${segment(customerId)}/carts/${segment(cartId)}`;
  const cart = await read(ctx, 'reconcile-cart', path, Cart, 'a cart', 'undefined');
  if (cart && !same(cart.status, 'Ordered')) return undefined;
  const lines = ((cart ?? recorded)?.lineItems ?? []) as CartLine[];
  if (lines.length === 0) {
    throw new OutcomeUnknownError(
      60,
      `Cart ${cartId} can no longer be read and its lines were not recorded, so whether its checkout placed orders is not known.`,
    );
  }
  const keys = cartKeys(lines);
  const orders: Order[] = [];
  const covered = new Set<number>();
  for (const order of await ordersSince(ctx, customerId, since)) {
    const orderLines = order.lineItems ?? [];
    const indexes = orderLines.map((line) => keys.findIndex((key, i) => !covered.has(i) && lineMatches(line, key)));
    if (orderLines.length === 0 || indexes.some((i) => i < 0)) continue;
    if (!(await claim(order.id))) continue;
    for (const i of indexes) covered.add(i);
    orders.push(order);
    if (covered.size === keys.length) break;
  }
  if (covered.size === keys.length) return { orders, orderErrors: [] };
  if (!cart) {
    throw new OutcomeUnknownError(
      60,
      `Cart ${cartId} can no longer be read and Partner Center's orders do not account for all its lines, so what its checkout placed is not known.`,
    );
  }
  return checkoutAgain(ctx, customerId, cartId, claim);
}

/** The first result of an Ordered cart's checkout, asked again (documented to repeat it); anything else: unknown. */
async function checkoutAgain(ctx: ServiceContext, customerId: string, cartId: string, claim: Claim) {
  let result: CartCheckoutResult;
  try {
    result = await sendFor(
      ctx,
      'reconcile-checkout',
      { method: 'POST', path: `/v1/customers/${segment(customerId)}/carts/${segment(cartId)}/checkout` },
      CartCheckoutResult,
      'a checkout result',
    );
  } catch (error) {
    throw new OutcomeUnknownError(
      60,
      `Cart ${cartId} is Ordered, its orders are not all in Partner Center's list yet, and its checkout result could not be read again.`,
      (error as { ids?: OutcomeUnknownError['ids'] }).ids,
      error,
    );
  }
  if ((result.orders ?? []).length === 0 && (result.orderErrors ?? []).length === 0) {
    throw new OutcomeUnknownError(
      60,
      `Cart ${cartId} is Ordered, its orders are not all in Partner Center's list yet, and asking its checkout again said nothing about them.`,
    );
  }
  for (const order of result.orders ?? []) {
    if (!(await claim(order.id))) {
      throw new OutcomeUnknownError(60, `An order of cart ${cartId} is claimed by another key; a person must look.`);
    }
  }
  return result;
}
