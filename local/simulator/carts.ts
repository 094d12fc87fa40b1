import { catalogRefusal } from './catalog.js';
import {
  type HandlerResult,
  invalidInput,
  json,
  pcError,
  type Reply,
  type RouteContext,
  type RouteParams,
} from './http.js';
import {
  type BillingCycle,
  type Cart,
  type CartAddonItem,
  type CartCheckoutResult,
  type CartLineItem,
  link,
  type Order,
  type OrderError,
} from './models.js';
import { buildOrder, type NewOrderLine } from './orders.js';
import type { CartRecord } from './store.js';
import {
  canonical,
  checkLineNumbers,
  INVALID_OFFER_MARKER,
  invalidOffer,
  isPositiveInt,
  isRecord,
  newGuid,
  optionalString,
  type Parsed,
  parseBillingCycle,
  parseJsonObject,
  renewsTo,
  stringRecord,
} from './validation.js';

/** Current docs: "Carts expire 7 days from the initial creation." */
export const CART_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** Test hook: a line whose catalogItemId contains this marker makes its order group fail at checkout. */
export const PARTIAL_FAILURE_MARKER = 'PARTIALFAIL';

/**
 * Stands in for the object id of the user (or, app-only, the service
 * principal) that last modified the cart; fixed so tests can assert on it.
 */
export const SIMULATOR_USER_OBJECT_ID = '5d3a1c9e-7b2f-4e8a-9c61-0f4b2d8e6a17';

const CART_FIELDS = ['lineItems', 'partnerOnRecordAttestationAccepted'] as const;
const LINE_FIELDS = [
  'id',
  'catalogItemId',
  'friendlyName',
  'quantity',
  'billingCycle',
  'termDuration',
  'participants',
  'provisioningContext',
  'addonItems',
  'renewsTo',
  'promotionId',
] as const;
const ADDON_FIELDS = ['catalogItemId', 'quantity', 'billingCycle', 'termDuration', 'friendlyName'] as const;

const catalogIdMissing = (): Reply => pcError(400, 900142, 'The catalog item id is not present');
const cartNotFound = (): Reply => pcError(404, 800008, 'Unable to retrieve cart Id');

function parseAddons(value: unknown, parentCycle: BillingCycle, where: string): Parsed<CartAddonItem[] | undefined> {
  if (value === undefined) return { ok: true, value: undefined };
  if (!Array.isArray(value) || !value.every(isRecord)) {
    return { ok: false, reply: invalidInput(`${where}.addonItems must be an array of objects.`) };
  }
  const addons: CartAddonItem[] = [];
  for (const raw of value.map((item) => canonical(item, ADDON_FIELDS))) {
    if (typeof raw.catalogItemId !== 'string' || raw.catalogItemId === '')
      return { ok: false, reply: catalogIdMissing() };
    if (!isPositiveInt(raw.quantity)) {
      return { ok: false, reply: invalidInput(`${where}.addonItems quantity must be a positive integer.`) };
    }
    if (raw.catalogItemId.includes(INVALID_OFFER_MARKER)) return { ok: false, reply: invalidOffer(raw.catalogItemId) };
    const cycle = raw.billingCycle === undefined ? undefined : parseBillingCycle(raw.billingCycle);
    if (cycle && !cycle.ok) return cycle;
    addons.push({
      catalogItemId: raw.catalogItemId,
      quantity: raw.quantity,
      billingCycle: cycle?.value ?? parentCycle,
      ...(typeof raw.termDuration === 'string' && { termDuration: raw.termDuration }),
      ...(typeof raw.friendlyName === 'string' && { friendlyName: raw.friendlyName }),
    });
  }
  return { ok: true, value: addons };
}

function parseCartLines(value: unknown): Parsed<CartLineItem[]> {
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, reply: invalidInput('The cart must contain at least one line item.') };
  }
  if (!value.every(isRecord)) return { ok: false, reply: invalidInput('Line items must be objects.') };
  const raw = value.map((item) => canonical(item, LINE_FIELDS));
  // Every sample numbers cart lines 0..n-1; when the client omits ids we number them.
  if (raw.some((l) => l.id !== undefined)) {
    const numbering = checkLineNumbers(raw.map((l) => l.id));
    if (numbering) return { ok: false, reply: numbering };
  }

  const lines: CartLineItem[] = [];
  for (const [index, l] of raw.entries()) {
    const id = (l.id as number | undefined) ?? index;
    const where = `lineItems[${id}]`;
    if (typeof l.catalogItemId !== 'string' || l.catalogItemId.trim() === '')
      return { ok: false, reply: catalogIdMissing() };
    if (!isPositiveInt(l.quantity))
      return { ok: false, reply: invalidInput(`${where}.quantity must be a positive integer.`) };
    if (l.billingCycle === undefined) return { ok: false, reply: invalidInput(`${where}.billingCycle is required.`) };
    const cycle = parseBillingCycle(l.billingCycle);
    if (!cycle.ok) return cycle;
    if (l.catalogItemId.includes(INVALID_OFFER_MARKER)) return { ok: false, reply: invalidOffer(l.catalogItemId) };
    const addons = parseAddons(l.addonItems, cycle.value, where);
    if (!addons.ok) return addons;
    const participants = Array.isArray(l.participants)
      ? l.participants.filter(isRecord).map((p) => {
          const kv = canonical(p, ['key', 'value'] as const);
          return { key: String(kv.key ?? ''), value: String(kv.value ?? '') };
        })
      : undefined;
    const line: CartLineItem = {
      id,
      catalogItemId: l.catalogItemId,
      ...(typeof l.friendlyName === 'string' && { friendlyName: l.friendlyName }),
      quantity: l.quantity,
      currencyCode: 'USD',
      billingCycle: cycle.value,
      ...(typeof l.termDuration === 'string' && { termDuration: l.termDuration }),
      ...(participants !== undefined && { participants }),
      ...(l.provisioningContext !== undefined && { provisioningContext: stringRecord(l.provisioningContext) }),
      orderGroup: '',
      ...(addons.value !== undefined && { addonItems: addons.value }),
      ...(l.renewsTo !== undefined && { renewsTo: renewsTo(l.renewsTo) }),
      ...(typeof l.promotionId === 'string' && { promotionId: optionalString(l.promotionId) }),
    };
    lines.push(line);
  }
  return { ok: true, value: withOrderGroups(lines.sort((a, b) => a.id - b.id)) };
}

