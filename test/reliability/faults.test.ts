// Suite 2 — upstream faults. The Partner Center simulator injects, at random from a fixed seed, 429 with Retry-After,
// 500 and 503, answers slower than the client's attempt timeout, connections reset before and after the purchase
// was committed, and cut JSON bodies. Purchases go through HTTP (with an Idempotency-Key, retried by a caller that
// honours Retry-After, scaled down) and through events (with SQS redelivery: up to 5 receives, then the DLQ, and
// an occasional duplicate delivery). Every purchase is one cart recorded under its key and checked out until Partner
// Center answers (functions/shared/exactly-once/). Everything is then reconciled against the simulator's ledger: every
// purchase is placed exactly once, every answer matches the ledger, nothing is lost, whether Partner Center
// deduplicates MS-RequestId or not, and whether its orders list lags (up to the documented 15 minutes) or not.
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler as createEventsHandler } from '../../functions/order-events/handler.js';
import { DEFAULT_MAX_RECEIVE_COUNT, type EventDependencies, type OutcomeEvent } from '../../functions/shared/events.js';
import { type FaultKind, mulberry32 } from '../../local/simulator/faults.js';
import type { Order, SimulatorOptions } from '../../local/simulator/index.js';
import { lambdaContext } from '../support/events.js';
import { invokeOrder } from '../support/invoke.js';
import { leakWatch } from '../support/leaks.js';
import { count, Histogram, pool, report, scaledSleep, sleep, timeout } from '../support/reliability.js';
import { eventBridgeEvent, localQueueProvenance, recordingEventsHandler, sqsEvent, sqsRecord } from '../support/sqs.js';
import { type Stack, startStack } from '../support/stack.js';

const SEED = Number(process.env.FAULT_SEED ?? 4_242);
const PURCHASES = { http: count(50, 650), events: count(30, 400) };
const FAULT_PROBABILITY = 0.05;
const KINDS: FaultKind[] = ['throttle', 'server-error', 'unavailable', 'delay', 'drop', 'truncate', 'commit-then-drop'];
/** Faults after which a checkout was placed (or is being placed) and its answer never reached the client. */
const LOST_ANSWER: ReadonlySet<FaultKind> = new Set(['delay', 'truncate', 'commit-then-drop']);
/**
 * A caller gives up after this many attempts with one key: reaching it counts as a lost purchase. It waits out a 409
 * "in progress" for real (Retry-After, at most 1 s): a record the store could not complete stays locked until the
 * invocation's deadline (29 s on the local server).
 */
const MAX_CALLER_ATTEMPTS = 60;
/**
 * The client's attempt timeout and the delay fault behind it: an attempt slower than the timeout loses its answer.
 * Both are wide enough that a loaded 2-core machine does not turn every attempt into a timeout.
 */
const ATTEMPT_TIMEOUT_MS = 1_000;
const DELAY_FAULT_MS = 1_500;
/**
 * The event consumer's invocation time. SQS hands a failed message back after its visibility timeout, which is never
 * shorter than the function's timeout (360 s against 60 s in the stack): here both are scaled down together, so that
 * the in-progress lock of a delivery whose record could not be completed has expired when the message comes back.
 */
const CONSUMER_INVOCATION_MS = 5_000;
const VISIBILITY_MS = 5_000;
/** SQS redrive policy: maxReceiveCount, as the stack deploys it (events.ts, DEFAULT_MAX_RECEIVE_COUNT). */
const MAX_RECEIVES = DEFAULT_MAX_RECEIVE_COUNT;

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const ADD_ON = 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ';

const leaks = leakWatch('faults');

type Kind = 'order' | 'cart' | 'cart+checkout' | 'checkout' | 'add-on';
interface Purchase {
  tag: string;
  kind: Kind;
  method: 'POST' | 'PATCH';
  path: string;
  body?: unknown;
  key: string;
  /** For a checkout or an add-on: the purchase it builds on. */
  parent?: string;
}
interface Final {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers of every shape
  body: any;
  attempts: number;
  reconciled: boolean;
  /** Real time (Date.now) at which the caller got this answer. */
  at: number;
}

const isFinal = (status: number) => status < 400 || (status < 500 && status !== 409 && status !== 429);
const problemSlug = (body: unknown) =>
  String((body as { type?: string } | undefined)?.type ?? '').replace('urn:partner-orders:problem:', '') || 'no body';

const orderBody = (tag: string) => ({
  lineItems: [{ offerId: NCE, quantity: 1 + (tag.length % 7), termDuration: 'P1Y', friendlyName: tag }],
  billingCycle: 'monthly',
});
const cartBody = (tag: string, checkout: boolean) => ({
  lineItems: [{ catalogItemId: NCE, quantity: 2, billingCycle: 'monthly', termDuration: 'P1Y', friendlyName: tag }],
  ...(checkout ? { checkout: true } : {}),
});

/** Ledger entries carrying a purchase's tag (the friendly name of its line). */
const ordersTagged = (orders: readonly Order[], tag: string) =>
  orders.filter((o) => o.lineItems.some((l) => l.friendlyName === tag));
