// Warm overhead: every HTTP route's real handler (createHandler(deps), API Gateway v2 event, warm container, token
// and credentials cached) against the instant upstream, beside a bare function doing the same `fetch`es to the same
// upstream with the same headers and bodies and no validation or middleware. Invocations alternate between the two
// (which goes first alternates too), so drift on a shared machine hits both alike.
//
// `tsx bench/warm.ts` runs this part alone (for `--cpu-prof`); `npm run bench` runs it with the rest.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { createHandler as createCartHandler } from '../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../functions/create-order/handler.js';
import { readConfig } from '../functions/shared/config.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import type { HttpEvent, HttpResult } from '../functions/shared/http.js';
import type { IdempotencyStore } from '../functions/shared/idempotency.js';
import type { PartnerCenterRequest } from '../functions/shared/partner-center/client.js';
import type { CreateCartRequest } from '../functions/shared/schemas/carts.js';
import type { AddOnRequest, CreateOrderRequest } from '../functions/shared/schemas/orders.js';
import { checkoutRequest, createCartRequest } from '../functions/shared/services/carts.js';
import { cartForOrder } from '../functions/shared/services/orders.js';
import { httpEvent } from '../test/support/events.js';
import { customerWithLines, orderBody, PARENT_SUBSCRIPTION } from './bodies.js';
import { median, percentile, round, slope } from './stats.js';
import { type RunningUpstream, startUpstream, startUpstreamInProcess } from './upstream.js';
import { startVerifiedPermissions } from './verified-permissions.js';

export const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ORDER_ID = 'Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1';
const CART_ID = '3655b1a0-b1c9-4268-9824-577fdbc4d0be';
export const BENCH_CREDENTIALS = { tenantId: 'bench-tenant', clientId: 'bench-client', clientSecret: 'bench-secret' };
export const GOAL = { p50: 1.15, p99: 1.3 };

const addOnBody = {
  lineItems: [
    {
      offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ',
      quantity: 5,
      termDuration: 'P1Y',
      parentSubscriptionId: PARENT_SUBSCRIPTION,
    },
  ],
};
const cartBody = {
  lineItems: [
    { catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, billingCycle: 'monthly', termDuration: 'P1Y' },
    { catalogItemId: 'DZH318Z0BQ36:004G:DZH318Z08C0S', quantity: 1, billingCycle: 'one_time', termDuration: 'P1Y' },
  ],
};

/** The headers API Gateway passes on besides the caller's own (header names lower-cased, as payload v2 has them). */
const GATEWAY_HEADERS = {
  accept: 'application/json',
  'content-length': '180',
  host: 'abcdef1234.execute-api.eu-west-1.amazonaws.com',
  'user-agent': 'partner-orders-cli/0.1.0',
  'x-amzn-trace-id': 'Root=1-6741a2b3-0123456789abcdef01234567',
  'x-forwarded-for': '203.0.113.10',
  'x-forwarded-port': '443',
  'x-forwarded-proto': 'https',
};

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** One route: how to build its event, what it must answer, and what the bare function sends for it. */
export interface Scenario {
  name: string;
  handler: 'order' | 'cart' | 'keyed order';
  event: () => HttpEvent;
  status: number;
  /** The upstream calls of the route, in order; `{cartId}` is replaced by the id the previous answer gave. */
  upstream: PartnerCenterRequest[];
}

/** What an order is placed through: its cart, created and checked out (services/orders.ts). */
const orderRequests = (customerId: string, order: CreateOrderRequest | AddOnRequest): PartnerCenterRequest[] => [
  createCartRequest(customerId, cartForOrder(order)),
  checkoutRequest(customerId, '{cartId}'),
];

