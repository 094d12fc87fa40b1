// `npm run bench:bulk`: a bulk load through the event path at Partner Center's pace (issue 16; docs/performance.md).
// N purchase commands (half CreateOrder, half CreateCart with checkout, over many customers) are put on a simulated
// SQS queue at once and drained by the real order-events handler — `maxConcurrency` handler instances, each with its
// own dependencies (token cache, connections), batches as the event source mapping makes them, the stack's visibility
// timeout and redrive policy, occasional duplicate deliveries — against the Partner Center simulator throttled as
// documented (500 requests a minute per partner tenant, reads counted, refused requests charged), with log-normal
// answer times, MS-RequestId deduplication off, and the real DynamoDB persistence layer on dynalite (own process).
//
// Time: Partner Center (answer times, the bucket, Retry-After), SQS (visibility, delays, polling) and the client's
// own waits on Retry-After run on a clock BULK_TIME_SCALE times faster than real time; our own code (validation,
// DynamoDB, HTTP) runs in real time, so it weighs BULK_TIME_SCALE times more in simulated time than it would in AWS —
// a pessimistic error. Figures are in simulated time.
//
// Prints a table and merges its figures into bench/results.json under `bulk`. Environment: BULK_COMMANDS (2000),
// BULK_TIME_SCALE (5), BULK_CUSTOMERS (200), BULK_BATCH_SIZE / BULK_MAX_CONCURRENCY / BULK_RECORDS_PER_BATCH (the
// stack's sizing, infra/event-path.ts), BULK_DUPLICATE_DELIVERIES (0.01), BULK_SEED (16).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createHandler } from '../functions/order-events/handler.js';
import { readConfig } from '../functions/shared/config.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import { DEFAULT_MAX_RECEIVE_COUNT, type EventDependencies, type OutcomeEvent } from '../functions/shared/events.js';
import { dynamoDBIdempotency } from '../functions/shared/idempotency.js';
import { PartnerCenterClient } from '../functions/shared/partner-center/client.js';
import { DEFAULT_AFTER_PURCHASE } from '../infra/after-purchase.js';
import { eventPathSizing, PARTNER_CENTER_REQUESTS_PER_MINUTE } from '../infra/event-path.js';
import { EVENTS_FUNCTION_TIMEOUT } from '../infra/stack.js';
import { eventBridgeEvent } from '../local/event-records.js';
import { mulberry32 } from '../local/simulator/faults.js';
import {
  DEFAULT_SIMULATOR_CREDENTIALS,
  PARTNER_CENTER_RESOURCE,
  PartnerCenterSimulator,
  REALISTIC_LATENCY,
  type ThrottleOptions,
} from '../local/simulator/index.js';
import { ALLOW_ALL_POLICY } from '../test/support/policy.js';
import { dynaliteProcess } from './batch.js';
import { type BatchHandler, runEventSourceMapping, ScaledClock, SimulatedQueue } from './bulk-queue.js';
import { percentile, round } from './stats.js';

