// Provisioning tracking: after every purchase that placed orders, from any entry point, each order is followed until
// every line is provisioned or the tracking window (24 h by default) has passed. No scheduler of our own and no idle
// waiting in a Lambda: each poll is one message on an SQS delay queue, delivered after the next pause of the schedule
// (1, 2, 5, 10, 15 minutes, then every 15 — SQS's longest delay), to a small function (track-provisioning) that reads
// the order once and either publishes the outcome or puts the next message on the queue.
//   every line provisioned            → OrderProvisioned (order id, subscription ids and quantities per line)
//   cancelled, or the window is over  → OrderProvisioningStalled (what is still unfulfilled)
// Polls share one budget with the reconciler (budget.ts): a poll that does not fit this minute goes back on the queue
// for a minute, so tracking many orders never takes more than POLL_BUDGET_PER_MINUTE of Partner Center's 500.
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { logger } from '../log.js';
import { afterAnswer, type Command, type PerformOptions } from '../purchase/model.js';
import type { ServiceContext } from '../services/context.js';
import type { RefundWarningMessage, RefundWarnings } from '../subscriptions/warnings.js';
import { FINAL_REQUESTS, POLL_REQUESTS, type PollBudget } from './budget.js';
import type { LifecycleEvent, Publish } from './events.js';
import { type MergedLine, type OrderStatusView, readOrderStatus, readOrderSubscriptions } from './status.js';

/** One poll to come: what is followed, since when, and how many polls it has had. */
export const TrackingMessage = z.strictObject({
  v: z.literal(1),
  customerId: z.string().check(z.minLength(1)),
  orderId: z.string().check(z.minLength(1)),
  /** Epoch ms of the purchase: the window is counted from here. */
  startedAt: z.number(),
  /** Polls made so far. */
  poll: z.int().check(z.gte(0)),
  /** The purchase that placed the order (events carry them, for matching). */
  operation: z.optional(z.string()),
  idempotencyKey: z.optional(z.string()),
  correlationId: z.optional(z.string()),
});
export type TrackingMessage = z.infer<typeof TrackingMessage>;

export interface TrackingQueue {
  /**
   * Puts a message on the delay queue, delivered after `delaySeconds` (at most 900): a poll, or a refund window
   * warning on its way (subscriptions/warnings.ts).
   */
  send(message: TrackingMessage | RefundWarningMessage, delaySeconds: number): Promise<void>;
}

/** The pause before poll `poll + 1`: the schedule's entry, the last one repeated. */
export const delayAfter = (poll: number, delays: readonly number[]) => delays[Math.min(poll, delays.length - 1)] ?? 900;

/** The order ids a purchase's answer names: an order (create, add-on), or a checkout's orders. */
export function ordersOf(operation: string, body: unknown): string[] {
  const value = (body ?? {}) as { id?: unknown; orders?: unknown; checkout?: { orders?: unknown } };
  const ids = (orders: unknown) =>
    Array.isArray(orders) ? orders.flatMap((order) => (typeof order?.id === 'string' ? [order.id as string] : [])) : [];
  switch (operation) {
    case 'createOrder':
    case 'addOnToOrder':
      // The Order, or the checkout result when Partner Center split the order's cart into several (services/orders.ts).
      return typeof value.id === 'string' ? [value.id] : ids(value.orders);
    case 'checkoutCart':
      return ids(value.orders);
    case 'createCart':
      return ids(value.checkout?.orders);
    default:
      return [];
  }
}

export interface StartTracking {
  customerId: string;
  orderIds: readonly string[];
  operation?: string;
  idempotencyKey?: string;
  correlationId?: string;
}

export interface ProvisioningTracking {
  /** The command, with its placed orders followed once it ran (not on a dry run, a refusal or a replay). */
  follow(command: Command, options: Pick<PerformOptions, 'idempotencyKey' | 'correlationId'>): Command;
  /** Starts following these orders. Never throws: a purchase that was placed stays placed; a failure is logged. */
  start(orders: StartTracking): Promise<void>;
}

