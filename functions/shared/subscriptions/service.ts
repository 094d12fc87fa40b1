// Undoing a purchase while it is still free, and deciding what renews (docs/after-purchase.md, "Undoing a purchase").
// Every operation is one PATCH of the Subscription resource (the full resource read back, with one thing changed),
// and each is idempotent by construction, so a retry can never apply it twice:
//   cancel              status: "deleted"                  (cancel-an-azure-marketplace-subscription)
//   reduce              quantity: <absolute target>         (change-the-quantity-of-a-subscription)
//   auto-renew          autoRenewEnabled: true | false      (update-autorenew-for-an-azure-marketplace-subscription)
//   schedule            scheduledNextTermInstructions: {…}  (create-scheduled-changes)
//   cancel schedule     scheduledNextTermInstructions: null (not documented: see the docs page)
// Before sending, the subscription is read (one GET): a cancel or reduction outside its window is refused with
// 422 `outside-refund-window` and nothing is sent. A reduction names seats to remove; the absolute target is worked
// out once and, with an idempotency key, recorded under the key before the PATCH (intents.ts), so a retry sets the
// same target instead of subtracting again. After an answer that did not come (a lost answer, a timeout, a 5xx) or
// a refusal, the subscription is read back and the truth is answered: done (`reconciled: true`), or not done.
import {
  AmbiguousAttemptError,
  IdempotencyStoreError,
  OutcomeUnknownError,
  PartnerCenterError,
  UpstreamUnavailableError,
} from '../errors.js';
import { logger } from '../log.js';
import type { PartnerCenterRequest } from '../partner-center/client.js';
import { callOptions, type ServiceContext, type ServiceResult, segment, sendFor } from '../services/context.js';
import { OutsideRefundWindowError, SubscriptionStateError } from './errors.js';
import type { ChangeIntents } from './intents.js';
import {
  type NextTermInstructions,
  type ScheduleRequest,
  Subscription,
  type SubscriptionCommandPayload,
} from './schemas.js';
import { type Windows, windowsOf } from './windows.js';

/** What the operations need besides the service context. */
export interface ChangeSettings {
  /** Where a keyed reduction records its target; absent: a keyed reduction fails closed (503). */
  intents?: ChangeIntents;
  /** The clock the windows are judged by. */
  now: () => number;
  /** Where the request's fields are, for refusals (`/body`, `/detail`, or the invocation's top level). */
  paths: { ids: string; body: string };
}

/** The subscription as the read route and every answer show it: Partner Center's resource and its windows. */
export interface SubscriptionView {
  subscription: Subscription;
  windows: Windows;
  /** What is scheduled for the next term (null: nothing), and what would delete it. */
  renewal: {
    autoRenewEnabled: boolean;
    renewsOn: string | null;
    scheduledNextTermInstructions: NextTermInstructions | null;
    note: string;
  };
}

const DROP_NOTE =
  'Any immediate (mid-term) change before renewal — a cancel, a seat reduction or addition — deletes the changes scheduled for renewal (create-scheduled-changes).';

const subscriptionPath = (customerId: string, subscriptionId: string) =>
  `/v1/customers/${segment(customerId)}/subscriptions/${segment(subscriptionId)}`;

export function viewOf(subscription: Subscription, now: number): SubscriptionView {
  const windows = windowsOf(subscription, now);
  return {
    subscription,
    windows,
    renewal: {
      autoRenewEnabled: subscription.autoRenewEnabled ?? false,
      renewsOn: windows.renewsOn,
      scheduledNextTermInstructions: subscription.scheduledNextTermInstructions ?? null,
      note: DROP_NOTE,
    },
  };
}

/** `GET /customers/{customerId}/subscriptions/{subscriptionId}`: one read, fresh MS-RequestId. */
export const readSubscription = (ctx: ServiceContext, customerId: string, subscriptionId: string) =>
  sendFor(
    ctx,
    'read-subscription',
    { method: 'GET', path: subscriptionPath(customerId, subscriptionId) },
    Subscription,
    'a subscription',
  );

