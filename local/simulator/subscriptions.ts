// A new-commerce subscription after its purchase: its term, its refund windows, auto-renew and the changes scheduled
// for its next term. Served:
//   GET   /v1/customers/{id}/subscriptions/{subscriptionId}   the Subscription resource
//   PATCH /v1/customers/{id}/subscriptions/{subscriptionId}   the full resource back with what changes: `status:
//         "deleted"` (cancel), `quantity`, `autoRenewEnabled`, `scheduledNextTermInstructions` (null clears it)
// The rules are Partner Center's (docs/after-purchase.md has the pages): a subscription can be cancelled within 7 days
// (168 hours) of its purchase or renewal, "after this window has passed ... the API will throw an error"; seats can be
// added any time and removed only within 7 days of when they were added; a mid-term (immediate) change deletes what
// was scheduled for renewal; scheduling needs auto-renew on. The fields that say so are the documented ones:
// `cancellationAllowedUntilDate`, `refundableQuantity { totalQuantity, details[{ quantity, allowedUntilDateTime }] }`,
// `commitmentEndDate`, `scheduledNextTermInstructions { product { productId, skuId, availabilityId, billingCycle,
// termDuration }, quantity, customTermEndDate }`.
//
// A subscription is made from its order line the first time it is read or changed (the order's creation starts its
// term and its first seat batch); its state then lives here. Renewal happens lazily when the clock has passed the
// term's end: at 00:00 UTC the day after `commitmentEndDate`, with what was scheduled applied and a new window.
// Choices where the docs are silent are in README.md ("Subscriptions").
import { type HandlerResult, json, pcError, type RouteContext } from './http.js';
import { link, type Order, type OrderLineItem } from './models.js';
import type { Store } from './store.js';

/** "7 calendar days" as the tools in the field count them: 168 hours from the purchase, renewal or seat addition. */
export const REFUND_WINDOW_MS = 7 * 24 * 3_600_000;
const DAY_MS = 24 * 3_600_000;

interface SeatBatch {
  quantity: number;
  /** When these seats were bought (purchase, renewal or a mid-term addition): their window starts here. */
  addedAt: number;
}

export interface ScheduledNextTerm {
  product?: Record<string, unknown>;
  quantity?: number;
  customTermEndDate?: string;
}

interface SubscriptionRecord {
  id: string;
  customerId: string;
  offerId: string;
  friendlyName?: string;
  orderId: string;
  billingCycle: string;
  termDuration: string;
  creationDate: string;
  /** The current term's first instant (purchase, then each renewal). */
  termStart: number;
  /** `pending` until its order line is provisioned. */
  status: 'pending' | 'active' | 'deleted' | 'expired';
  autoRenewEnabled: boolean;
  batches: SeatBatch[];
  scheduled: ScheduledNextTerm | null;
  /** Renewals so far (a test reads it). */
  renewals: number;
}

/** `P1M`, `P1Y`, `P3Y` → the term's last day (inclusive, as new-commerce end dates are), at 00:00 UTC. */
export function termEnd(start: number, termDuration: string): number {
  const match = /^P(\d+)([MY])$/.exec(termDuration);
  const date = new Date(start);
  const months = match ? Number(match[1]) * (match[2] === 'Y' ? 12 : 1) : 1;
  const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, date.getUTCDate());
  return end - DAY_MS;
}

const iso = (ms: number) => new Date(ms).toISOString();
const seats = (record: SubscriptionRecord) => record.batches.reduce((sum, batch) => sum + batch.quantity, 0);
const refundable = (record: SubscriptionRecord, now: number) =>
  record.batches.filter((batch) => batch.addedAt + REFUND_WINDOW_MS > now);

export class Subscriptions {
  private readonly records = new Map<string, SubscriptionRecord>();

  /** The subscription an order line created, as it is now (made on first use, renewed when its term is over). */
  find(store: Store, customerId: string, subscriptionId: string, now: number): SubscriptionRecord | undefined {
    const key = subscriptionId.toLowerCase();
    let record = this.records.get(key);
    if (!record) {
      const found = lineOf(store, customerId, subscriptionId);
      if (!found) return undefined;
      const start = Date.parse(found.order.creationDate);
      record = {
        id: found.line.subscriptionId,
        customerId: found.order.referenceCustomerId,
        offerId: found.line.offerId,
        ...(found.line.friendlyName === undefined ? {} : { friendlyName: found.line.friendlyName }),
        orderId: found.order.id,
        billingCycle: found.order.billingCycle,
        termDuration: found.line.termDuration ?? 'P1M',
        creationDate: found.order.creationDate,
        termStart: start,
        status: 'pending',
        autoRenewEnabled: true,
        batches: [{ quantity: found.line.quantity, addedAt: start }],
        scheduled: null,
        renewals: 0,
      };
      this.records.set(key, record);
    }
    if (record.customerId.toLowerCase() !== customerId.toLowerCase()) return undefined;
    if (record.status === 'pending') {
      const found = lineOf(store, customerId, subscriptionId);
      if (found && store.provisioning.lineFulfilled(found.order, found.line, now)) record.status = 'active';
    }
    renewIfDue(record, now);
    return record;
  }