const linesTagged = (orders: readonly Order[], tag: string) =>
  orders.flatMap((o) => o.lineItems.filter((l) => l.friendlyName === tag).map((line) => ({ order: o, line })));
const cartTag = (cart: { lineItems: { friendlyName?: string }[] }) => cart.lineItems[0]?.friendlyName ?? '';

/** The n-th percentile (0..100) of `values`, rounded to the ms; undefined when there are none. */
function percentile(values: number[], n: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((n / 100) * sorted.length) - 1)] as number);
}

/** Partner Center documents "a delay of up to 15 minutes" before an order appears in a customer's orders list. */
const LIST_LAG_MS = 15 * 60_000;
/**
 * In the lagging mode the simulator's clock runs this many times faster than real time (its delays and faults stay
 * real, so the faults are the same as in the other modes): a run of a few seconds spans the 15 minutes of lag, so
 * orders leave it while the run goes on.
 */
const LAG_CLOCK_SPEED = 120;

/**
 * Both ways Partner Center may treat MS-RequestId: `on`, a retry with the same id is answered with the first result
 * (what the simulator does by default); `off`, every request is processed (no documented guarantee says otherwise);
 * and `off` with the orders list lagging the documented 15 minutes (simulated time). The promise is the same in all.
 */
const MODES = [
  { name: 'on', dedupe: 'on', lagged: false },
  { name: 'off', dedupe: 'off', lagged: false },
  { name: 'off, orders list lagging 15 min', dedupe: 'off', lagged: true },
] as const;

/** The simulator's options for a mode, and how to turn its clock's timestamps back into real time. */
function simulatorFor(mode: (typeof MODES)[number], seed?: number) {
  const origin = Date.now();
  const speed = mode.lagged ? LAG_CLOCK_SPEED : 1;
  const options: SimulatorOptions = {
    dedupe: mode.dedupe,
    ...(seed === undefined ? {} : { seed }),
    ...(mode.lagged
      ? {
          listLagMs: LIST_LAG_MS,
          now: () => origin + (Date.now() - origin) * speed,
          tokenLifetimeSeconds: 3_600 * speed,
        }
      : {}),
  };
  return {
    options,
    toReal: (simulated: number) => origin + (simulated - origin) / speed,
    now: () => origin + (Date.now() - origin) * speed,
  };
}

