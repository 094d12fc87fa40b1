// `npm run bench:preflight`: what the catalog pre-flight costs a purchase, against the benchmarks' instant upstream
// (bench/upstream.ts, its own process), with the real handlers wired from configuration twice, PREFLIGHT=on and
// PREFLIGHT=off, everything else equal.
//   1. Upstream reads per purchase: for the first purchase of a customer (cold cache) and per purchase after (warm),
//      counted by the upstream, per route; and for one order of 100 lines of one SKU.
//   2. Warm latency: each route's handler with the pre-flight on and off, invocations alternating between the two
//      (which goes first alternates too), p50 and p99 and their difference: the cache lookup and the checks.
//   3. Cold latency: a first purchase per customer (its catalog not yet read) on and off: the reads' round trip to
//      the instant upstream. Against Partner Center it is one GET round trip per purchase (the SKU and availabilities
//      reads of all its SKUs run in parallel), paid once per customer and SKU per CATALOG_CACHE_SECONDS.
// Writes bench/preflight-results.json. BENCH_QUICK=1 runs fewer invocations.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { createHandler as createCartHandler } from '../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../functions/create-order/handler.js';
import { readConfig } from '../functions/shared/config.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import type { HttpEvent, HttpResult } from '../functions/shared/http.js';
import { iamIdentity } from '../functions/shared/identity/http.js';
import type { PurchasePolicy } from '../functions/shared/policy/check.js';
import { httpEvent } from '../test/support/events.js';
import { customerWithLines, orderBody } from './bodies.js';
import { median, percentile, round } from './stats.js';
import { startUpstream, type UpstreamStats } from './upstream.js';
import { BENCH_CREDENTIALS, type Scenario, scenarios } from './warm.js';

const QUICK = process.env.BENCH_QUICK === '1';
const INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? (QUICK ? 300 : 2000));
const WARMUP = QUICK ? 100 : 300;
const COLD_CUSTOMERS = QUICK ? 30 : 100;

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;
const context = (): Context =>
  ({ functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 29_000 }) as Context;

/** The purchase policy lets everything through unevaluated: its cost is not the pre-flight's, and is the same either way. */
const PASS_THROUGH = { guard: (command) => command } as Pick<PurchasePolicy, 'guard'> as PurchasePolicy;

const upstream = await startUpstream();
const handlersFor = (preflight: 'on' | 'off') => {
  const configured = {
    ...createDependencies(
      readConfig({
        PARTNER_CENTER_URL: upstream.url,
        PARTNER_CENTER_AUTHORITY_URL: upstream.url,
        PARTNER_CENTER_CREDENTIALS: JSON.stringify(BENCH_CREDENTIALS),
        // The bench measures the purchase path without keys (as bench/warm.ts): no idempotency store.
        IDEMPOTENCY_KEY_REQUIRED: 'false',
        PREFLIGHT: preflight,
      }),
    ),
    identity: iamIdentity,
  };
  const deps = { ...configured, policy: PASS_THROUGH };
  return {
    deps,
    handlers: { order: createOrderHandler(deps), cart: createCartHandler(deps) } as Record<string, Handler>,
  };
};
const on = handlersFor('on');
const off = handlersFor('off');
await Promise.all([on.deps.tokens.get(), off.deps.tokens.get()]);

const invoke = async (handlers: Record<string, Handler>, scenario: Scenario, event = scenario.event()) => {
  const started = performance.now();
  const result = await (handlers[scenario.handler] as Handler)(event, context());
  const elapsed = performance.now() - started;
  if (result.statusCode !== scenario.status) {
    throw new Error(`${scenario.name}: answered ${result.statusCode}, expected ${scenario.status}: ${result.body}`);
  }
  return elapsed * 1000;
};

const catalogReads = (stats: UpstreamStats) =>
  (stats.partnerCenter['GET sku'] ?? 0) + (stats.partnerCenter['GET availabilities'] ?? 0);