export function scenarios(): Scenario[] {
  const post = (routeKey: string, pathParameters: Record<string, string>, body?: unknown) => () =>
    httpEvent(routeKey, { pathParameters, headers: GATEWAY_HEADERS, ...(body === undefined ? {} : { body }) });
  const order = orderBody(1);
  return [
    {
      name: 'POST orders',
      handler: 'order',
      event: post('POST /customers/{customerId}/orders', { customerId: CUSTOMER }, order),
      status: 201,
      upstream: orderRequests(CUSTOMER, order as CreateOrderRequest),
    },
    {
      name: 'PATCH order (add-on)',
      handler: 'order',
      event: post(
        'PATCH /customers/{customerId}/orders/{orderId}',
        { customerId: CUSTOMER, orderId: ORDER_ID },
        addOnBody,
      ),
      status: 200,
      upstream: [
        { method: 'GET', path: `/v1/customers/${CUSTOMER}/orders/${ORDER_ID}` },
        ...orderRequests(CUSTOMER, addOnBody as AddOnRequest),
      ],
    },
    {
      name: 'POST carts',
      handler: 'cart',
      event: post('POST /customers/{customerId}/carts', { customerId: CUSTOMER }, cartBody),
      status: 201,
      upstream: [createCartRequest(CUSTOMER, cartBody as CreateCartRequest)],
    },
    {
      name: 'POST carts + checkout',
      handler: 'cart',
      event: post('POST /customers/{customerId}/carts', { customerId: CUSTOMER }, { ...cartBody, checkout: true }),
      status: 201,
      upstream: [createCartRequest(CUSTOMER, cartBody as CreateCartRequest), checkoutRequest(CUSTOMER, '{cartId}')],
    },
    {
      name: 'POST checkout',
      handler: 'cart',
      event: post('POST /customers/{customerId}/carts/{cartId}/checkout', { customerId: CUSTOMER, cartId: CART_ID }),
      status: 200,
      upstream: [checkoutRequest(CUSTOMER, CART_ID)],
    },
  ];
}

/** `POST orders` with `lines` line items, for the scaling figures (the upstream answers with as many lines). */
export function scaledOrder(lines: number): Scenario {
  const customerId = customerWithLines(lines);
  const body = orderBody(lines);
  return {
    name: `POST orders, ${lines} line item${lines === 1 ? '' : 's'}`,
    handler: 'order',
    event: () =>
      httpEvent('POST /customers/{customerId}/orders', {
        pathParameters: { customerId },
        headers: GATEWAY_HEADERS,
        body,
      }),
    status: 201,
    upstream: orderRequests(customerId, body as CreateOrderRequest),
  };
}

/**
 * `POST orders` with a fresh Idempotency-Key on every call (each one a new purchase: a PutItem and an UpdateItem on
 * the idempotency table around the Partner Center call). Informational: needs `startWarmBench({ idempotency })`.
 */
export function keyedOrder(store: string): Scenario {
  const body = orderBody(1);
  return {
    name: `POST orders with Idempotency-Key (${store})`,
    handler: 'keyed order',
    event: () =>
      httpEvent('POST /customers/{customerId}/orders', {
        pathParameters: { customerId: CUSTOMER },
        headers: { ...GATEWAY_HEADERS, 'idempotency-key': randomUUID() },
        body,
      }),
    status: 201,
    upstream: orderRequests(CUSTOMER, body as CreateOrderRequest),
  };
}

/** A Lambda context as the runtime gives it: a deadline 29 s away. */
const context = (): Context =>
  ({
    functionName: 'bench',
    awsRequestId: 'bench-request',
    getRemainingTimeInMillis: () => 29_000,
  }) as Context;

/** The headers our client sends, with a fixed token and ids: what the bare baselines send too. */
export const bareHeaders = (token: string) => ({
  Authorization: `Bearer ${token}`,
  Accept: 'application/json',
  'Content-Type': 'application/json',
  'MS-RequestId': randomUUID(),
  'MS-CorrelationId': randomUUID(),
  'MS-Contract-Version': 'v1',
  'MS-PartnerCenter-Application': 'partner-orders',
});

/**
 * The baseline: the same upstream calls, as bare as they can be written — `fetch` with the headers our client sends
 * (a fixed token and ids) and the body it sends, then `res.json()`.
 */