const env = (name: string, fallback: number) => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a number ≥ 0`);
  return parsed;
};

export const GOAL = { rate: 0.9, throttledPerPurchase: 0.05 };
const OFFER = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const PURCHASE_RESOURCE = /^\/v1\/customers\/[^/]+\/(orders|carts)(\/|$|\?)/i;
const WRITE = new Set(['POST', 'PATCH', 'PUT']);

export interface BulkOptions {
  commands: number;
  timeScale: number;
  customers: number;
  batchSize: number;
  recordsPerBatch: number;
  maxConcurrency: number;
  duplicateDeliveries: number;
  seed: number;
  throttle: ThrottleOptions;
  /** Gives up after this long (simulated minutes): what is not done by then is reported lost. */
  maxMinutes: number;
  /**
   * Partner Center requests a minute made meanwhile by provisioning tracking and the reconciler (their poll budget):
   * reads of the same order resource, so from the same bucket. Modelled at the full budget, all the run long.
   */
  trackingPerMinute: number;
  /** What the other readers really read a minute (default: the budget); more than the budget overdrives the limit. */
  backgroundPerMinute: number;
  progress?: (line: string) => void;
}

interface Command {
  eventId: string;
  tag: string;
  type: 'CreateOrder' | 'CreateCart';
  sentAt: number;
  firstReceivedAt?: number;
  outcomeAt?: number;
  outcome?: OutcomeEvent['detailType'];
  outcomes: number;
}

export async function measureBulk(options: BulkOptions) {
  const clock = new ScaledClock(options.timeScale);
  const random = mulberry32(options.seed);
  const burst = options.throttle.burst ?? options.throttle.perMinute ?? PARTNER_CENTER_REQUESTS_PER_MINUTE;
  const perMinute = options.throttle.perMinute ?? PARTNER_CENTER_REQUESTS_PER_MINUTE;
  const simulator = new PartnerCenterSimulator({
    dedupe: 'off',
    throttle: options.throttle,
    latency: REALISTIC_LATENCY,
    timeScale: options.timeScale,
    now: () => clock.now(),
    seed: options.seed,
  });
  const url = await simulator.start();
  const dynalite = await dynaliteProcess();
  const idempotency = dynamoDBIdempotency({
    tableName: 'idempotency',
    expiresAfterSeconds: 86_400,
    client: dynalite.client,
  });
  // Powertools warns on stderr now and then (e.g. a lock taken over): counted, not printed into the table.
  const warn = console.warn;
  let powertoolsWarnings = 0;
  console.warn = () => {
    powertoolsWarnings++;
  };

  const newQueue = () =>
    new SimulatedQueue({
      clock,
      visibilityTimeoutSeconds: EVENTS_FUNCTION_TIMEOUT.toSeconds() * 6,
      maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
      duplicateDeliveries: options.duplicateDeliveries,
      random,
    });
  let queue = newQueue();
  const byEvent = new Map<string, Command>();
  const byMessage = new Map<string, Command>();
  // The bulk's customers, then as many again for the warm-up.
  const customers = Array.from({ length: options.customers * 2 }, (_, i) => {
    const hex = (i + 1).toString(16).padStart(12, '0');
    return `b0c0a000-0000-4000-8000-${hex}`;
  });
  let delays = 0;
  let holds = 0;
  const config = readConfig({
    PARTNER_CENTER_URL: url,
    PARTNER_CENTER_AUTHORITY_URL: url,
    PARTNER_CENTER_CREDENTIALS: JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS),
  });
  /** One Lambda execution environment: its own dependencies, built as the function builds them at load. */
  const instance = (): BatchHandler => {
    const base = createDependencies(config);
    const partnerCenter = new PartnerCenterClient({
      baseUrl: config.partnerCenterUrl,
      tokens: base.tokens,
      applicationName: config.applicationName,
      attemptTimeoutMs: config.attemptTimeoutMs,
      // The client's own waits (Retry-After, backoff) pass on the simulated clock.
      sleep: (ms) => clock.sleep(ms),
    });
    const deps = {
      ...base,
      partnerCenter,
      idempotency,
      // Every producer may buy anything: the purchase policy is not what this measures (bench:policy does).
      policy: ALLOW_ALL_POLICY,
      publish: async (events: OutcomeEvent[]) => {
        for (const event of events) {
          const command = byEvent.get(event.detail.commandId);
          if (!command) throw new Error(`an outcome for a command never sent: ${event.detail.commandId}`);
          command.outcomes++;
          if (command.outcomeAt === undefined) {
            command.outcomeAt = clock.now();
            command.outcome = event.detailType;
          }
        }
      },
      proveOrigin: (record) => queue.proveOrigin(record),
      delay: async (record, seconds) => {
        delays++;
        queue.changeVisibility(record.receiptHandle, seconds);
      },
      // As the deployed handler: a throttled record keeps its place while it waits (on the simulated clock).
      holdThrottled: (ms) => {
        holds++;
        return clock.sleep(ms);
      },
    } as EventDependencies;
    return createHandler(deps, options.recordsPerBatch);
  };

  /** Puts `count` commands on the queue at once, as a month-end true-up puts them on the bus. */
  const enqueue = (count: number, prefix: string, firstCustomer: number) => {
    for (let i = 0; i < count; i++) {
      const tag = `${prefix}-${options.seed}-${i}`;
      const customerId = customers[firstCustomer + (i % options.customers)] as string;
      const type = random() < 0.5 ? 'CreateOrder' : 'CreateCart';
      const line = { quantity: 1 + (i % 9), termDuration: 'P1Y', friendlyName: tag };
      const detail =
        type === 'CreateOrder'
          ? { customerId, billingCycle: 'monthly', lineItems: [{ offerId: OFFER, ...line }] }
          : { customerId, checkout: true, lineItems: [{ catalogItemId: OFFER, billingCycle: 'monthly', ...line }] };
      const event = eventBridgeEvent(type, detail, { source: 'com.example.bulk' });
      const command: Command = { eventId: event.id, tag, type, sentAt: clock.now(), outcomes: 0 };
      byEvent.set(event.id, command);
      byMessage.set(queue.send(JSON.stringify(event), randomUUID()), command);
    }
  };

  // The event source mapping: maxConcurrency instances, each polling for batches until the queue is drained.
  let inFlight = 0;
  let busyRecordMs = 0;
  let batches = 0;
  const handlers = Array.from({ length: options.maxConcurrency }, () => {
    const handler = instance();
    return (async (event, context) => {
      const now = clock.now();
      for (const record of event.Records) {
        const command = byMessage.get(record.messageId);
        if (command && command.firstReceivedAt === undefined) command.firstReceivedAt = now;
      }
      inFlight += event.Records.length;
      try {
        return await handler(event, context);
      } finally {
        inFlight -= event.Records.length;
        busyRecordMs += event.Records.length * (clock.now() - now);
        batches++;
      }
    }) satisfies BatchHandler;
  });
  const drain = (until: number) =>
    runEventSourceMapping(queue, handlers, {
      batchSize: options.batchSize,
      // The event source mapping's long polling: a poller waits at most 20 s (simulated) for a visible message.
      pollIntervalMs: 20_000,
      remainingMs: EVENTS_FUNCTION_TIMEOUT.toMilliseconds(),
      done: () => queue.pending === 0 || clock.now() > until,
    });

  // Warm-up, not measured: two commands per instance (other customers), so that this process's JIT, connections and
  // tokens are warm as in Lambda environments that have run before. Then the simulator and counters start afresh.
  enqueue(options.maxConcurrency * 2, 'warm', options.customers);
  await drain(clock.now() + 10 * 60_000);
  simulator.reset();
  byEvent.clear();
  byMessage.clear();
  queue = newQueue();
  busyRecordMs = 0;
  batches = 0;
  delays = 0;
  holds = 0;

  const start = clock.now();
  enqueue(options.commands, 'bulk', 0);
  const tracking = trackingLoad(url, clock, customers.slice(0, options.customers), options.backgroundPerMinute);
  const realStart = performance.now();
  // How late this process's timers fire (a busy machine): each real ms late is timeScale ms of simulated latency.
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const timer = setInterval(() => {
    const done = [...byEvent.values()].filter((c) => c.outcomeAt !== undefined).length;
    options.progress?.(
      `[bulk ${((performance.now() - realStart) / 1000).toFixed(0)} s real, ${((clock.now() - start) / 60_000).toFixed(1)} min simulated] ${done}/${options.commands} done, ${inFlight} in flight, ${simulator.requests.filter((r) => r.throttled).length} 429s`,
    );
  }, 10_000);
  try {
    await drain(start + options.maxMinutes * 60_000);
  } finally {
    tracking.stop();
    lag.disable();
    clearInterval(timer);
    console.warn = warn;
  }
  const end = clock.now();
  const realSeconds = (performance.now() - realStart) / 1000;

  // What reached Partner Center.
  const pc = simulator.requests.filter(
    (r) => PURCHASE_RESOURCE.test(r.path) && r.headers['ms-correlationid'] !== TRACKING_CORRELATION_ID,
  );
  const throttled = pc.filter((r) => r.throttled);
  const admitted = pc.filter((r) => !r.throttled);
  const writesAdmitted = admitted.filter((r) => WRITE.has(r.method)).length;
  const readsAdmitted = admitted.length - writesAdmitted;
  const waitedCommands = new Set(throttled.map((r) => r.headers['ms-correlationid']));
  const [bucket] = simulator.throttleUsage;
  if (!bucket) throw new Error('the throttle saw no request');
  // The purchase rate in steady state: purchase writes admitted per minute between the 10th and the 90th percentile of
  // their times (the ramp and the tail left out), against what the limit leaves for purchases (the limit less the
  // tracking budget), and against the whole limit.
  const writeTimes = admitted
    .filter((r) => WRITE.has(r.method))
    .map((r) => r.at)
    .sort((a, b) => a - b);
  const [t10, t90] = [writeTimes[Math.floor(writeTimes.length * 0.1)], writeTimes[Math.floor(writeTimes.length * 0.9)]];
  const steadyPerMinute =
    t10 !== undefined && t90 !== undefined && t90 > t10
      ? ((Math.floor(writeTimes.length * 0.9) - Math.floor(writeTimes.length * 0.1)) / (t90 - t10)) * 60_000
      : Number.NaN;
  const purchaseShare = perMinute - options.trackingPerMinute;

  // What was bought: one order per command (an order, or the order of a cart's checkout), one cart per cart command.
  const ordersByTag = new Map<string, number>();
  for (const order of simulator.ledger.orders) {
    for (const tag of new Set(order.lineItems.map((l) => l.friendlyName ?? ''))) {
      ordersByTag.set(tag, (ordersByTag.get(tag) ?? 0) + 1);
    }
  }
  const cartsByTag = new Map<string, number>();
  for (const cart of simulator.ledger.carts) {
    for (const tag of new Set(cart.lineItems.map((l) => (l as { friendlyName?: string }).friendlyName ?? ''))) {
      cartsByTag.set(tag, (cartsByTag.get(tag) ?? 0) + 1);
    }
  }
  const commands = [...byEvent.values()];
  const dlqIds = new Set(queue.deadLetters.map((m) => (JSON.parse(m.body) as { id: string }).id));
  const duplicates = commands.reduce((sum, c) => sum + Math.max(0, (ordersByTag.get(c.tag) ?? 0) - 1), 0);
  const extraCarts = commands.reduce((sum, c) => sum + Math.max(0, (cartsByTag.get(c.tag) ?? 0) - 1), 0);
  const lost = commands.filter((c) => c.outcomeAt === undefined && !dlqIds.has(c.eventId)).length;
  const rejected = commands.filter((c) => c.outcome === 'OrderRejected').length;
  const unbought = commands.filter(
    (c) => c.outcome !== undefined && c.outcome !== 'OrderRejected' && !ordersByTag.get(c.tag),
  ).length;
  const tags = new Set(commands.map((c) => c.tag));
  const strays = simulator.ledger.orders.filter((o) => !o.lineItems.some((l) => tags.has(l.friendlyName ?? ''))).length;
  const done = commands.filter((c) => c.outcomeAt !== undefined);
  const toOutcome = done.map((c) => ((c.outcomeAt as number) - c.sentAt) / 1000);
  const service = done.map((c) => ((c.outcomeAt as number) - (c.firstReceivedAt ?? c.sentAt)) / 1000);
  const meanService = (type: Command['type']) => {
    const of = done.filter((c) => c.type === type);
    return (
      of.reduce((sum, c) => sum + ((c.outcomeAt as number) - (c.firstReceivedAt ?? c.sentAt)), 0) / of.length / 1000
    );
  };
  const catalogReads = simulator.requests.filter((r) => r.method === 'GET' && /\/products\b/i.test(r.path)).length;
  const runMinutes = (end - start) / 60_000;
  const purchases = done.length - rejected;
  // The least a bucket of `burst` refilled at the limit allows for these writes.
  const floorMinutes = Math.max(0, writesAdmitted - burst) / purchaseShare;

  await simulator.stop();
  await dynalite.stop();

  return {
    settings: {
      commands: options.commands,
      orders: commands.filter((c) => c.type === 'CreateOrder').length,
      cartsCheckedOut: commands.filter((c) => c.type === 'CreateCart').length,
      customers: options.customers,
      timeScale: options.timeScale,
      throttle: {
        perMinute,
        burst,
        scope: options.throttle.scope ?? 'partner',
        counts: options.throttle.counts ?? 'all',
        chargeRefused: options.throttle.chargeRefused ?? false,
      },
      latency: REALISTIC_LATENCY,
      dedupe: 'off',
      batchSize: options.batchSize,
      recordsPerBatch: options.recordsPerBatch,
      maxConcurrency: options.maxConcurrency,
      maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
      duplicateDeliveries: options.duplicateDeliveries,
      seed: options.seed,
      trackingPerMinute: options.trackingPerMinute,
      backgroundPerMinute: options.backgroundPerMinute,
    },
    rate: round(steadyPerMinute / purchaseShare),
    rateOfWholeLimit: round(steadyPerMinute / perMinute),
    steadyWritesPerMinute: round(steadyPerMinute, 1),
    purchaseSharePerMinute: purchaseShare,
    trackingReads: tracking.admitted,
    trackingRefused: tracking.refused,
    throttledPerPurchase: round(throttled.length / Math.max(1, purchases), 4),
    throttled: throttled.length,
    waitedShare: round(waitedCommands.size / options.commands, 4),
    delayedOnQueue: delays,
    heldInPlace: holds,
    commandToOutcomeSeconds: {
      p50: round(percentile(toOutcome, 50), 1),
      p99: round(percentile(toOutcome, 99), 1),
      max: round(Math.max(...toOutcome), 1),
    },
    receiveToOutcomeSeconds: { p50: round(percentile(service, 50), 2), p99: round(percentile(service, 99), 2) },
    duplicates,
    extraCarts,
    deadLettered: queue.deadLetters.length,
    lost,
    rejected,
    unbought,
    strays,
    runMinutes: round(runMinutes, 2),
    floorMinutes: round(floorMinutes, 2),
    writesAdmitted,
    readsAdmitted,
    writesPerMinute: round(writesAdmitted / runMinutes, 1),
    purchasesPerMinute: round(purchases / runMinutes, 1),
    bucket: { admitted: bucket.admitted, refused: bucket.refused, lowest: round(bucket.lowest, 1) },
    recordsInFlightMean: round(busyRecordMs / (end - start), 1),
    // Little's law: records in flight / purchase writes a second = how long a record is held per throttled write.
    secondsPerWrite: round(busyRecordMs / 1000 / Math.max(1, writesAdmitted), 2),
    meanServiceSeconds: {
      order: round(meanService('CreateOrder'), 2),
      cartCheckout: round(meanService('CreateCart'), 2),
    },
    catalogReads,
    batches,
    sqs: queue.counts,
    outcomesPublished: commands.reduce((s, c) => s + c.outcomes, 0),
    powertoolsWarnings,
    realSeconds: round(realSeconds, 1),
    eventLoopDelayMs: { p50: round(lag.percentile(50) / 1e6, 1), p99: round(lag.percentile(99) / 1e6, 1) },
  };
}

const TRACKING_CORRELATION_ID = '00000000-0000-4000-8000-00000000aaaa';

/**
 * What provisioning tracking and the reconciler read meanwhile, at their full budget: a GET of a customer's orders
 * every 60/perMinute simulated seconds, not waiting for the answers (the tracker's polls are independent).
 */
function trackingLoad(url: string, clock: ScaledClock, customers: string[], perMinute: number) {
  const counts = { admitted: 0, refused: 0 };
  let stopped = perMinute <= 0;
  const loop = async () => {
    const answer = await fetch(`${url}/${DEFAULT_SIMULATOR_CREDENTIALS.tenantId}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: DEFAULT_SIMULATOR_CREDENTIALS.clientId,
        client_secret: DEFAULT_SIMULATOR_CREDENTIALS.clientSecret,
        resource: PARTNER_CENTER_RESOURCE,
      }),
    });
    const { access_token: token } = (await answer.json()) as { access_token: string };
    for (let i = 0; !stopped; i++) {
      await clock.sleep(60_000 / perMinute);
      if (stopped) break;
      void fetch(`${url}/v1/customers/${customers[i % customers.length]}/orders`, {
        headers: { Authorization: `Bearer ${token}`, 'MS-CorrelationId': TRACKING_CORRELATION_ID },
      })
        .then(async (res) => {
          await res.arrayBuffer();
          if (res.status === 429) counts.refused++;
          else counts.admitted++;
        })
        .catch(() => undefined);
    }
  };
  const running = stopped ? Promise.resolve() : loop();
  return {
    get admitted() {
      return counts.admitted;
    },
    get refused() {
      return counts.refused;
    },
    stop: () => {
      stopped = true;
      return running;
    },
  };
}