// 1. Reads per purchase, cold then warm (the checkout alone has no lines: nothing to check).
const purchaseRoutes = scenarios().filter((s) => s.name !== 'POST checkout');
const reads: { route: string; distinctSkus: number; cold: number; warmPerPurchase: number }[] = [];
for (const scenario of purchaseRoutes) {
  on.deps.catalog.clear();
  await upstream.reset();
  await invoke(on.handlers, scenario);
  const cold = catalogReads(await upstream.stats());
  await upstream.reset();
  const warmCalls = 100;
  for (let i = 0; i < warmCalls; i++) await invoke(on.handlers, scenario);
  const warm = catalogReads(await upstream.stats()) / warmCalls;
  const body = JSON.parse(String(scenario.event().body)) as { lineItems: Record<string, string>[] };
  const skus = new Set(
    body.lineItems.map((l) => (l.offerId ?? l.catalogItemId ?? '').split(':').slice(0, 2).join(':')),
  );
  reads.push({ route: scenario.name, distinctSkus: skus.size, cold, warmPerPurchase: warm });
}
{
  // One order of 100 lines of one SKU: still one SKU read and one availabilities read.
  const customerId = customerWithLines(100);
  const hundred: Scenario = {
    name: 'POST orders, 100 lines of one SKU',
    handler: 'order',
    event: () =>
      httpEvent('POST /customers/{customerId}/orders', { pathParameters: { customerId }, body: orderBody(100) }),
    status: 201,
    upstream: [],
  };
  on.deps.catalog.clear();
  await upstream.reset();
  await invoke(on.handlers, hundred);
  reads.push({ route: hundred.name, distinctSkus: 1, cold: catalogReads(await upstream.stats()), warmPerPurchase: 0 });
}

// 2. Warm latency, on vs off, alternating.
const warm: {
  route: string;
  on: { p50Us: number; p99Us: number };
  off: { p50Us: number; p99Us: number };
  p50CostUs: number;
  p99CostUs: number;
}[] = [];
for (const scenario of scenarios()) {
  const times = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < WARMUP + INVOCATIONS; i++) {
    const keep = i >= WARMUP;
    const [first, second] = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    const a = await invoke((first === 'on' ? on : off).handlers, scenario);
    const b = await invoke((second === 'on' ? on : off).handlers, scenario);
    if (keep) {
      times[first].push(a);
      times[second].push(b);
    }
  }
  const stats = (samples: number[]) => ({ p50Us: round(median(samples), 1), p99Us: round(percentile(samples, 99), 1) });
  const row = { route: scenario.name, on: stats(times.on), off: stats(times.off) };
  warm.push({
    ...row,
    p50CostUs: round(row.on.p50Us - row.off.p50Us, 1),
    p99CostUs: round(row.on.p99Us - row.off.p99Us, 1),
  });
}

// 3. Cold latency: the first order of fresh customers, on vs off, alternating.
const cold = { on: [] as number[], off: [] as number[] };
const order = scenarios()[0] as Scenario;
for (let i = 0; i < COLD_CUSTOMERS; i++) {
  const customerId = `0000cafe-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const event = () =>
    httpEvent('POST /customers/{customerId}/orders', { pathParameters: { customerId }, body: orderBody(1) });
  const [first, second] = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
  cold[first].push(await invoke((first === 'on' ? on : off).handlers, order, event()));
  cold[second].push(await invoke((second === 'on' ? on : off).handlers, order, event()));
}
const coldRow = {
  customers: COLD_CUSTOMERS,
  on: { p50Us: round(median(cold.on), 1) },
  off: { p50Us: round(median(cold.off), 1) },
  p50CostUs: round(median(cold.on) - median(cold.off), 1),
};
await upstream.stop();

console.log('\nCatalog reads per purchase (upstream GETs: SKU + availabilities)');
console.log('route                                  distinct SKUs   cold   warm (per purchase)');
for (const r of reads) {
  console.log(
    `${r.route.padEnd(38)} ${String(r.distinctSkus).padStart(13)} ${String(r.cold).padStart(6)} ${String(r.warmPerPurchase).padStart(8)}`,
  );
}
console.log(`\nWarm latency, PREFLIGHT=on vs off (${INVOCATIONS} invocations each, alternating)`);
console.log('route                       on p50 µs  off p50 µs  cost p50 µs   on p99 µs  off p99 µs  cost p99 µs');
for (const r of warm) {
  console.log(
    `${r.route.padEnd(26)} ${String(r.on.p50Us).padStart(10)} ${String(r.off.p50Us).padStart(11)} ${String(r.p50CostUs).padStart(12)} ${String(r.on.p99Us).padStart(11)} ${String(r.off.p99Us).padStart(11)} ${String(r.p99CostUs).padStart(12)}`,
  );
}
console.log(
  `\nCold (first purchase of ${COLD_CUSTOMERS} customers): on p50 ${coldRow.on.p50Us} µs, off ${coldRow.off.p50Us} µs, cost ${coldRow.p50CostUs} µs (one parallel pair of GETs to the instant upstream)`,
);
writeFileSync(
  new URL('./preflight-results.json', import.meta.url),
  `${JSON.stringify({ invocations: INVOCATIONS, reads, warm, cold: coldRow }, null, 2)}\n`,
);