/** What one change asks for: the PATCH body's change, and when the subscription shows it done. */
interface Change {
  step: string;
  patch: Record<string, unknown>;
  done(subscription: Subscription): boolean;
  /** An immediate change: whatever was scheduled for renewal is deleted by it. */
  dropsScheduled: boolean;
}

const isDeleted = (s: Subscription) => (s.status ?? '').toLowerCase() === 'deleted';
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Runs one change: the read and the checks have been made; sends it and answers what is true afterwards. */
async function apply(
  ctx: ServiceContext,
  payload: SubscriptionCommandPayload,
  before: Subscription,
  change: Change,
  settings: ChangeSettings,
  extra: Record<string, unknown> = {},
): Promise<ServiceResult> {
  const path = subscriptionPath(payload.customerId, payload.subscriptionId);
  const scheduled = before.scheduledNextTermInstructions ?? null;
  const dropping = change.dropsScheduled && scheduled !== null;
  const request: PartnerCenterRequest = { method: 'PATCH', path, body: { ...before, ...change.patch } };
  if (ctx.dryRun) {
    return {
      status: 200,
      body: {
        dryRun: true,
        requests: [
          ctx.partnerCenter.describe(request, {
            correlationId: ctx.correlationId,
            ...(ctx.requestIdFor ? { requestId: ctx.requestIdFor(change.step) } : {}),
          }),
        ],
        ...viewOf(before, settings.now()),
        ...extra,
        ...(dropping ? { willDropScheduledChanges: scheduled, warning: DROP_NOTE } : {}),
      },
    };
  }
  let after: Subscription;
  let reconciled = false;
  try {
    const response = await ctx.partnerCenter.send(request, callOptions(ctx, change.step, 'PATCH'));
    const parsed = Subscription.safeParse(response.body);
    logger.info('partner center answered', {
      step: change.step,
      status: response.status,
      attempts: response.attempts,
      upstreamRequestId: response.ids.requestId,
    });
    after = parsed.success ? parsed.data : await readSubscription(ctx, payload.customerId, payload.subscriptionId);
  } catch (error) {
    const unknown =
      error instanceof AmbiguousAttemptError ||
      error instanceof UpstreamUnavailableError ||
      (error instanceof PartnerCenterError && error.status >= 500);
    const refused = error instanceof PartnerCenterError && error.status >= 400 && error.status < 500;
    if (!unknown && !(refused && error.status !== 429)) throw error;
    // The truth, read back: an earlier attempt whose answer was lost may have made the change (and a repeat of it is
    // then refused), or it was not made at all.
    let now: Subscription;
    try {
      now = await readSubscription(ctx, payload.customerId, payload.subscriptionId);
    } catch (readError) {
      logger.warn('subscription could not be read back after the change', { step: change.step, error: readError });
      throw unknown
        ? new OutcomeUnknownError(
            5,
            'The change was sent and the subscription could not be read back to tell whether it was made.',
            undefined,
            error,
          )
        : error;
    }
    if (!change.done(now)) {
      if (refused) throw error;
      throw new OutcomeUnknownError(
        5,
        'The change was sent without an answer and the subscription does not show it yet.',
        undefined,
        error,
      );
    }
    logger.info('change found made after its answer was lost or refused', { step: change.step });
    after = now;
    reconciled = true;
  }
  return {
    status: 200,
    body: {
      operation: payload.operation,
      customerId: payload.customerId,
      subscriptionId: payload.subscriptionId,
      ...viewOf(after, settings.now()),
      ...extra,
      ...(dropping ? { droppedScheduledChanges: scheduled, warning: DROP_NOTE } : {}),
    },
    ...(reconciled ? { reconciled } : {}),
  };
}