/**
 * An Order carries one billing cycle, so a cart's lines become one order per billing cycle ("0", "1", … in the order
 * of the lines); failing lines (the test marker) get a group of their own so the rest of the cart can still be ordered.
 */
function withOrderGroups(lines: CartLineItem[]): CartLineItem[] {
  const groups = new Map<string, string>();
  return lines.map((line) => {
    const key = `${line.billingCycle}|${line.catalogItemId.includes(PARTIAL_FAILURE_MARKER)}`;
    if (!groups.has(key)) groups.set(key, String(groups.size));
    return { ...line, orderGroup: groups.get(key) ?? '0' };
  });
}

/** "Create a cart with add-ons to a customer order": the base subscription a line's provisioning context names. */
const parentOf = (line: { provisioningContext?: Record<string, string> }) =>
  Object.entries(line.provisioningContext ?? {}).find(([key]) => key.toLowerCase() === 'parentsubscriptionid')?.[1];

function parseCart(body: string): Parsed<{ lines: CartLineItem[]; attestation?: boolean }> {
  const parsed = parseJsonObject(body);
  if (!parsed.ok) return parsed;
  // Read-only cart fields are ignored rather than rejected: PUT sends back a whole cart obtained by GET.
  const input = canonical(parsed.value, CART_FIELDS);
  const lines = parseCartLines(input.lineItems);
  if (!lines.ok) return lines;
  const attestation = input.partnerOnRecordAttestationAccepted;
  return {
    ok: true,
    value: { lines: lines.value, attestation: typeof attestation === 'boolean' ? attestation : undefined },
  };
}

/**
 * Expiry only concerns carts that can still be checked out: an Ordered cart
 * has become orders, and its checkout answer must stay repeatable.
 */
function liveCart(ctx: RouteContext): CartRecord | undefined {
  const record = ctx.store.findCart(ctx.params.customerId, ctx.params.cartId);
  if (!record) return undefined;
  if (record.cart.status === 'Active' && ctx.now > record.expiresAt) return undefined;
  return record;
}

export function createCart(ctx: RouteContext): HandlerResult {
  const input = parseCart(ctx.body);
  if (!input.ok) return { reply: input.reply };
  const customerId = ctx.params.customerId;
  // The customer's subscriptions, read only when a line is an add-on (not for every cart).
  let subscriptions: Set<string> | undefined;
  for (const line of input.value.lines) {
    const parent = parentOf(line);
    if (parent === undefined) continue;
    subscriptions ??= new Set(
      ctx.store.ordersOf(customerId).flatMap((order) => order.lineItems.map((l) => l.subscriptionId.toLowerCase())),
    );
    if (!subscriptions.has(parent.toLowerCase())) {
      return { reply: pcError(400, 800029, 'The add-on is not related to the specified parent subscription') };
    }
  }
  const id = newGuid();
  const created = new Date(ctx.now).toISOString();
  const expiresAt = ctx.now + CART_LIFETIME_MS;
  const cart: Cart = {
    id,
    creationTimestamp: created,
    lastModifiedTimestamp: created,
    expirationTimestamp: new Date(expiresAt).toISOString(),
    lastModifiedUser: SIMULATOR_USER_OBJECT_ID,
    // A line the catalog does not offer as asked is kept, with its error; the checkout then refuses the cart.
    lineItems: ctx.store.catalogChecks ? input.value.lines.map(withCatalogError) : input.value.lines,
    status: 'Active',
    ...(input.value.attestation !== undefined && { partnerOnRecordAttestationAccepted: input.value.attestation }),
    links: { self: link(`/customers/${customerId}/carts/${id}`) },
    attributes: { objectType: 'Cart' },
  };
  return { reply: json(201, cart), commit: () => ctx.store.addCart({ cart, customerId, expiresAt }) };
}

