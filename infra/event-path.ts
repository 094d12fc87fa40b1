// How many commands the event path works on at once, derived from Partner Center's throttle and its answer times
// (docs/events.md, "Sizing for bulk"; measured by `npm run bench:bulk`, docs/performance.md).
//
// Partner Center allows R requests a minute per partner tenant on the order resource (500 documented); provisioning
// tracking and the reconciler keep T of them for their reads (their poll budget, infra/after-purchase.ts). A command
// holds its record for S seconds per throttled request it makes (a purchase's answer time, the catalog pre-flight's
// reads and our own work around it). By Little's law purchases use their share in full with (R − T)/60 × S records in
// flight; more only buys 429s, fewer leaves some of it unused. The event source mapping's maximum concurrency is that
// number at 90 % (a steady rate a little under the limit never runs the bucket dry, however long the bulk), with one
// record per batch: a batch holds its Lambda until its slowest record is done, so a batch of B
// records keeps far fewer than B in flight on average (measured: docs/performance.md).

/** Partner Center's documented limit for the order resource, per partner tenant (order-resources.md). */
export const PARTNER_CENTER_REQUESTS_PER_MINUTE = 500;

/**
 * Seconds a command's record is held per throttled request it makes, on average: measured by `npm run bench:bulk`
 * against the simulator's REALISTIC_LATENCY (a purchase 3 s median / 12 s p99, a cart 0.8 s / 3 s, a read 0.3 s /
 * 1.5 s), half orders (one request) and half carts checked out (two), the pre-flight's catalog reads included. A
 * slower Partner Center makes it larger, and the concurrency with it.
 */
export const SECONDS_PER_THROTTLED_REQUEST = 3.3;

/**
 * The share of what is left for purchases the event path aims at. At 100 % (22 at once) a 6,000-command bulk drew
 * the bucket's burst down until it ran out after ~15 minutes, then drew 429s (0.44 a purchase, refused requests
 * charged); at 90 % (20) it ran 24 minutes without one at 0.97× (docs/performance.md, "Bulk purchasing").
 */
export const TARGET_UTILISATION = 0.9;

/** The event source mapping's batch size: one record per invocation (see above). */
export const EVENT_BATCH_SIZE = 1;

export interface EventPathSizing {
  /** Partner Center requests a minute left for purchases. */
  purchaseRequestsPerMinute: number;
  /** SQS records per invocation. */
  batchSize: number;
  /** Records of one batch handled at once (EVENT_CONCURRENCY). */
  recordsPerBatch: number;
  /** The event source mapping's maximum concurrency (2 … 1000). */
  maxConcurrency: number;
  /** At most this many commands in flight: maxConcurrency × recordsPerBatch. */
  recordsInFlight: number;
}

export function eventPathSizing(
  options: {
    /** Partner Center requests a minute for the tenant (less than 500 when other tools share the tenant's limit). */
    requestsPerMinute?: number;
    /** Of which kept for other readers: provisioning tracking and the reconciler (their poll budget). */
    reservedPerMinute?: number;
    secondsPerRequest?: number;
    batchSize?: number;
    /** Set directly instead of derived. */
    maxConcurrency?: number;
  } = {},
): EventPathSizing {
  const perMinute =
    (options.requestsPerMinute ?? PARTNER_CENTER_REQUESTS_PER_MINUTE) - (options.reservedPerMinute ?? 0);
  const seconds = options.secondsPerRequest ?? SECONDS_PER_THROTTLED_REQUEST;
  const batchSize = options.batchSize ?? EVENT_BATCH_SIZE;
  if (!(perMinute > 0)) {
    throw new Error(`the Partner Center requests a minute left for purchases must be > 0, got ${perMinute}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
    throw new Error(`batch size must be a whole number from 1 to 10, got ${batchSize}`);
  }
  const derived = Math.round(((perMinute / 60) * seconds * TARGET_UTILISATION) / batchSize);
  const maxConcurrency = options.maxConcurrency ?? Math.min(1000, Math.max(2, derived));
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
    throw new Error(
      `the event source mapping's maximum concurrency must be a whole number from 2 to 1000, got ${maxConcurrency}`,
    );
  }
  return {
    purchaseRequestsPerMinute: perMinute,
    batchSize,
    recordsPerBatch: batchSize,
    maxConcurrency,
    recordsInFlight: maxConcurrency * batchSize,
  };
}