function bareCall(baseUrl: string, token: string, steps: PartnerCenterRequest[]): () => Promise<unknown> {
  const headers = bareHeaders(token);
  return async () => {
    let last: { id?: string } | undefined;
    for (const step of steps) {
      const path = last?.id ? step.path.replace('%7BcartId%7D', last.id) : step.path;
      const res = await fetch(`${baseUrl}${path}`, {
        method: step.method,
        headers,
        ...(step.body === undefined ? {} : { body: JSON.stringify(step.body) }),
      });
      last = (await res.json()) as { id?: string };
    }
    return last;
  };
}

export interface WarmRow {
  name: string;
  invocations: number;
  baseline: { p50Us: number; p99Us: number };
  handler: { p50Us: number; p99Us: number };
  p50Ratio: number;
  p99Ratio: number;
  /** handler p50 − baseline p50: what our code adds to one call. */
  overheadP50Us: number;
  met: boolean;
}

export interface WarmBench {
  upstream: RunningUpstream;
  run(scenario: Scenario, invocations: number, warmup?: number): Promise<WarmRow>;
  /** Several scenarios measured in the same rounds, so that their figures can be compared with each other. */
  runInterleaved(scenarios: Scenario[], invocations: number, warmup?: number): Promise<WarmRow[]>;
  stop(): Promise<void>;
}

/** The handlers, wired exactly as in Lambda (createDependencies from configuration), against an instant upstream. */
export async function startWarmBench(
  options: { inProcessUpstream?: boolean; idempotency?: IdempotencyStore } = {},
): Promise<WarmBench> {
  const upstream = options.inProcessUpstream ? await startUpstreamInProcess() : await startUpstream();
  // The purchase policy as deployed: Verified Permissions (the stand-in, in a process of its own) through the SDK.
  const avp = await startVerifiedPermissions();
  const deps = createDependencies(
    readConfig({
      ...avp.env,
      PARTNER_CENTER_URL: upstream.url,
      PARTNER_CENTER_AUTHORITY_URL: upstream.url,
      PARTNER_CENTER_CREDENTIALS: JSON.stringify(BENCH_CREDENTIALS),
      // The plain rows measure the purchase path without a key (no store); the keyed row adds its store below.
      IDEMPOTENCY_KEY_REQUIRED: 'false',
    }),
  );
  const handlers: Record<Scenario['handler'], Handler> = {
    order: createOrderHandler(deps),
    cart: createCartHandler(deps),
    // The keyed path: the same function with an idempotency store (informational; the goal is for the plain path).
    'keyed order': createOrderHandler({
      ...deps,
      ...(options.idempotency ? { idempotency: options.idempotency } : {}),
    }),
  };
  const token = (await deps.tokens.get()).value;

  /** One paired sample of a route: its baseline and its handler, in the order `i` says. */
  const sampler = (scenario: Scenario) => {
    const handler = handlers[scenario.handler];
    const bare = bareCall(upstream.url, token, scenario.upstream);
    const ours = async () => {
      const event = scenario.event();
      const ctx = context();
      const started = performance.now();
      const result = await handler(event, ctx);
      const elapsed = performance.now() - started;
      if (result.statusCode !== scenario.status) {
        throw new Error(`${scenario.name}: answered ${result.statusCode}, expected ${scenario.status}: ${result.body}`);
      }
      return elapsed;
    };
    const baseline = async () => {
      const started = performance.now();
      await bare();
      return performance.now() - started;
    };
    const times = { baseline: [] as number[], handler: [] as number[] };
    return {
      times,
      sample: async (i: number, keep: boolean) => {
        const first = i % 2 === 0;
        const b1 = first ? await baseline() : undefined;
        const h = await ours();
        const b2 = first ? undefined : await baseline();
        if (keep) {
          times.baseline.push((b1 ?? b2 ?? 0) * 1000);
          times.handler.push(h * 1000);
        }
      },
    };
  };

  const row = (scenario: Scenario, invocations: number, times: { baseline: number[]; handler: number[] }) => {
    const b = { p50Us: median(times.baseline), p99Us: percentile(times.baseline, 99) };
    const h = { p50Us: median(times.handler), p99Us: percentile(times.handler, 99) };
    const p50Ratio = h.p50Us / b.p50Us;
    const p99Ratio = h.p99Us / b.p99Us;
    return {
      name: scenario.name,
      invocations,
      baseline: { p50Us: round(b.p50Us, 1), p99Us: round(b.p99Us, 1) },
      handler: { p50Us: round(h.p50Us, 1), p99Us: round(h.p99Us, 1) },
      p50Ratio: round(p50Ratio),
      p99Ratio: round(p99Ratio),
      overheadP50Us: round(h.p50Us - b.p50Us, 1),
      met: p50Ratio <= GOAL.p50 && p99Ratio <= GOAL.p99,
    };
  };

  const runInterleaved = async (list: Scenario[], invocations: number, warmup = 300): Promise<WarmRow[]> => {
    const samplers = list.map(sampler);
    for (let i = 0; i < warmup + invocations; i++) {
      // Every scenario in every round, starting with a different one each round: drift hits them all alike.
      for (let j = 0; j < samplers.length; j++) await samplers[(i + j) % samplers.length]?.sample(i, i >= warmup);
    }
    return list.map((scenario, k) => row(scenario, invocations, samplers[k]?.times ?? { baseline: [], handler: [] }));
  };

  const run = async (scenario: Scenario, invocations: number, warmup = 300): Promise<WarmRow> =>
    (await runInterleaved([scenario], invocations, warmup))[0] as WarmRow;

  return {
    upstream,
    run,
    runInterleaved,
    stop: async () => {
      await upstream.stop();
      await avp.stop();
    },
  };
}

