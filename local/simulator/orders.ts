import { catalogRefusal } from './catalog.js';
import { type HandlerResult, invalidInput, json, pcError, type Reply, type RouteContext } from './http.js';
import { type BillingCycle, link, type Order, type OrderLineItem, type ResourceCollection } from './models.js';
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
  randomString,
  renewsTo,
  stringRecord,
} from './validation.js';

const ORDER_FIELDS = [
  'billingCycle',
  'lineItems',
  'status',
  'creationDate',
  'partnerOnRecordAttestationAccepted',
] as const;
const LINE_FIELDS = [
  'lineItemNumber',
  'offerId',
  'subscriptionId',
  'parentSubscriptionId',
  'friendlyName',
  'quantity',
  'termDuration',
  'partnerIdOnRecord',
  'provisioningContext',
  'renewsTo',
] as const;

/** An order line as requested, before the service assigns ids and links. */
export interface NewOrderLine {
  offerId: string;
  quantity: number;
  friendlyName?: string;
  termDuration?: string;
  parentSubscriptionId?: string;
  partnerIdOnRecord?: string;
  provisioningContext?: Record<string, string>;
  renewsTo?: { termDuration: string };
  /** Lets checkout know a base line's subscription id before building its add-on lines. */
  presetSubscriptionId?: string;
}

interface RequestedLine extends NewOrderLine {
  lineItemNumber: number;
  subscriptionId?: string;
}

/** Documented ids look like `Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1`. */
const newOrderId = (): string => `Cs_${randomString(30)}`;

function catalogLinks(offerId: string): Pick<OrderLineItem['links'], 'product' | 'sku' | 'availability'> {
  // Catalog (NCE) ids are "{productId}:{skuId}:{availabilityId}"; legacy offer GUIDs have no catalog links.
  const [product, sku, availability, ...rest] = offerId.split(':');
  if (!product || !sku || !availability || rest.length > 0) return {};
  const base = `/products/${product}`;
  return {
    product: link(`${base}?country=US`),
    sku: link(`${base}/skus/${sku}?country=US`),
    availability: link(`${base}/skus/${sku}/availabilities/${availability}?country=US`),
  };
}

function buildLine(customerId: string, lineItemNumber: number, line: NewOrderLine): OrderLineItem {
  const subscriptionId = line.presetSubscriptionId ?? newGuid();
  return {
    lineItemNumber,
    offerId: line.offerId,
    subscriptionId,
    ...(line.parentSubscriptionId !== undefined && { parentSubscriptionId: line.parentSubscriptionId }),
    ...(line.friendlyName !== undefined && { friendlyName: line.friendlyName }),
    quantity: line.quantity,
    ...(line.termDuration !== undefined && { termDuration: line.termDuration }),
    transactionType: 'New',
    ...(line.partnerIdOnRecord !== undefined && { partnerIdOnRecord: line.partnerIdOnRecord }),
    ...(line.provisioningContext !== undefined && { provisioningContext: line.provisioningContext }),
    ...(line.renewsTo !== undefined && { renewsTo: line.renewsTo }),
    links: {
      ...catalogLinks(line.offerId),
      subscription: link(`/customers/${customerId}/subscriptions/${subscriptionId}`),
    },
  };
}

/** Shared by order creation and cart checkout so both produce identical orders. */
export function buildOrder(
  customerId: string,
  billingCycle: BillingCycle,
  lines: readonly NewOrderLine[],
  now: number,
  attestation?: boolean,
): Order {
  const id = newOrderId();
  const self = `/customers/${customerId}/orders/${id}`;
  return {
    id,
    alternateId: randomString(12, '0123456789abcdef'),
    referenceCustomerId: customerId,
    billingCycle,
    lineItems: lines.map((line, i) => buildLine(customerId, i, line)),
    currencyCode: 'USD',
    currencySymbol: '$',
    creationDate: new Date(now).toISOString(),
    // Reported as pending in the answer to the purchase; the stored copy is
    // flipped to completed on commit (provisioning is instantaneous here).
    status: 'pending',
    transactionType: 'UserPurchase',
    ...(attestation !== undefined && { partnerOnRecordAttestationAccepted: attestation }),
    links: {
      self: link(self),
      provisioningStatus: link(`${self}/provisioningstatus`),
      patchOperation: link(self, 'PATCH'),
    },
    attributes: { objectType: 'Order' },
  };
}

