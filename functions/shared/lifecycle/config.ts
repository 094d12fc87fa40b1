// Settings of what happens after a purchase (docs/after-purchase.md): provisioning tracking, its polling budget and
// the reconciler. Read once from the environment, like config.ts, and kept apart from it: only the functions that
// track, reconcile or start tracking read these.

/** SQS's largest DelaySeconds: no poll of the delay queue can be further apart than this. */
export const MAX_DELAY_SECONDS = 900;

/** The polls after a purchase: 1, 2, 5, 10 and 15 minutes apart, then every 15 minutes (SQS's longest delay). */
export const DEFAULT_POLL_DELAYS_SECONDS = [60, 120, 300, 600, 900] as const;

export interface LifecycleConfig {
  /** The delay queue of provisioning tracking (TRACKING_QUEUE_URL); without it, purchases are not tracked. */
  trackingQueueUrl?: string;
  /** How long an order is followed before it is reported stalled (PROVISIONING_TRACKING_HOURS, 24). */
  trackingWindowMs: number;
  /** The pauses between polls, in seconds, the last one repeated (PROVISIONING_POLL_DELAYS_SECONDS). */
  pollDelaysSeconds: number[];
  /**
   * Partner Center requests per minute that tracking and the reconciler may make together (POLL_BUDGET_PER_MINUTE,
   * 100: a fifth of the 500 per minute Partner Center allows for orders, the rest left to purchases and reads).
   */
  pollBudgetPerMinute: number;
  /** How long a purchase stays outcome-unknown before the reconciler looks for it (RECONCILE_AFTER_MINUTES, 15). */
  reconcileAfterMs: number;
  /** The most purchases one reconciler run looks at (RECONCILE_BATCH, 25); the rest wait for the next run. */
  reconcileBatch: number;
  /** Where the tracker and the reconciler publish (EVENT_BUS_NAME). */
  eventBusName: string;
  /**
   * How long before a subscription's refund window closes RefundWindowClosing is published (REFUND_WARNING_HOURS;
   * off when absent). Between 1 and 167 hours: the window is 168.
   */
  refundWarningMs?: number;
}

const number = (value: string | undefined, fallback: number, name: string, min = 0): number => {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min) throw new Error(`${name} must be a number of at least ${min}`);
  return parsed;
};

/** `60,120,300`: whole seconds from 1 to 900 (SQS's limit), at least one. */
export function pollDelays(value: string | undefined): number[] {
  if (value === undefined || value.trim() === '') return [...DEFAULT_POLL_DELAYS_SECONDS];
  const delays = value.split(',').map((part) => Number(part.trim()));
  if (delays.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_DELAY_SECONDS)) {
    throw new Error(
      `PROVISIONING_POLL_DELAYS_SECONDS must be whole seconds from 1 to ${MAX_DELAY_SECONDS}, comma-separated`,
    );
  }
  return delays;
}

export function readLifecycleConfig(env: NodeJS.ProcessEnv = process.env): LifecycleConfig {
  return {
    ...(env.TRACKING_QUEUE_URL ? { trackingQueueUrl: env.TRACKING_QUEUE_URL } : {}),
    trackingWindowMs: number(env.PROVISIONING_TRACKING_HOURS, 24, 'PROVISIONING_TRACKING_HOURS') * 3_600_000,
    pollDelaysSeconds: pollDelays(env.PROVISIONING_POLL_DELAYS_SECONDS),
    pollBudgetPerMinute: number(env.POLL_BUDGET_PER_MINUTE, 100, 'POLL_BUDGET_PER_MINUTE', 3),
    reconcileAfterMs: number(env.RECONCILE_AFTER_MINUTES, 15, 'RECONCILE_AFTER_MINUTES') * 60_000,
    reconcileBatch: number(env.RECONCILE_BATCH, 25, 'RECONCILE_BATCH', 1),
    eventBusName: env.EVENT_BUS_NAME || 'default',
    ...refundWarning(env.REFUND_WARNING_HOURS),
  };
}

/** `REFUND_WARNING_HOURS`: off when absent or empty, else hours from 1 to 167 (the window is 168). */
export function refundWarning(value: string | undefined): { refundWarningMs?: number } {
  if (value === undefined || value === '') return {};
  const hours = Number(value);
  if (!(hours >= 1 && hours <= 167)) throw new Error('REFUND_WARNING_HOURS must be a number of hours from 1 to 167');
  return { refundWarningMs: hours * 3_600_000 };
}