  /** A subscription as a list answers it: the state kept here once it has been read or changed. */
  overlay<T extends { id?: string; quantity?: number; status?: string }>(item: T, now: number): T {
    const record = item.id ? this.records.get(item.id.toLowerCase()) : undefined;
    // Not changed yet: the list's own view (it knows when the line is provisioned).
    if (!record || record.status === 'pending') return item;
    renewIfDue(record, now);
    return { ...item, ...view(record, now) };
  }

  clear(): void {
    this.records.clear();
  }
}

function lineOf(store: Store, customerId: string, subscriptionId: string) {
  const id = subscriptionId.toLowerCase();
  for (const order of store.ordersOf(customerId)) {
    for (const line of order.lineItems) {
      if (line.subscriptionId.toLowerCase() === id) return { order, line } as { order: Order; line: OrderLineItem };
    }
  }
  return undefined;
}

/** Renewal at 00:00 UTC the day after the term's last day: what was scheduled applies, the windows start again. */
function renewIfDue(record: SubscriptionRecord, now: number): void {
  for (;;) {
    if (record.status !== 'active') return;
    const renewsAt = termEnd(record.termStart, record.termDuration) + DAY_MS;
    if (now < renewsAt) return;
    if (!record.autoRenewEnabled) {
      record.status = 'expired';
      return;
    }
    const next = record.scheduled;
    const quantity = next?.quantity ?? seats(record);
    const product = (next?.product ?? {}) as { termDuration?: unknown; billingCycle?: unknown };
    if (typeof product.termDuration === 'string') record.termDuration = product.termDuration;
    if (typeof product.billingCycle === 'string') record.billingCycle = product.billingCycle.toLowerCase();
    record.termStart = renewsAt;
    record.batches = [{ quantity, addedAt: renewsAt }];
    record.scheduled = null;
    record.renewals++;
  }
}

function view(record: SubscriptionRecord, now: number) {
  const end = termEnd(record.termStart, record.termDuration);
  const open = refundable(record, now);
  const cancellable = record.status === 'active' && record.termStart + REFUND_WINDOW_MS > now;
  return {
    id: record.id,
    offerId: record.offerId,
    ...(record.friendlyName === undefined ? {} : { friendlyName: record.friendlyName }),
    quantity: seats(record),
    unitType: 'Licenses',
    creationDate: record.creationDate,
    effectiveStartDate: iso(record.termStart),
    commitmentEndDate: iso(end),
    // Null when the subscription can no longer be cancelled (as the SDK documents the field).
    cancellationAllowedUntilDate: cancellable ? iso(record.termStart + REFUND_WINDOW_MS) : null,
    refundableQuantity:
      record.status === 'active'
        ? {
            totalQuantity: open.reduce((sum, batch) => sum + batch.quantity, 0),
            details: open.map((batch) => ({
              quantity: batch.quantity,
              allowedUntilDateTime: iso(batch.addedAt + REFUND_WINDOW_MS),
            })),
          }
        : { totalQuantity: 0, details: [] },
    status: record.status,
    autoRenewEnabled: record.autoRenewEnabled,
    billingCycle: record.billingCycle,
    termDuration: record.termDuration,
    scheduledNextTermInstructions: record.scheduled,
    orderId: record.orderId,
    links: { self: link(`/customers/${record.customerId}/subscriptions/${record.id}`) },
    attributes: { objectType: 'Subscription' },
  };
}

const notFound = () => pcError(404, 20001, 'Subscription not found');

/** `GET /v1/customers/{id}/subscriptions/{subscriptionId}`. */
export function getSubscription(ctx: RouteContext): HandlerResult {
  ctx.store.provisioning.settle(ctx.store, ctx.now);
  const record = ctx.store.subscriptions.find(ctx.store, ctx.params.customerId, ctx.params.subscriptionId, ctx.now);
  return { reply: record ? json(200, view(record, ctx.now)) : notFound() };
}