/** What is already true needs no request: the answer says so (a retry after a lost answer ends here). */
function alreadyDone(
  payload: SubscriptionCommandPayload,
  subscription: Subscription,
  settings: ChangeSettings,
  extra = {},
) {
  return {
    status: 200,
    body: {
      operation: payload.operation,
      customerId: payload.customerId,
      subscriptionId: payload.subscriptionId,
      alreadyDone: true,
      ...viewOf(subscription, settings.now()),
      ...extra,
    },
  } satisfies ServiceResult;
}

function refuseUnlessActive(subscription: Subscription, settings: ChangeSettings) {
  const status = subscription.status ?? 'unknown';
  if (status.toLowerCase() !== 'active') {
    throw new SubscriptionStateError(`The subscription is ${status}: only an active subscription can be changed.`, [
      { path: `${settings.paths.ids}/subscriptionId`, message: `is ${status}` },
    ]);
  }
}

export async function runChange(
  ctx: ServiceContext,
  payload: SubscriptionCommandPayload,
  settings: ChangeSettings,
): Promise<ServiceResult> {
  const before = await readSubscription(ctx, payload.customerId, payload.subscriptionId);
  const now = settings.now();
  const windows = windowsOf(before, now);
  switch (payload.operation) {
    case 'cancelSubscription': {
      if (isDeleted(before)) return alreadyDone(payload, before, settings);
      refuseUnlessActive(before, settings);
      if (!windows.cancellable) {
        throw new OutsideRefundWindowError(
          { kind: 'cancel', refundableUntil: windows.refundableUntil, source: windows.source },
          `${settings.paths.ids}/subscriptionId`,
        );
      }
      return apply(
        ctx,
        payload,
        before,
        {
          step: 'cancel-subscription',
          patch: { status: 'deleted' },
          done: isDeleted,
          dropsScheduled: true,
        },
        settings,
      );
    }
    case 'reduceSeats':
      return reduce(ctx, payload, before, windows, settings);
    case 'changeAutoRenew': {
      if ((before.autoRenewEnabled ?? false) === payload.enabled) return alreadyDone(payload, before, settings);
      refuseUnlessActive(before, settings);
      return apply(
        ctx,
        payload,
        before,
        {
          step: 'change-auto-renew',
          patch: { autoRenewEnabled: payload.enabled },
          done: (s) => (s.autoRenewEnabled ?? false) === payload.enabled,
          // Turning auto-renew off leaves nothing to renew into.
          dropsScheduled: !payload.enabled,
        },
        settings,
      );
    }
    case 'scheduleRenewalChange': {
      refuseUnlessActive(before, settings);
      if (!before.autoRenewEnabled) {
        throw new SubscriptionStateError(
          'Changes can only be scheduled for a subscription that renews: turn auto-renew on first (create-scheduled-changes lists it as a prerequisite).',
          [{ path: `${settings.paths.ids}/subscriptionId`, message: 'has auto-renew turned off' }],
        );
      }
      const instructions = nextTerm(before, payload.changes);
      if (sameJson(before.scheduledNextTermInstructions, instructions)) return alreadyDone(payload, before, settings);
      return apply(
        ctx,
        payload,
        before,
        {
          step: 'schedule-renewal-change',
          patch: { scheduledNextTermInstructions: instructions },
          done: (s) => sameJson(s.scheduledNextTermInstructions, instructions),
          dropsScheduled: false,
        },
        settings,
      );
    }
    case 'cancelScheduledChange': {
      if (!before.scheduledNextTermInstructions) return alreadyDone(payload, before, settings);
      refuseUnlessActive(before, settings);
      return apply(
        ctx,
        payload,
        before,
        {
          step: 'cancel-scheduled-change',
          patch: { scheduledNextTermInstructions: null },
          done: (s) => !s.scheduledNextTermInstructions,
          dropsScheduled: false,
        },
        settings,
      );
    }
  }
}

/**
 * The next term's instructions: what the request names, the rest as the subscription is now. The product comes from
 * a catalog item id (`product:sku:availability`), else from the subscription's own offer id.
 */