export function provisioningTracking(
  queue: TrackingQueue,
  options: { delays: readonly number[]; now?: () => number },
): ProvisioningTracking {
  const now = options.now ?? Date.now;
  const tracking: ProvisioningTracking = {
    follow: (command, perform) => ({
      ...command,
      run: async (ctx) => {
        const result = await command.run(ctx);
        if (!ctx.dryRun && result.status < 300) {
          // Beside the stored outcome's write (`start` never throws); begun before the caller has its answer.
          await afterAnswer(
            ctx,
            tracking.start({
              customerId: command.customerId,
              orderIds: ordersOf(command.operation, result.body),
              operation: command.operation,
              ...(perform.idempotencyKey === undefined ? {} : { idempotencyKey: perform.idempotencyKey }),
              correlationId: perform.correlationId,
            }),
          );
        }
        return result;
      },
    }),
    async start(orders) {
      const startedAt = now();
      const results = await Promise.allSettled(
        orders.orderIds.map((orderId) =>
          queue.send(
            {
              v: 1,
              customerId: orders.customerId,
              orderId,
              startedAt,
              poll: 0,
              ...(orders.operation ? { operation: orders.operation } : {}),
              ...(orders.idempotencyKey ? { idempotencyKey: orders.idempotencyKey } : {}),
              ...(orders.correlationId ? { correlationId: orders.correlationId } : {}),
            },
            delayAfter(0, options.delays),
          ),
        ),
      );
      results.forEach((result, i) => {
        if (result.status === 'rejected') {
          // Alarmed (TrackingNotStarted, a metric filter on this field): the order is placed but nobody follows it.
          logger.error('provisioning tracking not started', {
            trackingProblem: 'not-started',
            orderId: orders.orderIds[i],
            error: result.reason,
          });
        }
      });
    },
  };
  return tracking;
}

/**
 * The tracking queue's client gives up quickly: starting to track runs inside a purchase, after the order was placed,
 * and must not hold its answer for long (3 attempts × 1.5 s at most).
 */
export const SQS_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500, throwOnRequestTimeout: true },
} as const satisfies SQSClientConfig;

/**
 * The SQS client is loaded and built on the first message, not when the function loads: a purchase function sends
 * one only after a purchase was placed, so a container's first request that is a dry run, a replay or a refusal never
 * pays for it, and the first placed one pays what loading would have (docs/performance.md, "Cold start").
 */
export function sqsTrackingQueue(queueUrl: string, given?: SQSClient): TrackingQueue {
  let sender: Promise<ReturnType<typeof import('./sqs-send.js').sqsSender>> | undefined;
  return {
    async send(message, delaySeconds) {
      sender ??= import('./sqs-send.js').then(({ sqsSender }) => sqsSender(SQS_CLIENT_CONFIG, given));
      await (await sender)({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.min(900, Math.max(0, Math.ceil(delaySeconds))),
      });
    },
  };
}

export interface TrackerDependencies {
  partnerCenter: ServiceContext['partnerCenter'];
  queue: TrackingQueue;
  publish: Publish;
  budget: PollBudget;
  /** How long an order is followed (PROVISIONING_TRACKING_HOURS). */
  windowMs: number;
  delays: readonly number[];
  now?: () => number;
  random?: () => number;
  /** RefundWindowClosing warnings for the subscriptions of a provisioned order (REFUND_WARNING_HOURS); none when absent. */
  refundWarnings?: RefundWarnings;
}

export type TrackResult = 'provisioned' | 'cancelled' | 'stalled' | 'polling' | 'deferred';

/** How long a poll without budget waits: the next minute, spread over a second minute so deferred polls do not bunch. */
const deferSeconds = (random: () => number) => 60 + Math.floor(random() * 60);

const lineSummary = (line: MergedLine) => ({
  lineItemNumber: line.lineItemNumber,
  offerId: line.offerId,
  subscriptionId: line.subscriptionId ?? null,
  quantity: line.quantity,
  ...(line.friendlyName ? { friendlyName: line.friendlyName } : {}),
  provisioningStatus: line.provisioningStatus,
  quantityProvisioningInformation: line.quantityProvisioningInformation,
});

/**
 * One poll of one order. Publishes the outcome when there is one, else puts the next poll on the queue. Throws only
 * when neither could be done (the message is then delivered again, and after 5 receives it goes to the DLQ).
 */