/**
 * The service rejects read-only properties on input with an enum/format error
 * (seen in the wild: `The provided value 'none' is not a valid OrderStatus.`).
 */
function rejectReadOnly(input: Partial<Record<(typeof ORDER_FIELDS)[number], unknown>>): Reply | undefined {
  if (input.status !== undefined) {
    return pcError(400, 0, `The provided value '${String(input.status)}' is not a valid OrderStatus.`);
  }
  if (input.creationDate !== undefined) {
    return pcError(
      400,
      0,
      `The provided value '${String(input.creationDate)}' is not valid for read-only property CreationDate.`,
    );
  }
  return undefined;
}

function parseLines(value: unknown): Parsed<RequestedLine[]> {
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, reply: invalidInput('The order must contain at least one line item.') };
  }
  if (!value.every(isRecord)) return { ok: false, reply: invalidInput('Line items must be objects.') };
  const raw = value.map((item) => canonical(item, LINE_FIELDS));
  const numbering = checkLineNumbers(raw.map((l) => l.lineItemNumber));
  if (numbering) return { ok: false, reply: numbering };

  const lines: RequestedLine[] = [];
  for (const l of raw) {
    const n = l.lineItemNumber as number;
    if (typeof l.offerId !== 'string' || l.offerId.trim() === '') {
      return { ok: false, reply: invalidInput(`lineItems[${n}].offerId is required.`) };
    }
    if (!isPositiveInt(l.quantity)) {
      return { ok: false, reply: invalidInput(`lineItems[${n}].quantity must be a positive integer.`) };
    }
    if (l.offerId.includes(INVALID_OFFER_MARKER)) return { ok: false, reply: invalidOffer(l.offerId) };
    lines.push({
      lineItemNumber: n,
      offerId: l.offerId,
      quantity: l.quantity,
      subscriptionId: optionalString(l.subscriptionId),
      parentSubscriptionId: optionalString(l.parentSubscriptionId),
      friendlyName: optionalString(l.friendlyName),
      termDuration: optionalString(l.termDuration),
      partnerIdOnRecord: optionalString(l.partnerIdOnRecord),
      provisioningContext: stringRecord(l.provisioningContext),
      renewsTo: renewsTo(l.renewsTo),
    });
  }
  return { ok: true, value: lines.sort((a, b) => a.lineItemNumber - b.lineItemNumber) };
}

type OrderInput = { billingCycle: BillingCycle; lines: RequestedLine[]; attestation?: boolean };

function parseOrder(body: string): Parsed<OrderInput> {
  const parsed = parseJsonObject(body);
  if (!parsed.ok) return parsed;
  const input = canonical(parsed.value, ORDER_FIELDS);
  const readOnly = rejectReadOnly(input);
  if (readOnly) return { ok: false, reply: readOnly };
  const cycle = input.billingCycle === undefined ? undefined : parseBillingCycle(input.billingCycle);
  if (cycle && !cycle.ok) return cycle;
  const lines = parseLines(input.lineItems);
  if (!lines.ok) return lines;
  const billingCycle = cycle?.value ?? 'monthly';
  if (billingCycle === 'unknown') {
    const offers = lines.value.map((l) => l.offerId).join(', ');
    return {
      ok: false,
      reply: pcError(400, 2004, `The following offer(s): ${offers} does not support billing cycle type: Unknown`),
    };
  }
  const attestation = input.partnerOnRecordAttestationAccepted;
  return {
    ok: true,
    value: {
      billingCycle,
      lines: lines.value,
      attestation: typeof attestation === 'boolean' ? attestation : undefined,
    },
  };
}