function nextTerm(subscription: Subscription, changes: ScheduleRequest): NextTermInstructions {
  const [productId, skuId, availabilityId] = (changes.catalogItemId ?? subscription.offerId ?? '').split(':');
  const cycle = changes.billingCycle ?? subscription.billingCycle ?? undefined;
  return {
    product: {
      ...(productId ? { productId } : {}),
      ...(skuId ? { skuId } : {}),
      ...(availabilityId ? { availabilityId } : {}),
      ...(cycle ? { billingCycle: cycle.charAt(0).toUpperCase() + cycle.slice(1) } : {}),
      ...(changes.termDuration || subscription.termDuration
        ? { termDuration: changes.termDuration ?? subscription.termDuration }
        : {}),
    },
    quantity: changes.quantity ?? subscription.quantity,
    ...(changes.customTermEndDate ? { customTermEndDate: changes.customTermEndDate } : {}),
  };
}

/**
 * Seats, by absolute target: worked out once from the first read (quantity − seats to remove) and, with a key,
 * recorded before the PATCH; a retry reads the recorded target, so seats already removed are never removed again.
 */
async function reduce(
  ctx: ServiceContext,
  payload: Extract<SubscriptionCommandPayload, { operation: 'reduceSeats' }>,
  before: Subscription,
  windows: Windows,
  settings: ChangeSettings,
): Promise<ServiceResult> {
  const seatsPath = `${settings.paths.body}/seatsToRemove`;
  const intentId = ctx.requestIdFor?.('seat-intent');
  if (intentId && !ctx.dryRun && !settings.intents) {
    // Fail closed, as a purchase with a key and no store does: nothing is sent without its record.
    throw new IdempotencyStoreError(new Error('no store is configured to record the reduction before it is sent'));
  }
  const recorded = intentId && settings.intents ? await settings.intents.read(intentId) : undefined;
  if (recorded && before.quantity === recorded.target) {
    return { ...alreadyDone(payload, before, settings, { targetQuantity: recorded.target }), reconciled: true };
  }
  refuseUnlessActive(before, settings);
  if (recorded && before.quantity !== recorded.from) {
    throw new SubscriptionStateError(
      `The subscription has ${before.quantity} seats: this request (key) set out to take it from ${recorded.from} to ${recorded.target}, and the quantity changed since. Nothing was sent; read the subscription and send a new request with a new key.`,
      [{ path: seatsPath, message: `the quantity changed from ${recorded.from} to ${before.quantity} since` }],
    );
  }
  const target = recorded?.target ?? before.quantity - payload.seatsToRemove;
  if (target < 1) {
    throw new SubscriptionStateError(
      `The subscription has ${before.quantity} seats: removing ${payload.seatsToRemove} leaves none. Cancel the subscription instead (POST …/cancel).`,
      [{ path: seatsPath, message: `must be less than the subscription's ${before.quantity} seats` }],
    );
  }
  const removing = before.quantity - target;
  if (removing > windows.removableSeats) {
    throw new OutsideRefundWindowError(
      {
        kind: 'reduce',
        refundableUntil: windows.refundableUntil,
        removableSeats: windows.removableSeats,
        seatWindows: windows.seatWindows,
        requestedSeats: removing,
        source: windows.source,
      },
      seatsPath,
    );
  }
  const extra = { targetQuantity: target, seatsRemoved: removing };
  const change: Change = {
    step: 'reduce-seats',
    patch: { quantity: target },
    done: (s) => s.quantity === target,
    dropsScheduled: true,
  };
  if (ctx.dryRun || !intentId || !settings.intents) return apply(ctx, payload, before, change, settings, extra);
  const held = await settings.intents.record(intentId, { target, from: before.quantity, at: settings.now() });
  if (held.target !== target) {
    // Another attempt with this key recorded first (the key's lock makes this rare): its target is the one.
    return reduce(ctx, payload, before, windows, settings);
  }
  return apply(ctx, payload, before, change, settings, extra);
}