/** Keys compared case-insensitively, as for orders (the SDK sends PascalCase). */
function field(body: Record<string, unknown>, name: string): { present: boolean; value: unknown } {
  const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? { present: false, value: undefined } : { present: true, value: body[key] };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * `PATCH /v1/customers/{id}/subscriptions/{subscriptionId}`. Every change is checked before any is made; the answer is
 * the subscription as it is afterwards. A change is committed only with the answer (`commit`), so the faults that
 * answer without committing or commit without answering apply as to purchases.
 */
export function patchSubscription(ctx: RouteContext): HandlerResult {
  ctx.store.provisioning.settle(ctx.store, ctx.now);
  const record = ctx.store.subscriptions.find(ctx.store, ctx.params.customerId, ctx.params.subscriptionId, ctx.now);
  if (!record) return { reply: notFound() };
  let body: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(ctx.body);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as Record<string, unknown>;
  } catch {
    return { reply: pcError(400, 800002, 'Invalid request input', ['The request body is not a Subscription.']) };
  }
  const now = ctx.now;
  const current = view(record, now);
  const status = field(body, 'status');
  const quantity = field(body, 'quantity');
  const autoRenew = field(body, 'autoRenewEnabled');
  const scheduled = field(body, 'scheduledNextTermInstructions');
  if (record.status !== 'active') {
    return {
      reply: pcError(400, 800036, `The subscription is ${record.status} and cannot be changed.`),
    };
  }
  const cancel = status.present && String(status.value).toLowerCase() === 'deleted';
  if (status.present && !cancel && String(status.value).toLowerCase() !== record.status) {
    return {
      reply: pcError(400, 800002, 'Invalid request input', [`Status '${String(status.value)}' is not supported.`]),
    };
  }
  if (cancel) {
    if (current.cancellationAllowedUntilDate === null) {
      return {
        reply: pcError(
          400,
          800094,
          'The subscription can no longer be canceled: its cancellation window of 7 days after purchase or renewal has passed.',
        ),
      };
    }
    return {
      reply: json(200, { ...view({ ...record, status: 'deleted', scheduled: null }, now) }),
      commit: () => {
        record.status = 'deleted';
        record.scheduled = null;
      },
    };
  }
  const next = { autoRenewEnabled: record.autoRenewEnabled, batches: record.batches, scheduled: record.scheduled };
  let midTerm = false;
  if (quantity.present && quantity.value !== null) {
    const wanted = quantity.value;
    if (typeof wanted !== 'number' || !Number.isInteger(wanted) || wanted < 1) {
      return {
        reply: pcError(400, 800002, 'Invalid request input', ['Quantity must be a whole number of at least 1.']),
      };
    }
    const have = seats(record);
    if (wanted > have) {
      next.batches = [...record.batches, { quantity: wanted - have, addedAt: now }];
      midTerm = true;
    } else if (wanted < have) {
      let remove = have - wanted;
      const open = refundable(record, now).reduce((sum, batch) => sum + batch.quantity, 0);
      if (remove > open) {
        return {
          reply: pcError(
            400,
            800093,
            `The quantity can only be reduced by seats added within the last 7 days: ${open} can be removed now, not ${remove}.`,
          ),
        };
      }
      // The newest seats go first.
      const batches = record.batches.map((batch) => ({ ...batch }));
      for (let i = batches.length - 1; i >= 0 && remove > 0; i--) {
        const batch = batches[i] as SeatBatch;
        if (batch.addedAt + REFUND_WINDOW_MS <= now) continue;
        const taken = Math.min(batch.quantity, remove);
        batch.quantity -= taken;
        remove -= taken;
      }
      next.batches = batches.filter((batch) => batch.quantity > 0);
      midTerm = true;
    }
  }
  if (autoRenew.present && autoRenew.value !== null) {
    if (typeof autoRenew.value !== 'boolean') {
      return { reply: pcError(400, 800002, 'Invalid request input', ['AutoRenewEnabled must be true or false.']) };
    }
    next.autoRenewEnabled = autoRenew.value;
  }
  // A mid-term change deletes what was scheduled (create-scheduled-changes); turning auto-renew off leaves nothing to
  // renew into (the simulator's choice: docs say scheduling needs auto-renew on).
  if (midTerm || !next.autoRenewEnabled) next.scheduled = null;
  if (scheduled.present && !same(scheduled.value, record.scheduled)) {
    if (scheduled.value === null) next.scheduled = null;
    else {
      if (!next.autoRenewEnabled) {
        return {
          reply: pcError(400, 800095, 'Changes can only be scheduled for a subscription with auto-renew turned on.'),
        };
      }
      const instructions = scheduled.value as ScheduledNextTerm;
      if (
        typeof instructions !== 'object' ||
        (instructions.quantity !== undefined &&
          !(Number.isInteger(instructions.quantity) && instructions.quantity >= 1))
      ) {
        return {
          reply: pcError(400, 800002, 'Invalid request input', ['ScheduledNextTermInstructions is not valid.']),
        };
      }
      next.scheduled = instructions;
    }
  }
  return {
    reply: json(200, view({ ...record, ...next }, now)),
    commit: () => {
      record.autoRenewEnabled = next.autoRenewEnabled;
      record.batches = next.batches;
      record.scheduled = next.scheduled;
    },
  };
}