describe.each(MODES)(
  'upstream faults with MS-RequestId deduplication $name: HTTP and events, reconciled against the ledger',
  (mode) => {
    let stack: Stack;
    const simulator = simulatorFor(mode, SEED);
    const clientRetries = new Histogram();
    const callerRetries = new Histogram();
    const sqs = new Histogram();
    const finals = new Histogram();
    const problems: string[] = [];

    beforeAll(async () => {
      stack = await startStack({
        idempotency: {},
        simulator: simulator.options,
        env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS) },
        client: { sleep: scaledSleep(20), onRetry: (event) => clientRetries.add(event.reason) },
      });
      for (const kind of KINDS) {
        stack.simulator.injectFault({
          kind,
          probability: FAULT_PROBABILITY,
          ...(kind === 'throttle' || kind === 'unavailable' ? { retryAfterSeconds: 1 } : {}),
          ...(kind === 'delay' ? { delayMs: DELAY_FAULT_MS } : {}),
        });
      }
    });
    afterAll(async () => {
      leaks.fromSimulator(stack.simulator);
      await stack.stop();
    });

    /** A caller that retries what it may retry (429, 409, 5xx, no answer) with the same key, until a final answer. */
    async function buy(p: Purchase): Promise<Final | undefined> {
      for (let attempt = 1; attempt <= MAX_CALLER_ATTEMPTS; attempt++) {
        let answer: Awaited<ReturnType<Stack['request']>>;
        try {
          answer = await stack.request(p.method, p.path, p.body, { 'Idempotency-Key': p.key });
        } catch {
          callerRetries.add('no answer');
          await sleep(5);
          continue;
        }
        leaks.response(answer.json);
        if (isFinal(answer.status)) {
          const reconciled = answer.headers.get('idempotent-reconciled') === 'true';
          return { status: answer.status, body: answer.json, attempts: attempt, reconciled, at: Date.now() };
        }
        callerRetries.add(`${answer.status} ${problemSlug(answer.json)}`);
        const retryAfter = Number(answer.headers.get('retry-after') ?? 0);
        // Retry-After honoured, scaled down (seconds → a few ms): nothing waits for time to pass at Partner Center
        // any more, a retry with the key checks out the same cart again. "In progress" is waited out for real.
        await sleep(
          problemSlug(answer.json) === 'idempotency-in-progress'
            ? Math.min(1_000, Math.max(1, retryAfter) * 1_000)
            : Math.min(20, retryAfter * 10) + 2,
        );
      }
      return undefined;
    }

    it(
      `places ${PURCHASES.http} HTTP and ${PURCHASES.events} event purchases through random faults: 0 duplicates, 0 lost`,
      async () => {
        const random = mulberry32(SEED);
        const http: Purchase[] = [];
        const phaseOne = Math.round(PURCHASES.http * 0.8);
        for (let i = 0; i < phaseOne; i++) {
          const roll = random();
          const tag = `http-${i}`;
          const key = `fault-run-${SEED}-${i}`;
          if (roll < 0.5) {
            http.push({
              tag,
              kind: 'order',
              method: 'POST',
              path: `/customers/${CUSTOMER}/orders`,
              body: orderBody(tag),
              key,
            });
          } else if (roll < 0.7) {
            http.push({
              tag,
              kind: 'cart',
              method: 'POST',
              path: `/customers/${CUSTOMER}/carts`,
              body: cartBody(tag, false),
              key,
            });
          } else {
            http.push({
              tag,
              kind: 'cart+checkout',
              method: 'POST',
              path: `/customers/${CUSTOMER}/carts`,
              body: cartBody(tag, true),
              key,
            });
          }
        }
        const answers = new Map<string, Final | undefined>();
        const run = (purchases: Purchase[]) =>
          pool(
            12,
            purchases.map((p) => async () => {
              const final = await buy(p);
              answers.set(p.tag, final);
              finals.add(final ? `${final.status}${final.status >= 400 ? ` ${problemSlug(final.body)}` : ''}` : 'lost');
            }),
          );

        const events = runEvents(PURCHASES.events);
        await run(http);

        // Phase two builds on phase one: add-ons to placed orders, checkouts of created carts.
        const second: Purchase[] = [];
        const placed = http.filter((p) => p.kind === 'order' && answers.get(p.tag)?.status === 201);
        const carts = http.filter((p) => p.kind === 'cart' && answers.get(p.tag)?.status === 201);
        const phaseTwo = PURCHASES.http - phaseOne;
        for (let i = 0; i < phaseTwo; i++) {
          const useCart = i % 2 === 1 && carts.length > 0;
          const parent = useCart ? carts.shift() : placed.shift();
          if (!parent) continue;
          const first = answers.get(parent.tag)?.body;
          const tag = `${useCart ? 'checkout' : 'add-on'}-${i}`;
          const key = `fault-run-${SEED}-${tag}`;
          if (useCart) {
            second.push({
              tag,
              kind: 'checkout',
              method: 'POST',
              path: `/customers/${CUSTOMER}/carts/${first.id}/checkout`,
              key,
              parent: parent.tag,
            });
          } else {
            second.push({
              tag,
              kind: 'add-on',
              method: 'PATCH',
              path: `/customers/${CUSTOMER}/orders/${first.id}`,
              body: {
                lineItems: [
                  {
                    offerId: ADD_ON,
                    quantity: 1,
                    friendlyName: tag,
                    parentSubscriptionId: first.lineItems[0].subscriptionId,
                  },
                ],
              },
              key,
              parent: parent.tag,
            });
          }
        }
        await run(second);
        const eventRun = await events;

        // Reconcile every purchase against the ledger.
        const { orders, carts: ledgerCarts } = stack.simulator.ledger;
        let duplicates = 0;
        let lost = 0;
        /**
         * Carts created by a create-cart whose answer was lost and that Partner Center did not deduplicate: carts
         * cannot be listed, so the retry creates another. They are never checked out (an Active cart costs nothing and
         * expires after 7 days); one that was checked out would show as a duplicate order.
         */
        let extraCarts = 0;
        const mismatch = (p: Purchase, what: string) => problems.push(`${p.kind} ${p.tag}: ${what}`);
        const checkedOut = new Set(second.filter((p) => p.kind === 'checkout').map((p) => p.parent));
        /** When the caller of the purchase that checks out a tag's cart got its 2xx (real time). */
        const answeredAt = new Map<string, number>(eventRun.answeredAt);
        for (const p of [...http, ...second]) {
          const final = answers.get(p.tag);
          const tagged = ordersTagged(orders, p.tag);
          const taggedCarts = ledgerCarts.filter((c) => cartTag(c) === p.tag);
          if (!final || final.status >= 400) {
            // Lost: the caller never heard of its purchase (and orders carrying its tag are orders no key answered).
            lost++;
            mismatch(
              p,
              `${final ? `refused: ${final.status} ${problemSlug(final.body)}` : 'no final answer'}, ${tagged.length} orders`,
            );
            continue;
          }
          answeredAt.set(p.kind === 'checkout' ? (p.parent ?? '') : p.tag, final.at);
          // The one cart a key may leave Active: the cart a `cart` purchase created and nobody checked out.
          const answeredCart = p.kind === 'cart' && !checkedOut.has(p.tag) ? final.body.id : undefined;
          extraCarts += taggedCarts.filter((c) => c.status === 'Active' && c.id !== answeredCart).length;
          switch (p.kind) {
            case 'order':
              if (tagged.length > 1) duplicates += tagged.length - 1;
              if (tagged.length !== 1 || tagged[0]?.id !== final.body.id) mismatch(p, `${tagged.length} orders`);
              if (taggedCarts.filter((c) => c.status === 'Ordered').length !== 1) mismatch(p, 'not one Ordered cart');
              break;
            case 'cart':
            case 'cart+checkout': {
              if (tagged.length > 1) duplicates += tagged.length - 1;
              const cartId = p.kind === 'cart' ? final.body.id : final.body.cart.id;
              if (!taggedCarts.some((c) => c.id === cartId)) mismatch(p, `the answered cart is not in the ledger`);
              const expected = p.kind === 'cart+checkout' || checkedOut.has(p.tag) ? 1 : 0;
              if (tagged.length !== expected)
                mismatch(p, `${tagged.length} orders from its cart, ${expected} expected`);
              if (p.kind === 'cart+checkout' && final.body.checkout.orders[0]?.id !== tagged[0]?.id) {
                mismatch(p, 'the answer names another order');
              }
              break;
            }
            case 'checkout': {
              const fromCart = ordersTagged(orders, p.parent ?? '');
              if (final.body.orders?.[0]?.id !== fromCart[0]?.id) mismatch(p, 'the answer names another order');
              break;
            }
            case 'add-on': {
              const lines = linesTagged(orders, p.tag);
              if (lines.length > 1) duplicates += lines.length - 1;
              if (lines.length !== 1 || lines[0]?.order.id !== final.body.id)
                mismatch(p, `${lines.length} add-on lines`);
              break;
            }
          }
        }
        duplicates += eventRun.duplicates;
        lost += eventRun.lost;
        extraCarts += eventRun.extraCarts;
        problems.push(...eventRun.problems);

        // Nothing in the ledger that no purchase asked for (an order no key answered).
        const tags = new Set([...http, ...second].map((p) => p.tag).concat(eventRun.tags));
        const strays = orders.filter((o) => !o.lineItems.some((l) => tags.has(l.friendlyName ?? '')));
        lost += strays.length;

        // From a checkout whose answer was lost (placed, or being placed, and the client never heard) to the 2xx
        // of the caller whose purchase it was, in real time as this test saw it.
        const firstLost = new Map<string, number>();
        for (const r of stack.simulator.requests) {
          const cartId = /\/carts\/([^/?]+)\/checkout$/.exec(r.path)?.[1];
          if (r.method !== 'POST' || !cartId || !r.fault || !LOST_ANSWER.has(r.fault)) continue;
          if (!firstLost.has(cartId)) firstLost.set(cartId, simulator.toReal(r.at));
        }
        const recoveryMs: number[] = [];
        for (const [cartId, at] of firstLost) {
          const cart = ledgerCarts.find((c) => c.id === cartId);
          const answered = cart && answeredAt.get(cartTag(cart));
          if (answered !== undefined) recoveryMs.push(answered - at);
        }
        // The lag was real: orders placed within its last 15 minutes (simulated) were still out of the list.
        const simulatedNow = simulator.now();
        const unlisted = mode.lagged
          ? orders.filter((o) => Date.parse(o.creationDate) > simulatedNow - LIST_LAG_MS).length
          : 0;

        const injected = new Histogram();
        for (const request of stack.simulator.requests) if (request.fault) injected.add(request.fault);
        const resent = new Histogram();
        const seen = new Set<string>();
        for (const r of stack.simulator.requests) {
          if (!r.path.startsWith('/v1/') || r.method === 'GET') continue;
          const id = `${r.method} ${r.path} ${r.headers['ms-requestid']}`;
          if (seen.has(id)) resent.add('same MS-RequestId sent again');
          seen.add(id);
        }
        const sentTo = (pattern: RegExp) =>
          stack.simulator.requests.filter((r) => r.method === 'POST' && pattern.test(r.path)).length;
        const reconciled = [...answers.values()].filter((a) => a?.reconciled).length + eventRun.reconciled;
        report(`faults (MS-RequestId deduplication ${mode.name})`, {
          seed: SEED,
          'purchases (HTTP)': http.length + second.length,
          'purchases (events)': PURCHASES.events,
          'Partner Center requests': stack.simulator.requests.filter((r) => r.path.startsWith('/v1/')).length,
          'create-cart requests': sentTo(/\/carts$/),
          'checkout requests': sentTo(/\/checkout$/),
          'orders API purchases (POST /orders, PATCH /orders/{id})': stack.simulator.requests.filter(
            (r) => (r.method === 'POST' || r.method === 'PATCH') && /\/orders(\/[^/]+)?$/.test(r.path),
          ).length,
          'faults injected': injected,
          'client retries (same MS-RequestId)': clientRetries,
          'caller retries (same Idempotency-Key)': callerRetries,
          'resends with the same MS-RequestId': resent.get('same MS-RequestId sent again'),
          'HTTP final answers': finals,
          'SQS deliveries': sqs,
          ...(mode.lagged ? { 'orders still out of the lagging list at the end': unlisted } : {}),
          'duplicate orders': duplicates,
          'lost purchases': lost,
          'messages in the DLQ': eventRun.dlq,
          'why the DLQ messages failed (answers over their receives)': eventRun.dlqReasons,
          'extra Active carts left (created, never checked out)': extraCarts,
          'checkouts whose answer was lost': firstLost.size,
          'purchases answered after a lost answer (Idempotent-Reconciled / reconciled)': reconciled,
          "lost checkout answer to the caller's 2xx, ms (p50 / max)": `${percentile(recoveryMs, 50) ?? '-'} / ${percentile(recoveryMs, 100) ?? '-'}`,
          'ledger entries no purchase asked for': strays.length,
        });
        expect(problems).toEqual([]);
        expect(duplicates).toBe(0);
        expect(lost).toBe(0);
        expect(eventRun.dlq).toBe(0);
        expect(strays).toEqual([]);
        // A purchase goes through a cart: the orders API is never called.
        expect(
          stack.simulator.requests.filter(
            (r) => (r.method === 'POST' || r.method === 'PATCH') && /\/orders(\/[^/]+)?$/.test(r.path),
          ),
        ).toEqual([]);
        if (mode.dedupe === 'on') expect(extraCarts).toBe(0);
        for (const kind of KINDS) expect(injected.get(kind), `${kind} was injected`).toBeGreaterThan(0);
        expect(firstLost.size, 'checkout answers were lost').toBeGreaterThan(0);
        expect(recoveryMs).toHaveLength(firstLost.size);
      },
      timeout(240_000, 900_000),
    );

    /** Event purchases through a simulated SQS queue: batches of ≤ 10, 5 consumers, redelivery, the DLQ. */
    async function runEvents(n: number) {
      const random = mulberry32(SEED + 1);
      const published: OutcomeEvent[] = [];
      /** When each command's first outcome was published (real time). */
      const publishedAt = new Map<string, number>();
      const deps: EventDependencies = {
        ...stack.deps,
        // Half the events carry no detail.idempotencyKey: the deployment keys them by their event id (the same on
        // every SQS redelivery).
        eventIdAsKey: true,
        publish: async (outcomes) => {
          published.push(...outcomes);
          for (const e of outcomes)
            if (!publishedAt.has(e.detail.commandId)) publishedAt.set(e.detail.commandId, Date.now());
          leaks.response(outcomes);
        },
        // ChangeMessageVisibility: the message comes back after Retry-After, scaled down (seconds → tens of ms).
        proveOrigin: localQueueProvenance,
        delay: async (record, seconds) => {
          sqs.add('delayed by Retry-After');
          visibleAfter.set(record.messageId, Math.min(2, seconds) * 20);
        },
      };
      const visibleAfter = new Map<string, number>();
      interface Message {
        record: SQSRecord;
        receives: number;
        tag: string;
        type: 'CreateOrder' | 'CreateCart';
        checkout: boolean;
        duplicated?: boolean;
      }
      const commands: Message[] = [];
      for (let i = 0; i < n; i++) {
        const roll = random();
        const tag = `event-${i}`;
        const type = roll < 0.6 ? 'CreateOrder' : 'CreateCart';
        const checkout = roll >= 0.6 && roll < 0.85;
        const detail = {
          customerId: CUSTOMER,
          ...(type === 'CreateOrder' ? orderBody(tag) : cartBody(tag, checkout)),
          // Half name the purchase themselves (what producers must do); the others rely on the event id.
          ...(i % 2 === 0 ? { idempotencyKey: `event-key-${SEED}-${i}` } : {}),
        };
        commands.push({ record: sqsRecord(eventBridgeEvent(type, detail)), receives: 0, tag, type, checkout });
      }
      const queue = [...commands];
      const dlq: Message[] = [];
      let inFlight = 0;
      let invisible = 0;
      const redeliver = (m: Message) => {
        invisible++;
        const after = visibleAfter.get(m.record.messageId) ?? VISIBILITY_MS;
        visibleAfter.delete(m.record.messageId);
        setTimeout(() => {
          invisible--;
          queue.push(m);
        }, after);
      };
      const consumer = async () => {
        const handler = createEventsHandler(deps);
        for (;;) {
          const batch = queue.splice(0, 10);
          if (batch.length === 0) {
            if (inFlight === 0 && invisible === 0 && queue.length === 0) return;
            await sleep(3);
            continue;
          }
          inFlight++;
          for (const m of batch) {
            m.receives++;
            m.record = {
              ...m.record,
              attributes: { ...m.record.attributes, ApproximateReceiveCount: String(m.receives) },
            };
            sqs.add(m.receives === 1 ? 'first receives' : 'redeliveries');
          }
          let failed: Set<string>;
          try {
            const response = await handler(sqsEvent(batch.map((m) => m.record)), lambdaContext(CONSUMER_INVOCATION_MS));
            failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
          } catch {
            failed = new Set(batch.map((m) => m.record.messageId)); // all records failed
          }
          for (const m of batch) {
            if (failed.has(m.record.messageId)) {
              if (m.receives >= MAX_RECEIVES) {
                dlq.push(m);
                sqs.add('to the DLQ');
              } else redeliver(m);
            } else if (!m.duplicated && random() < 0.05) {
              // At-least-once delivery: the same message once more.
              sqs.add('duplicate deliveries');
              queue.push({ ...m, receives: 0, duplicated: true });
            }
          }
          inFlight--;
        }
      };
      await Promise.all(Array.from({ length: 5 }, consumer));

      const { orders, carts } = stack.simulator.ledger;
      const problems: string[] = [];
      let duplicates = 0;
      let lost = 0;
      let extraCarts = 0;
      let reconciled = 0;
      const answeredAt = new Map<string, number>();
      for (const m of commands) {
        const commandId = JSON.parse(m.record.body).id as string;
        const outcomes = published.filter((e) => e.detail.commandId === commandId);
        const rejected = outcomes.filter((e) => e.detailType === 'OrderRejected');
        const succeeded = outcomes.filter((e) => e.detailType !== 'OrderRejected');
        const tagged = ordersTagged(orders, m.tag);
        const taggedCarts = carts.filter((c) => cartTag(c) === m.tag);
        if (tagged.length > 1) duplicates += tagged.length - 1;
        const inDlq = dlq.some((d) => d.tag === m.tag);
        if (rejected.length > 0) {
          lost++;
          problems.push(
            `${m.tag}: rejected (${rejected[0]?.detail.problem?.status} ${rejected[0]?.detail.problem?.type}), ${tagged.length} orders`,
          );
          continue;
        }
        if (succeeded.length === 0) {
          // In the DLQ: counted there; an order it placed is an order no outcome announced.
          if (!inDlq || tagged.length > 0) {
            lost++;
            problems.push(`${m.tag}: no outcome${inDlq ? ', in the DLQ' : ''}, ${tagged.length} orders`);
          }
          continue;
        }
        const at = publishedAt.get(commandId);
        if (at !== undefined) answeredAt.set(m.tag, at);
        // Every outcome of one command (redelivered, duplicated) carries the same result: the ledger's.
        const ids = new Set(
          succeeded.map((e) => {
            const result = e.detail.result as {
              id?: string;
              cart?: { id: string };
              checkout?: { orders: { id: string }[] };
            };
            return m.type === 'CreateOrder'
              ? result.id
              : `${result.cart?.id ?? result.id}/${result.checkout?.orders[0]?.id ?? ''}`;
          }),
        );
        if (ids.size !== 1) problems.push(`${m.tag}: outcomes name different purchases`);
        if (succeeded.some((e) => e.detail.reconciled)) reconciled++;
        const named = [...ids][0] ?? '';
        // The cart a CreateCart without checkout created stays Active; every other Active cart of the tag is extra.
        const keptCart = m.type === 'CreateCart' && !m.checkout ? named.split('/')[0] : undefined;
        extraCarts += taggedCarts.filter((c) => c.status === 'Active' && c.id !== keptCart).length;
        const expected =
          m.type === 'CreateOrder'
            ? [tagged[0]?.id]
            : taggedCarts.map((cart) => `${cart.id}/${m.checkout ? (tagged[0]?.id ?? '') : ''}`);
        if (!expected.includes(named)) problems.push(`${m.tag}: the outcome names another purchase than the ledger`);
        const expectedOrders = m.type === 'CreateOrder' || m.checkout ? 1 : 0;
        if (tagged.length !== expectedOrders) problems.push(`${m.tag}: ${tagged.length} orders`);
        if (m.type === 'CreateCart' && taggedCarts.length === 0) problems.push(`${m.tag}: no cart`);
      }
      // Why the DLQ'd messages failed every receive (from the consumer's log lines), and what they bought.
      const reasons = new Histogram();
      const dlqIds = new Set(dlq.map((m) => m.record.messageId));
      for (const line of leaks.logs.lines()) {
        if (!line.includes('"command will be retried"')) continue;
        const entry = JSON.parse(line) as { messageId?: string; status?: number };
        if (entry.messageId && dlqIds.has(entry.messageId)) reasons.add(String(entry.status));
      }
      for (const m of dlq) {
        const placed =
          ordersTagged(orders, m.tag).length +
          carts.filter((c) => c.lineItems.some((l) => l.friendlyName === m.tag)).length;
        if (ordersTagged(orders, m.tag).length > 1) problems.push(`${m.tag}: in the DLQ with ${placed} purchases`);
      }
      return {
        duplicates,
        lost,
        extraCarts,
        reconciled,
        answeredAt,
        problems,
        tags: commands.map((m) => m.tag),
        dlq: dlq.length,
        dlqReasons: reasons,
      };
    }
  },
);

