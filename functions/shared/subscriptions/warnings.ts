// RefundWindowClosing: a warning some hours before the refund window of a subscription bought through this service
// closes (REFUND_WARNING_HOURS; off by default), so that a person can review a purchase while it can still be undone.
//
// Mechanism: no scheduler of our own, the tracking delay queue that provisioning tracking already has. When an order
// is provisioned, tracking knows its subscriptions (lifecycle/tracking.ts); for each, one message goes on the queue,
// due `REFUND_WARNING_HOURS` before its window closes. SQS delays a message 15 minutes at most, so the message is
// passed on every 15 minutes until it is due (the tracker does that without reading anything); when due, the
// subscription is read once (on the polling budget) and the warning published if it can still be cancelled.
// Cost for a 24-hour warning: (168 − 24) h × 4 = 576 hops of one SQS message, no Partner Center request, then one
// read; see docs/after-purchase.md for the figures and the alternative (an EventBridge Scheduler one-off schedule).
import * as z from 'zod/mini';
import { logger } from '../log.js';
import type { ServiceContext } from '../services/context.js';
import type { Subscription } from './schemas.js';
import { readSubscription } from './service.js';
import { REFUND_WINDOW_MS, windowsOf } from './windows.js';

/** SQS's longest delay. */
const MAX_DELAY_SECONDS = 900;

export const RefundWarningMessage = z.strictObject({
  v: z.literal(1),
  kind: z.literal('refund-window'),
  customerId: z.string().check(z.minLength(1)),
  subscriptionId: z.string().check(z.minLength(1)),
  orderId: z.optional(z.string()),
  operation: z.optional(z.string()),
  idempotencyKey: z.optional(z.string()),
  /** Epoch ms: when to warn, and when the window closes. */
  warnAt: z.number(),
  closesAt: z.number(),
});
export type RefundWarningMessage = z.infer<typeof RefundWarningMessage>;

export const isRefundWarning = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && (body as { kind?: unknown }).kind === 'refund-window';

/** The delay queue, as tracking has it. */
export interface WarningQueue {
  send(message: RefundWarningMessage, delaySeconds: number): Promise<void>;
}

export interface RefundWarnings {
  /** Puts one warning per subscription on the queue. Never throws: a failure is logged. */
  schedule(order: {
    customerId: string;
    orderId: string;
    subscriptions: readonly { id: string }[];
    operation?: string;
    idempotencyKey?: string;
  }): Promise<void>;
}

const delayUntil = (at: number, now: number) => Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.ceil((at - now) / 1000)));

/** When the window of a listed subscription closes: its own field, else 168 hours after it was created (or now). */
function closesAt(subscription: Record<string, unknown>, now: number): number {
  const stated = Date.parse(String(subscription.cancellationAllowedUntilDate ?? ''));
  if (!Number.isNaN(stated)) return stated;
  const created = Date.parse(String(subscription.creationDate ?? ''));
  return (Number.isNaN(created) ? now : created) + REFUND_WINDOW_MS;
}

export function refundWarnings(queue: WarningQueue, options: { leadMs: number; now?: () => number }): RefundWarnings {
  const now = options.now ?? Date.now;
  return {
    async schedule(order) {
      const at = now();
      await Promise.all(
        order.subscriptions.map(async (subscription) => {
          const closes = closesAt(subscription as Record<string, unknown>, at);
          const warnAt = Math.max(at, closes - options.leadMs);
          if (closes <= at) return;
          try {
            await queue.send(
              {
                v: 1,
                kind: 'refund-window',
                customerId: order.customerId,
                subscriptionId: subscription.id,
                orderId: order.orderId,
                ...(order.operation ? { operation: order.operation } : {}),
                ...(order.idempotencyKey ? { idempotencyKey: order.idempotencyKey } : {}),
                warnAt,
                closesAt: closes,
              },
              delayUntil(warnAt, at),
            );
          } catch (error) {
            logger.error('refund window warning not scheduled', {
              trackingProblem: 'warning-not-scheduled',
              subscriptionId: subscription.id,
              error,
            });
          }
        }),
      );
    },
  };
}

export interface WarningDependencies {
  partnerCenter: ServiceContext['partnerCenter'];
  queue: WarningQueue;
  publish(events: { detailType: 'RefundWindowClosing'; detail: Record<string, unknown> }[]): Promise<void>;
  budget: { take(requests: number): Promise<boolean> };
  now?: () => number;
}

export type WarningResult = 'waiting' | 'warned' | 'skipped' | 'deferred';

/**
 * One hop of a warning: passed on when not due yet (no read), else the subscription is read and the warning published
 * when it can still be cancelled. Throws only when neither could be done (the message is then delivered again).
 */
export async function handleRefundWarning(
  message: RefundWarningMessage,
  deps: WarningDependencies,
  call: { correlationId: string; deadline: number },
): Promise<WarningResult> {
  const now = (deps.now ?? Date.now)();
  if (now >= message.closesAt) return 'skipped';
  if (now < message.warnAt) {
    await deps.queue.send(message, delayUntil(message.warnAt, now));
    return 'waiting';
  }
  if (!(await deps.budget.take(1))) {
    await deps.queue.send(message, 60);
    return 'deferred';
  }
  const ctx: ServiceContext = {
    partnerCenter: deps.partnerCenter,
    correlationId: call.correlationId,
    deadline: call.deadline,
    dryRun: false,
  };
  let subscription: Subscription;
  try {
    subscription = await readSubscription(ctx, message.customerId, message.subscriptionId);
  } catch (error) {
    logger.warn('refund window warning: the subscription could not be read; asking again in a minute', { error });
    await deps.queue.send(message, 60);
    return 'deferred';
  }
  const windows = windowsOf(subscription, now);
  if (!windows.cancellable) {
    logger.info('refund window warning not needed: the subscription can no longer be cancelled', {
      subscriptionId: message.subscriptionId,
      status: subscription.status,
    });
    return 'skipped';
  }
  await deps.publish([
    {
      detailType: 'RefundWindowClosing',
      detail: {
        customerId: message.customerId,
        subscriptionId: message.subscriptionId,
        ...(message.orderId ? { orderId: message.orderId } : {}),
        ...(message.operation ? { operation: message.operation } : {}),
        ...(message.idempotencyKey ? { idempotencyKey: message.idempotencyKey } : {}),
        offerId: subscription.offerId ?? null,
        quantity: subscription.quantity,
        refundableUntil: windows.refundableUntil,
        removableSeats: windows.removableSeats,
        seatWindows: windows.seatWindows,
        hoursLeft: windows.refundableUntil
          ? Math.round(((Date.parse(windows.refundableUntil) - now) / 3_600_000) * 10) / 10
          : 0,
      },
    },
  ]);
  return 'warned';
}