export type BulkResult = Awaited<ReturnType<typeof measureBulk>>;

export function bulkTable(r: BulkResult): string {
  const s = r.settings;
  const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows: [string, string, string][] = [
    [
      `purchase rate / (limit − tracking)`,
      `${r.rate.toFixed(2)}× (${r.rateOfWholeLimit.toFixed(2)}× of ${s.throttle.perMinute})`,
      `≥ ${GOAL.rate}×  ${met(r.rate >= GOAL.rate)}`,
    ],
    [
      '429s per purchase',
      r.throttledPerPurchase.toFixed(3),
      `≤ ${GOAL.throttledPerPurchase}  ${met(r.throttledPerPurchase <= GOAL.throttledPerPurchase)}`,
    ],
    ['commands that waited (got a 429)', `${(r.waitedShare * 100).toFixed(1)} %`, ''],
    [
      'command → outcome p50 / p99',
      `${r.commandToOutcomeSeconds.p50} s / ${r.commandToOutcomeSeconds.p99} s`,
      `the drain: ${r.floorMinutes} min at the limit`,
    ],
    [
      'first receive → outcome p50 / p99',
      `${r.receiveToOutcomeSeconds.p50} s / ${r.receiveToOutcomeSeconds.p99} s`,
      '',
    ],
    [
      'fewest tokens left in the bucket',
      `${r.bucket.lowest} of ${s.throttle.burst} tokens`,
      '0: at the limit, burst used up',
    ],
    [
      'duplicates / DLQ / lost',
      `${r.duplicates} / ${r.deadLettered} / ${r.lost}`,
      `0 / 0 / 0  ${met(r.duplicates + r.deadLettered + r.lost === 0)}`,
    ],
  ];
  const width = Math.max(...rows.map(([a]) => a.length));
  const lines = [
    `7. Bulk purchasing — ${s.commands} commands (${s.orders} orders, ${s.cartsCheckedOut} carts checked out) for ${s.customers} customers through the event path;`,
    `   Partner Center throttled at ${s.throttle.perMinute}/min per ${s.throttle.scope} (burst ${s.throttle.burst}, ${s.throttle.counts === 'all' ? 'reads counted' : 'writes only'}${s.throttle.chargeRefused ? ', refused requests charged' : ''}), tracking reading ${s.backgroundPerMinute}/min of it${s.backgroundPerMinute !== s.trackingPerMinute ? ` (sized for ${s.trackingPerMinute})` : ''}, realistic latency, MS-RequestId dedupe off;`,
    `   batch size ${s.batchSize}, ${s.recordsPerBatch} record(s) at once per batch, max concurrency ${s.maxConcurrency}, maxReceiveCount ${s.maxReceiveCount}, ${(s.duplicateDeliveries * 100).toFixed(0)} % duplicate deliveries;`,
    `   time scale ${s.timeScale}×: ${r.runMinutes} min simulated in ${r.realSeconds} s (event loop late by ${r.eventLoopDelayMs.p50} ms p50, ${r.eventLoopDelayMs.p99} ms p99 real). Figures in simulated time.`,
    `${'figure'.padEnd(width)}  value                goal`,
    `${'-'.repeat(width)}  -------------------  ----------------------------`,
    ...rows.map(([a, b, c]) => `${a.padEnd(width)}  ${b.padEnd(19)}  ${c}`),
    `   ${r.writesAdmitted} purchase writes admitted (${r.writesPerMinute}/min over the run, burst included), ${r.readsAdmitted} reads; ${r.throttled} × 429 (${r.heldInPlace} records held in place, ${r.delayedOnQueue} delayed on the queue); ${r.purchasesPerMinute} purchases/min`,
    `   records in flight ${r.recordsInFlightMean} on average (at most ${s.maxConcurrency * s.recordsPerBatch}), held ${r.secondsPerWrite} s per purchase write; mean service: order ${r.meanServiceSeconds.order} s, cart + checkout ${r.meanServiceSeconds.cartCheckout} s; ${r.catalogReads} catalog reads`,
    `   ${r.batches} invocations, ${r.sqs.receives} receives, ${r.sqs.duplicateDeliveries} duplicate deliveries; ${r.outcomesPublished} outcome events`,
    `   rejected ${r.rejected}, bought without a ledger entry ${r.unbought}, ledger entries no command asked for ${r.strays}, extra carts ${r.extraCarts}`,
  ];
  return lines.join('\n');
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  // The stack's sizing (infra/event-path.ts), unless overridden to compare others.
  const trackingPerMinute = env('BULK_TRACKING_PER_MINUTE', DEFAULT_AFTER_PURCHASE.pollBudgetPerMinute);
  const sizing = eventPathSizing({
    reservedPerMinute: trackingPerMinute,
    ...(process.env.BULK_BATCH_SIZE ? { batchSize: env('BULK_BATCH_SIZE', 1) } : {}),
    ...(process.env.BULK_MAX_CONCURRENCY ? { maxConcurrency: env('BULK_MAX_CONCURRENCY', 2) } : {}),
  });
  const options: BulkOptions = {
    commands: env('BULK_COMMANDS', 2000),
    timeScale: env('BULK_TIME_SCALE', 5),
    customers: env('BULK_CUSTOMERS', 200),
    batchSize: sizing.batchSize,
    recordsPerBatch: env('BULK_RECORDS_PER_BATCH', sizing.recordsPerBatch),
    maxConcurrency: sizing.maxConcurrency,
    duplicateDeliveries: env('BULK_DUPLICATE_DELIVERIES', 0.01),
    seed: env('BULK_SEED', 16),
    trackingPerMinute,
    // Other tools of the tenant, or tracking beyond its budget: more than the sizing assumed (429s by design).
    backgroundPerMinute: env('BULK_BACKGROUND_PER_MINUTE', trackingPerMinute),
    maxMinutes: env('BULK_MAX_MINUTES', 60),
    throttle: {
      perMinute: PARTNER_CENTER_REQUESTS_PER_MINUTE,
      burst: env('BULK_BURST', PARTNER_CENTER_REQUESTS_PER_MINUTE),
      counts: 'all',
      chargeRefused: env('BULK_CHARGE_REFUSED', 1) === 1,
    },
    progress: (line) => process.stderr.write(`${line}\n`),
  };
  const began = performance.now();
  const result = await measureBulk(options);
  const totalSeconds = round((performance.now() - began) / 1000, 1);
  const table = bulkTable(result);
  console.log(table);
  const file = new URL('./results.json', import.meta.url);
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: new URL('../', import.meta.url).pathname, encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  previous.bulk = {
    generatedAt: new Date().toISOString(),
    git: {
      revision: git('rev-parse', 'HEAD') ?? 'unknown',
      uncommittedChanges: (git('status', '--porcelain') ?? '') !== '',
    },
    machine: { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, node: process.versions.node },
    goals: GOAL,
    ...result,
    totalSeconds,
    table: table.split('\n'),
  };
  writeFileSync(file, `${JSON.stringify(previous, null, 2)}\n`);
  console.log(`\ndone in ${totalSeconds} s (warm-up and setup included); figures in bench/results.json (bulk)`);
}