export function createOrder(ctx: RouteContext): HandlerResult {
  const input = parseOrder(ctx.body);
  if (!input.ok) return { reply: input.reply };
  // Add-ons must be bought by PATCHing the parent's order (Partner-Center-PowerShell #63).
  if (input.value.lines.some((l) => l.parentSubscriptionId !== undefined)) {
    return { reply: pcError(400, 2000, 'ParentSubscriptionId is not supported for this request.') };
  }
  const refused = ctx.store.catalogChecks && refusedByCatalog(input.value.lines, input.value.billingCycle);
  if (refused) return { reply: refused };
  const customerId = ctx.params.customerId;
  const order = buildOrder(customerId, input.value.billingCycle, input.value.lines, ctx.now, input.value.attestation);
  return {
    reply: json(201, order),
    // Pending until its lines are provisioned (provisioning.ts; at once without a provisioning delay).
    commit: () => ctx.store.addOrder(ctx.store.provisioning.placed(order, ctx.now)),
  };
}

/** The first line the catalog does not offer as asked (catalog.ts; products the catalog does not list pass). */
function refusedByCatalog(lines: readonly RequestedLine[], billingCycle: BillingCycle): Reply | undefined {
  for (const line of lines) {
    const refused = catalogRefusal({
      id: line.offerId,
      quantity: line.quantity,
      billingCycle,
      ...(line.termDuration === undefined ? {} : { termDuration: line.termDuration }),
    });
    if (refused) return refused;
  }
  return undefined;
}

const orderNotFound = (): Reply => pcError(404, 20000, 'Order Id not found');

/**
 * Adds add-on lines to an existing order. Lines that carry the subscriptionId
 * of a line already in the order are taken as "unchanged" so a client may send
 * back the whole order; every other line is a new add-on and needs a parent
 * subscription from this order. New lines are numbered after the existing ones.
 */
export function patchOrder(ctx: RouteContext): HandlerResult {
  const order = ctx.store.findOrder(ctx.params.customerId, ctx.params.orderId);
  if (!order) return { reply: orderNotFound() };
  const input = parseOrder(ctx.body);
  if (!input.ok) return { reply: input.reply };

  const subscriptions = new Set(order.lineItems.map((l) => l.subscriptionId));
  const added = input.value.lines.filter((l) => l.subscriptionId === undefined || !subscriptions.has(l.subscriptionId));
  for (const line of added) {
    if (line.parentSubscriptionId === undefined) {
      return {
        reply: invalidInput(`lineItems[${line.lineItemNumber}].parentSubscriptionId is required for an add-on.`),
      };
    }
    if (!subscriptions.has(line.parentSubscriptionId)) {
      return { reply: pcError(400, 800029, 'The add-on is not related to the specified parent subscription') };
    }
  }
  const refused = ctx.store.catalogChecks && refusedByCatalog(added, input.value.billingCycle);
  if (refused) return { reply: refused };
  const newLines = added.map((line, i) => buildLine(order.referenceCustomerId, order.lineItems.length + i, line));
  const updated: Order = { ...order, lineItems: [...order.lineItems, ...newLines], status: 'pending' };
  return {
    reply: json(200, updated),
    commit: () => {
      order.lineItems.push(...newLines);
      ctx.store.provisioning.added(order, newLines, ctx.now);
    },
  };
}

export function getOrder(ctx: RouteContext): HandlerResult {
  ctx.store.provisioning.settle(ctx.store, ctx.now);
  const order = ctx.store.findOrder(ctx.params.customerId, ctx.params.orderId);
  return { reply: order ? json(200, order) : orderNotFound() };
}

export function listOrders(ctx: RouteContext): HandlerResult {
  ctx.store.provisioning.settle(ctx.store, ctx.now);
  // The documented lag: an order appears in the list only `listLagMs` after it was placed.
  let orders = ctx.store
    .ordersOf(ctx.params.customerId)
    .filter((o) => Date.parse(o.creationDate) <= ctx.now - ctx.store.listLagMs);
  const billingType = [...ctx.query].find(([k]) => k.toLowerCase() === 'billingtype')?.[1];
  if (billingType !== undefined) {
    const cycle = parseBillingCycle(billingType);
    if (!cycle.ok) return { reply: cycle.reply };
    orders = orders.filter((o) => o.billingCycle === cycle.value);
  }
  const collection: ResourceCollection<Order> = {
    totalCount: orders.length,
    items: orders,
    links: { self: link(`/customers/${ctx.params.customerId}/orders`) },
    attributes: { objectType: 'Collection' },
  };
  return { reply: json(200, collection) };
}