export interface ScalingResult {
  rows: (WarmRow & { lines: number })[];
  /** µs of overhead per extra line item, least squares over all sizes, and per segment. */
  slopeUsPerLine: number;
  segments: { from: number; to: number; usPerLine: number }[];
  /** The marginal cost of a line does not grow with the number of lines (within noise). */
  linearOrBetter: boolean;
}

export async function measureScaling(bench: WarmBench, invocations: number, sizes = [1, 10, 50, 100]) {
  const measured = await bench.runInterleaved(sizes.map(scaledOrder), invocations);
  const rows: ScalingResult['rows'] = measured.map((r, i) => ({ lines: sizes[i] ?? 0, ...r }));
  const segments = rows.slice(1).map((row, i) => {
    const prev = rows[i] as (typeof rows)[number];
    return {
      from: prev.lines,
      to: row.lines,
      usPerLine: round((row.overheadP50Us - prev.overheadP50Us) / (row.lines - prev.lines), 2),
    };
  });
  // Superlinear growth shows as the last segment costing more per line than the one before it. Both span ≥ 40 lines,
  // so a few µs of p50 noise move them by a small fraction of a µs per line (1→10 spans 9: its per-line figure is
  // mostly noise, and is printed but not judged). Allowance: 25 % or 0.5 µs per line, whichever is larger.
  const [before, last] = segments.slice(-2).map((s) => s.usPerLine);
  return {
    rows,
    slopeUsPerLine: round(slope(rows.map((r) => [r.lines, r.overheadP50Us] as const)), 2),
    segments,
    linearOrBetter: before === undefined || last === undefined || last <= Math.max(before * 1.25, before + 0.5),
  } satisfies ScalingResult;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const invocations = Number(process.env.INVOCATIONS ?? 2000);
  const bench = await startWarmBench({ inProcessUpstream: process.env.UPSTREAM === 'in-process' });
  try {
    for (const scenario of scenarios()) {
      const row = await bench.run(scenario, invocations);
      console.log(JSON.stringify(row));
    }
    if (!process.env.SKIP_SCALING) console.log(JSON.stringify(await measureScaling(bench, invocations)));
  } finally {
    await bench.stop();
  }
}