export async function trackProvisioning(
  message: TrackingMessage,
  deps: TrackerDependencies,
  call: { correlationId: string; deadline: number },
): Promise<TrackResult> {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const endsAt = message.startedAt + deps.windowMs;
  const about = {
    customerId: message.customerId,
    orderId: message.orderId,
    ...(message.operation ? { operation: message.operation } : {}),
    ...(message.idempotencyKey ? { idempotencyKey: message.idempotencyKey } : {}),
    ...(message.correlationId ? { correlationId: message.correlationId } : {}),
  };
  const tracked = () => ({ polls: message.poll + 1, trackedSeconds: Math.round((now() - message.startedAt) / 1000) });

  if (!(await deps.budget.take(POLL_REQUESTS))) {
    await deps.queue.send(message, deferSeconds(random));
    logger.info('provisioning poll deferred: no polling budget left this minute', { ...about, poll: message.poll });
    return 'deferred';
  }
  const ctx: ServiceContext = {
    partnerCenter: deps.partnerCenter,
    correlationId: call.correlationId,
    deadline: call.deadline,
    dryRun: false,
  };
  let view: OrderStatusView | undefined;
  try {
    view = await readOrderStatus(ctx, message.customerId, message.orderId);
  } catch (error) {
    // Nothing learned this time (Partner Center unavailable, throttling, an order not visible yet): the next poll
    // reads again, and the window still ends the tracking.
    logger.warn('provisioning poll could not read the order', { ...about, poll: message.poll, error });
  }

  if (view?.state === 'provisioned') {
    if (!(await deps.budget.take(FINAL_REQUESTS))) {
      await deps.queue.send(message, deferSeconds(random));
      return 'deferred';
    }
    // The subscriptions as Partner Center lists them for this order; the order's lines name theirs when that read fails.
    const subscriptions = await readOrderSubscriptions(ctx, message.customerId, message.orderId).catch(
      (error: unknown) => {
        logger.warn('subscriptions of a provisioned order could not be read', { ...about, error });
        return undefined;
      },
    );
    await deps.publish([
      {
        detailType: 'OrderProvisioned',
        detail: {
          ...about,
          state: view.state,
          lineItems: view.lineItems.map((line) => {
            const subscription = subscriptions?.find((s) => s.id === line.subscriptionId);
            return {
              lineItemNumber: line.lineItemNumber,
              offerId: line.offerId,
              subscriptionId: line.subscriptionId ?? null,
              quantity: subscription?.quantity ?? line.quantity,
              ...(line.friendlyName ? { friendlyName: line.friendlyName } : {}),
            };
          }),
          ...(subscriptions
            ? {
                subscriptions: subscriptions.map((s) => ({
                  id: s.id,
                  offerId: s.offerId,
                  quantity: s.quantity,
                  status: s.status,
                })),
              }
            : {}),
          ...tracked(),
        },
      },
    ]);
    if (deps.refundWarnings && subscriptions) {
      await deps.refundWarnings.schedule({
        customerId: message.customerId,
        orderId: message.orderId,
        subscriptions,
        ...(message.operation ? { operation: message.operation } : {}),
        ...(message.idempotencyKey ? { idempotencyKey: message.idempotencyKey } : {}),
      });
    }
    return 'provisioned';
  }

  const stalled = (reason: 'cancelled' | 'window-ended'): LifecycleEvent => ({
    detailType: 'OrderProvisioningStalled',
    detail: {
      ...about,
      reason,
      state: view?.state ?? 'unknown',
      ...(view ? { orderStatus: view.status ?? null } : { lastRead: 'failed' }),
      unfulfilled: (view?.lineItems ?? [])
        .filter((line) => (line.provisioningStatus ?? '').toLowerCase() !== 'fulfilled')
        .map(lineSummary),
      trackingWindowHours: deps.windowMs / 3_600_000,
      ...tracked(),
    },
  });
  if (view?.state === 'cancelled') {
    await deps.publish([stalled('cancelled')]);
    return 'cancelled';
  }
  const left = endsAt - now();
  if (left <= 0) {
    await deps.publish([stalled('window-ended')]);
    return 'stalled';
  }
  // The last poll is at the window's end, not after it.
  const delay = Math.max(1, Math.min(delayAfter(message.poll + 1, deps.delays), Math.ceil(left / 1000)));
  await deps.queue.send({ ...message, poll: message.poll + 1 }, delay);
  logger.info('provisioning not complete yet', {
    ...about,
    poll: message.poll,
    state: view?.state,
    nextInSeconds: delay,
  });
  return 'polling';
}