export function getCart(ctx: RouteContext): HandlerResult {
  const record = liveCart(ctx);
  return { reply: record ? json(200, record.cart) : cartNotFound() };
}

/** Replaces the line items of an Active cart; the expiry clock is not reset. */
export function updateCart(ctx: RouteContext): HandlerResult {
  const record = liveCart(ctx);
  if (!record) return { reply: cartNotFound() };
  if (record.cart.status === 'Ordered') {
    // Undocumented for PUT; reuses the code the service has for re-submitting a cart.
    return { reply: pcError(400, 800065, `Cannot update an already submitted cart ${record.cart.id}.`) };
  }
  const input = parseCart(ctx.body);
  if (!input.ok) return { reply: input.reply };
  const updated: Cart = {
    ...record.cart,
    lineItems: input.value.lines,
    lastModifiedTimestamp: new Date(ctx.now).toISOString(),
    ...(input.value.attestation !== undefined && { partnerOnRecordAttestationAccepted: input.value.attestation }),
  };
  return { reply: json(201, updated), commit: () => Object.assign(record.cart, updated) };
}

const withCatalogError = (line: CartLineItem): CartLineItem => {
  const error = catalogError(line);
  return error ? { ...line, error } : line;
};

/** Cart line errors (CartErrorCode): InvalidInput, 10010. */
function catalogError(line: CartLineItem): CartLineItem['error'] {
  const refused = catalogRefusal({
    id: line.catalogItemId,
    quantity: line.quantity,
    billingCycle: line.billingCycle,
    ...(line.termDuration === undefined ? {} : { termDuration: line.termDuration }),
  });
  if (!refused) return undefined;
  const { description } = JSON.parse(refused.body) as { description: string };
  return { errorCode: 10010, errorDescription: description };
}

export const checkoutLockKey = (params: RouteParams): string => `checkout:${params.cartId.toLowerCase()}`;

export const checkoutBusy = (params: RouteParams): Reply =>
  pcError(409, 800064, `Cart ${params.cartId} is being processed by another request`);

function orderLines(lines: readonly CartLineItem[]): NewOrderLine[] {
  return lines.flatMap((line) => {
    const base: NewOrderLine = {
      offerId: line.catalogItemId,
      quantity: line.quantity,
      friendlyName: line.friendlyName,
      termDuration: line.termDuration,
      provisioningContext: line.provisioningContext,
      renewsTo: line.renewsTo,
      partnerIdOnRecord: line.participants?.find((p) => p.key === 'transaction_reseller')?.value,
      parentSubscriptionId: parentOf(line),
      presetSubscriptionId: newGuid(),
    };
    const addons = (line.addonItems ?? []).map(
      (addon): NewOrderLine => ({
        offerId: addon.catalogItemId,
        quantity: addon.quantity,
        friendlyName: addon.friendlyName,
        termDuration: addon.termDuration,
        parentSubscriptionId: base.presetSubscriptionId,
      }),
    );
    return [base, ...addons];
  });
}

/**
 * One order per order group. Idempotent per cart id as documented: once the
 * cart is Ordered, every later checkout repeats the first result. A checkout
 * in which every group failed leaves the cart Active so it can be retried.
 */
export function checkoutCart(ctx: RouteContext): HandlerResult {
  const record = liveCart(ctx);
  if (!record) return { reply: cartNotFound() };
  if (record.checkout) return { reply: json(201, record.checkout) };
  const refused = (ctx.store.catalogChecks ? record.cart.lineItems : [])
    .map((line) => ({ line, error: catalogError(line) }))
    .filter((entry) => entry.error !== undefined);
  if (refused.length > 0) {
    return {
      reply: pcError(
        400,
        800009,
        'Error in Cart item(s)',
        refused.map(({ line, error }) => `lineItems[${line.id}] ${line.catalogItemId}: ${error?.errorDescription}`),
      ),
    };
  }

  const groups = new Map<string, CartLineItem[]>();
  for (const line of record.cart.lineItems) {
    groups.set(line.orderGroup, [...(groups.get(line.orderGroup) ?? []), line]);
  }
  const orders: Order[] = [];
  const orderErrors: OrderError[] = [];
  for (const [orderGroupId, lines] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    if (lines.some((l) => l.catalogItemId.includes(PARTIAL_FAILURE_MARKER))) {
      orderErrors.push({ orderGroupId, code: 800005, description: 'Create order is not successful' });
      continue;
    }
    const cycle = lines[0]?.billingCycle ?? 'monthly';
    orders.push(
      buildOrder(record.customerId, cycle, orderLines(lines), ctx.now, record.cart.partnerOnRecordAttestationAccepted),
    );
  }
  const result: CartCheckoutResult = { orders, orderErrors };
  return {
    reply: json(201, result),
    commit: () => {
      for (const order of orders) ctx.store.addOrder(ctx.store.provisioning.placed(order, ctx.now));
      if (orders.length === 0) return;
      record.checkout = structuredClone(result);
      record.cart.status = 'Ordered';
      record.cart.lastModifiedTimestamp = new Date(ctx.now).toISOString();
    },
  };
}