describe.each(MODES)(
  'the lost answer, MS-RequestId deduplication $name: Partner Center places the purchase and the answer never comes',
  (mode) => {
    let stack: Stack;
    const C = {
      order: '0a1b2c3d-0001-4000-8000-000000000001',
      cart: '0a1b2c3d-0002-4000-8000-000000000002',
      event: '0a1b2c3d-0003-4000-8000-000000000003',
      invoke: '0a1b2c3d-0004-4000-8000-000000000004',
      addOn: '0a1b2c3d-0005-4000-8000-000000000005',
      slow: '0a1b2c3d-0006-4000-8000-000000000006',
      dropped: '0a1b2c3d-0007-4000-8000-000000000007',
      allLost: '0a1b2c3d-0008-4000-8000-000000000008',
    };
    const lostAnswers = new Histogram();
    beforeAll(async () => {
      stack = await startStack({
        idempotency: {},
        simulator: simulatorFor(mode).options,
        env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '250' },
        client: { sleep: scaledSleep(20) },
      });
    });
    afterAll(async () => {
      leaks.fromSimulator(stack.simulator);
      report(`faults.lost-answer (MS-RequestId deduplication ${mode.name})`, {
        'purchases whose checkout answer was lost, answered without buying again': lostAnswers,
      });
      await stack.stop();
    });
    /** The next `times` checkouts for the customer are placed and lose their answer. */
    const loseCheckoutAnswers = (customer: string, times: number) =>
      stack.simulator.injectFault({
        kind: 'commit-then-drop',
        times,
        match: { method: 'POST', path: new RegExp(`/customers/${customer}/carts/[^/]+/checkout$`) },
      });
    const ledgerFor = (customer: string) => ({
      orders: stack.simulator.ledger.orders.filter((o) => o.referenceCustomerId === customer),
      carts: stack.simulator.ledger.carts.filter((c) => c.links.self.uri.includes(customer)),
    });
    const sentTo = (customer: string, what: 'carts' | 'checkout' | 'orders') =>
      stack.simulator.requests.filter(
        (r) =>
          (r.method === 'POST' || r.method === 'PATCH') &&
          r.path.includes(`/customers/${customer}/`) &&
          (what === 'checkout'
            ? r.path.endsWith('/checkout')
            : what === 'carts'
              ? r.path.endsWith('/carts')
              : /\/orders(\/[^/]+)?$/.test(r.path)),
      );
    /** One cart, checked out `checkouts` times, one order, and the orders API never called. */
    const placedOnce = (customer: string, checkouts: number) => {
      const ledger = ledgerFor(customer);
      expect(ledger.orders).toHaveLength(1);
      expect(ledger.carts.map((c) => c.status)).toEqual(['Ordered']);
      expect(sentTo(customer, 'carts')).toHaveLength(1);
      expect(sentTo(customer, 'checkout')).toHaveLength(checkouts);
      expect(new Set(sentTo(customer, 'checkout').map((r) => r.path)).size).toBe(1);
      expect(sentTo(customer, 'orders')).toEqual([]);
      return ledger;
    };

    it('HTTP order: the checkout answer is lost; the same cart is checked out again in the same request', async () => {
      loseCheckoutAnswers(C.order, 1);
      const path = `/customers/${C.order}/orders`;
      const body = orderBody('lost-order');
      const first = await stack.request('POST', path, body, { 'Idempotency-Key': 'lost-order' });
      leaks.response(first.json);
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-reconciled')).toBe('true');
      expect(placedOnce(C.order, 2).orders.map((o) => o.id)).toEqual([first.json.id]);
      const retry = await stack.request('POST', path, body, { 'Idempotency-Key': 'lost-order' });
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.json.id).toBe(first.json.id);
      placedOnce(C.order, 2);
      lostAnswers.add('HTTP order');
    });

    it('HTTP order: every checkout of the request loses its answer; 502 outcome-unknown, the retry checks out the same cart', async () => {
      loseCheckoutAnswers(C.allLost, 4);
      const path = `/customers/${C.allLost}/orders`;
      const body = orderBody('all-lost');
      const first = await stack.request('POST', path, body, { 'Idempotency-Key': 'all-lost' });
      leaks.response(first.json);
      expect(first.status).toBe(502);
      expect(first.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
      expect(Number(first.headers.get('retry-after'))).toBeGreaterThan(0);
      const retry = await stack.request('POST', path, body, { 'Idempotency-Key': 'all-lost' });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-reconciled')).toBe('true');
      expect(placedOnce(C.allLost, 5).orders.map((o) => o.id)).toEqual([retry.json.id]);
      lostAnswers.add('HTTP order, every answer of the request lost');
    });

    it('HTTP cart with checkout: the checkout answer is lost; the same cart is checked out again', async () => {
      loseCheckoutAnswers(C.cart, 1);
      const path = `/customers/${C.cart}/carts`;
      const body = cartBody('lost-checkout', true);
      const first = await stack.request('POST', path, body, { 'Idempotency-Key': 'lost-checkout' });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-reconciled')).toBe('true');
      const ledger = placedOnce(C.cart, 2);
      expect(ledger.carts.map((c) => c.id)).toEqual([first.json.cart.id]);
      expect(ledger.orders.map((o) => o.id)).toEqual([first.json.checkout.orders[0].id]);
      lostAnswers.add('HTTP cart + checkout');
    });

    it('HTTP add-on: the checkout answer of its cart is lost; one add-on line, and PATCH is never sent', async () => {
      const placed = await stack.request('POST', `/customers/${C.addOn}/orders`, orderBody('parent'));
      expect(placed.status).toBe(201);
      loseCheckoutAnswers(C.addOn, 1);
      const path = `/customers/${C.addOn}/orders/${placed.json.id}`;
      const body = {
        lineItems: [
          {
            offerId: ADD_ON,
            quantity: 1,
            friendlyName: 'lost-add-on',
            parentSubscriptionId: placed.json.lineItems[0].subscriptionId,
          },
        ],
      };
      const first = await stack.request('PATCH', path, body, { 'Idempotency-Key': 'lost-add-on' });
      expect(first.status).toBe(200);
      expect(first.headers.get('idempotent-reconciled')).toBe('true');
      const lines = linesTagged(stack.simulator.ledger.orders, 'lost-add-on');
      expect(lines).toHaveLength(1);
      expect(lines[0]?.order.id).toBe(first.json.id);
      expect(sentTo(C.addOn, 'orders')).toEqual([]);
      expect(ledgerFor(C.addOn).carts.map((c) => c.status)).toEqual(['Ordered', 'Ordered']);
      lostAnswers.add('HTTP add-on');
    });

    it('event: the checkout answer is lost; checked out again in the same delivery, the outcome event says reconciled', async () => {
      loseCheckoutAnswers(C.event, 1);
      const { handler, published } = recordingEventsHandler(stack.deps);
      const record = sqsRecord(
        eventBridgeEvent('CreateOrder', {
          customerId: C.event,
          ...orderBody('lost-event'),
          idempotencyKey: 'lost-event',
        }),
      );
      expect((await handler(sqsEvent([record]), lambdaContext(60_000))).batchItemFailures).toEqual([]);
      expect(published.map((e) => [e.detailType, e.detail.reconciled])).toEqual([['OrderCreated', true]]);
      const placed = published[0]?.detail.result as Order | undefined;
      expect(placedOnce(C.event, 2).orders.map((o) => o.id)).toEqual([placed?.id]);
      lostAnswers.add('event');
    });

    it('direct invocation: the checkout answer is lost; checked out again in the same invocation', async () => {
      loseCheckoutAnswers(C.invoke, 1);
      const invoke = invokeOrder(stack.deps);
      const payload = { customerId: C.invoke, ...orderBody('lost-invoke'), idempotencyKey: 'lost-invoke' };
      const result = (await invoke(payload, lambdaContext())) as Order & { reconciled?: boolean };
      expect(result.reconciled).toBe(true);
      expect(placedOnce(C.invoke, 2).orders.map((o) => o.id)).toEqual([result.id]);
      lostAnswers.add('direct invocation');
    });

    it('a checkout still running at Partner Center when the client gives up: the same cart is checked out again, placed once', async () => {
      // Placed 500 ms after it arrived; the client gives up after 250 ms. Nothing waits for it to settle: a second
      // checkout of the cart is busy (409) or repeats the first result, never a second order.
      stack.simulator.injectFault({
        kind: 'delay',
        delayMs: 500,
        times: 1,
        match: { method: 'POST', path: new RegExp(`/customers/${C.slow}/carts/[^/]+/checkout$`) },
      });
      const path = `/customers/${C.slow}/orders`;
      const body = orderBody('slow-order');
      let answer = await stack.request('POST', path, body, { 'Idempotency-Key': 'slow-order' });
      for (let retry = 0; answer.status === 502 && retry < 5; retry++) {
        expect(answer.json.type).toBe('urn:partner-orders:problem:outcome-unknown');
        await sleep(100);
        answer = await stack.request('POST', path, body, { 'Idempotency-Key': 'slow-order' });
      }
      expect(answer.status).toBe(201);
      expect(answer.headers.get('idempotent-reconciled')).toBe('true');
      const ledger = ledgerFor(C.slow);
      expect(ledger.orders.map((o) => o.id)).toEqual([answer.json.id]);
      expect(ledger.carts.map((c) => c.status)).toEqual(['Ordered']);
      expect(sentTo(C.slow, 'carts')).toHaveLength(1);
      expect(sentTo(C.slow, 'checkout').length).toBeGreaterThan(1);
      lostAnswers.add('still running, then checked out again');
    });

    it('a checkout that never reached Partner Center is sent again at once, with the same MS-RequestId', async () => {
      stack.simulator.injectFault({
        kind: 'drop',
        times: 1,
        match: { method: 'POST', path: new RegExp(`/customers/${C.dropped}/carts/[^/]+/checkout$`) },
      });
      const path = `/customers/${C.dropped}/orders`;
      const body = orderBody('dropped-order');
      const first = await stack.request('POST', path, body, { 'Idempotency-Key': 'dropped-order' });
      expect(first.status).toBe(201);
      expect(placedOnce(C.dropped, 2).orders.map((o) => o.id)).toEqual([first.json.id]);
      const ids = sentTo(C.dropped, 'checkout').map((r) => r.headers['ms-requestid']);
      expect(new Set(ids).size).toBe(1);
      lostAnswers.add('never arrived, sent again');
    });
  },
);

describe('faults: leaks', () => {
  it('leaks no secret, token or Authorization value in any log line or answer', () => {
    expect(leaks.check()).toEqual([]);
  });
});
