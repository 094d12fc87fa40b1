// `npm run bench:breakdown`: what one warm purchase waits for. The real handlers wired from configuration as in
// Lambda (createDependencies: idempotency store, Verified Permissions, catalog pre-flight on), each service a loopback
// stand-in in a process of its own (DynamoDB: dynalite; Verified Permissions; Entra ID and Partner Center: the instant
// upstream), so that this process's CPU time is the function's own. Per purchase kind, over INVOCATIONS warm purchases
// (each with a fresh Idempotency-Key):
//   - every remote call, counted by kind: AWS calls by service and operation (the X-Amz-Target header of each request
//     the SDK's node:http handler sends), Partner Center and Entra ID calls by method and path pattern (each `fetch`,
//     ids replaced by {id}); catalog reads are Partner Center GETs under /products/;
//   - our CPU time p50 per purchase (process.cpuUsage around the handler: everything this process does for it,
//     including the SDK and HTTP client work, not the time spent waiting for answers), its user-mode part (the
//     kernel's part includes the loopback TCP work of both ends, which a real network would not bill us), and the
//     wall time p50.
// Counting is by Node's diagnostics channels (`http.client.request.start`, `undici:request:create`): nothing in the
// functions is instrumented, so it counts whatever the purchase path is. INVOCATIONS (default 300), WARMUP (30);
// `-- --profile` adds where this process's CPU goes, by package (V8's profiler over the measured purchases).
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Context } from 'aws-lambda';
import { createHandler as createCartHandler } from '../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../functions/create-order/handler.js';
import { readConfig } from '../functions/shared/config.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import type { HttpEvent, HttpResult } from '../functions/shared/http.js';
import { iamIdentity } from '../functions/shared/identity/http.js';
import { httpEvent } from '../test/support/events.js';
import { dynaliteProcess } from './batch.js';
import { orderBody } from './bodies.js';
import { type CpuProfile, frameOwner, selfTimeBy } from './cold.js';
import { median, percentile, round } from './stats.js';
import { startUpstream } from './upstream.js';
import { startVerifiedPermissions } from './verified-permissions.js';
import { BENCH_CREDENTIALS, CUSTOMER } from './warm.js';

const INVOCATIONS = Number(process.env.INVOCATIONS ?? 300);
const WARMUP = Number(process.env.WARMUP ?? 30);
const CART_ID = '3655b1a0-b1c9-4268-9824-577fdbc4d0be';
const TABLE = 'idempotency';

/** A path with its ids replaced: segments with a digit (but `v1`), or long ones, are ids (`/v1/customers/{id}/orders`). */
export function pathPattern(path: string): string {
  const [bare = ''] = path.split('?');
  return bare
    .split('/')
    .map((segment) =>
      /^v\d+$/.test(segment) ? segment : /\d/.test(segment) || segment.length >= 24 ? '{id}' : segment,
    )
    .join('/');
}

/** The kind of one remote call, and the group it is summed in. */
export function kindOf(call: { method: string; path: string; target?: string }): { kind: string; group: string } {
  if (call.target) {
    const [service = '', operation = ''] = call.target.split('.');
    const name = service.replace(/_\d+$/, '');
    const group = /dynamodb/i.test(name)
      ? 'DynamoDB'
      : /verifiedpermissions/i.test(name)
        ? 'Verified Permissions'
        : /secretsmanager/i.test(name)
          ? 'Secrets Manager'
          : name;
    return { kind: `${group} ${operation}`, group };
  }
  const pattern = pathPattern(call.path);
  if (/\/oauth2\/(v2\.0\/)?token$/.test(call.path.split('?')[0] ?? ''))
    return { kind: `Entra ID ${call.method} token`, group: 'Entra ID' };
  if (pattern.startsWith('/v1/')) {
    const group = call.method === 'GET' && pattern.includes('/products/') ? 'catalog reads' : 'Partner Center';
    return { kind: `${group === 'catalog reads' ? 'catalog' : 'Partner Center'} ${call.method} ${pattern}`, group };
  }
  return { kind: `other ${call.method} ${pattern}`, group: 'other' };
}

/** Records every outgoing HTTP request of this process while `recording` is on. */
function callRecorder() {
  let calls: { method: string; path: string; target?: string }[] = [];
  const onHttp = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    const target = request.getHeader('x-amz-target');
    calls.push({ method: request.method, path: request.path, ...(target ? { target: String(target) } : {}) });
  };
  const onFetch = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string } };
    calls.push({ method: request.method, path: request.path });
  };
  subscribe('http.client.request.start', onHttp);
  subscribe('undici:request:create', onFetch);
  return {
    take() {
      const taken = calls;
      calls = [];
      return taken;
    },
    stop() {
      unsubscribe('http.client.request.start', onHttp);
      unsubscribe('undici:request:create', onFetch);
    },
  };
}

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

interface Purchase {
  name: string;
  handler: 'order' | 'cart';
  event: (key: string) => HttpEvent;
  status: number;
}

const cartLines = [
  { catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, billingCycle: 'monthly', termDuration: 'P1Y' },
];

/**
 * Every round buys the same lines under a new key: the possible-duplicate guard (duplicates/, on by default) would
 * refuse the second one, so each says it means it. The guard still reads and writes its record as for any purchase.
 */
const SAME_LINES_AGAIN = { 'allow-duplicate': 'true' };

export const PURCHASES: Purchase[] = [
  {
    name: 'POST orders (keyed)',
    handler: 'order',
    event: (key) =>
      httpEvent('POST /customers/{customerId}/orders', {
        pathParameters: { customerId: CUSTOMER },
        headers: { 'idempotency-key': key, ...SAME_LINES_AGAIN },
        body: orderBody(1),
      }),
    status: 201,
  },
  {
    name: 'POST carts + checkout (keyed)',
    handler: 'cart',
    event: (key) =>
      httpEvent('POST /customers/{customerId}/carts', {
        pathParameters: { customerId: CUSTOMER },
        headers: { 'idempotency-key': key, ...SAME_LINES_AGAIN },
        body: { lineItems: cartLines, checkout: true },
      }),
    status: 201,
  },
  {
    name: 'POST checkout (standalone, keyed)',
    handler: 'cart',
    event: (key) =>
      httpEvent('POST /customers/{customerId}/carts/{cartId}/checkout', {
        pathParameters: { customerId: CUSTOMER, cartId: CART_ID },
        headers: { 'idempotency-key': key },
      }),
    status: 200,
  },
];

export interface BreakdownRow {
  name: string;
  invocations: number;
  /** Remote calls per purchase (mean), by kind and by group. */
  calls: Record<string, number>;
  groups: Record<string, number>;
  cpuP50Us: number;
  cpuP99Us: number;
  /** The user-mode part (our code, Node, V8): the kernel's part includes loopback TCP for both ends of a call. */
  userP50Us: number;
  wallP50Us: number;
}

/**
 * With `profile`, V8's CPU profiler runs over the measured purchases (100 µs sampling) and `profile.bySelfTime` gets
 * this process's self time per purchase by package or folder of ours (all kinds together). Profiling slows the
 * purchases: the CPU and wall figures of such a run are not comparable with others.
 */
export async function measureBreakdown(
  invocations = INVOCATIONS,
  warmup = WARMUP,
  profile?: { bySelfTime?: Map<string, number> },
): Promise<BreakdownRow[]> {
  const [upstream, avp, dynamodb] = await Promise.all([startUpstream(), startVerifiedPermissions(), dynaliteProcess()]);
  // The SDK clients of createDependencies read their endpoints from the environment, as in Lambda.
  Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint });
  const recorder = callRecorder();
  try {
    const deps = {
      ...createDependencies(
        readConfig({
          ...avp.env,
          PARTNER_CENTER_URL: upstream.url,
          PARTNER_CENTER_AUTHORITY_URL: upstream.url,
          PARTNER_CENTER_CREDENTIALS: JSON.stringify(BENCH_CREDENTIALS),
          IDEMPOTENCY_TABLE_NAME: TABLE,
        }),
      ),
      // As deployed by default: API Gateway's IAM authorizer names the caller.
      identity: iamIdentity,
    };
    const handlers: Record<Purchase['handler'], Handler> = {
      order: createOrderHandler(deps),
      cart: createCartHandler(deps),
    };
    const context = () =>
      ({ functionName: 'bench', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 29_000 }) as Context;
    const samples = new Map(
      PURCHASES.map((p) => [
        p.name,
        { cpu: [] as number[], user: [] as number[], wall: [] as number[], calls: new Map<string, number>() },
      ]),
    );
    const groupOf = new Map<string, string>();
    const session = profile ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 100 });
    }
    // Interleaved: each round buys once of each kind, so drift hits them alike.
    for (let i = 0; i < warmup + invocations; i++) {
      if (session && i === warmup) await session.post('Profiler.start');
      for (const purchase of PURCHASES) {
        const event = purchase.event(randomUUID());
        recorder.take();
        const cpu = process.cpuUsage();
        const started = performance.now();
        const result = await handlers[purchase.handler](event, context());
        const wall = performance.now() - started;
        const used = process.cpuUsage(cpu);
        const calls = recorder.take();
        if (result.statusCode !== purchase.status) {
          throw new Error(
            `${purchase.name}: answered ${result.statusCode}, expected ${purchase.status}: ${result.body}`,
          );
        }
        if (i < warmup) continue;
        const s = samples.get(purchase.name);
        if (!s) continue;
        s.cpu.push(used.user + used.system);
        s.user.push(used.user);
        s.wall.push(wall * 1000);
        for (const call of calls) {
          const { kind, group } = kindOf(call);
          groupOf.set(kind, group);
          s.calls.set(kind, (s.calls.get(kind) ?? 0) + 1);
        }
      }
    }
    if (session && profile) {
      const { profile: cpu } = await session.post('Profiler.stop');
      session.disconnect();
      const purchases = invocations * PURCHASES.length;
      profile.bySelfTime = new Map(
        [...selfTimeBy(cpu as CpuProfile, ({ url, functionName }) => frameOwner(url, functionName))].map(
          ([owner, ms]) => [owner, ms / purchases],
        ),
      );
    }
    // The reference: one bare `fetch` of a purchase to the same upstream (what any function calling Partner Center
    // pays), to read the figures above against on this machine.
    const bareCpu: number[] = [];
    const bareUser: number[] = [];
    const bareWall: number[] = [];
    const token = (await deps.tokens.get()).value;
    for (let i = 0; i < warmup + invocations; i++) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const res = await fetch(`${upstream.url}/v1/customers/${CUSTOMER}/orders`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'MS-RequestId': randomUUID() },
        body: JSON.stringify(orderBody(1)),
      });
      await res.json();
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      recorder.take();
      if (i < warmup) continue;
      bareCpu.push(used.user + used.system);
      bareUser.push(used.user);
      bareWall.push(wall * 1000);
    }
    const bare: BreakdownRow = {
      name: 'bare fetch of POST orders (reference)',
      invocations,
      calls: { 'Partner Center POST /v1/customers/{id}/orders': 1 },
      groups: { 'Partner Center': 1 },
      cpuP50Us: round(median(bareCpu), 1),
      cpuP99Us: round(percentile(bareCpu, 99), 1),
      userP50Us: round(median(bareUser), 1),
      wallP50Us: round(median(bareWall), 1),
    };
    const rows = PURCHASES.map((purchase) => {
      const s = samples.get(purchase.name) ?? { cpu: [], user: [], wall: [], calls: new Map<string, number>() };
      const calls = Object.fromEntries(
        [...s.calls].sort((a, b) => a[0].localeCompare(b[0])).map(([kind, n]) => [kind, round(n / invocations, 2)]),
      );
      const groups: Record<string, number> = {};
      for (const [kind, n] of s.calls) {
        const group = groupOf.get(kind) ?? 'other';
        groups[group] = round((groups[group] ?? 0) + n / invocations, 2);
      }
      return {
        name: purchase.name,
        invocations,
        calls,
        groups,
        cpuP50Us: round(median(s.cpu), 1),
        cpuP99Us: round(percentile(s.cpu, 99), 1),
        userP50Us: round(median(s.user), 1),
        wallP50Us: round(median(s.wall), 1),
      };
    });
    return [...rows, bare];
  } finally {
    recorder.stop();
    await Promise.all([upstream.stop(), avp.stop(), dynamodb.stop()]);
  }
}

export function printBreakdown(rows: BreakdownRow[], out: (line: string) => void = console.log): void {
  const GROUPS = ['DynamoDB', 'Verified Permissions', 'catalog reads', 'Partner Center', 'Entra ID', 'Secrets Manager'];
  const others = [...new Set(rows.flatMap((r) => Object.keys(r.groups)))].filter((g) => !GROUPS.includes(g));
  const columns = [...GROUPS, ...others];
  const header = ['purchase', ...columns, 'all remote', 'our CPU p50', 'user p50', 'CPU p99', 'wall p50'];
  const body = rows.map((r) => [
    r.name,
    ...columns.map((g) => String(r.groups[g] ?? 0)),
    String(
      round(
        Object.values(r.groups).reduce((t, n) => t + n, 0),
        2,
      ),
    ),
    `${(r.cpuP50Us / 1000).toFixed(2)} ms`,
    `${(r.userP50Us / 1000).toFixed(2)} ms`,
    `${(r.cpuP99Us / 1000).toFixed(2)} ms`,
    `${(r.wallP50Us / 1000).toFixed(2)} ms`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  out(fmt(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of body) out(fmt(row));
  for (const r of rows.filter((row) => !row.name.includes('(reference)'))) {
    out(`\n${r.name}: remote calls per purchase, by kind`);
    for (const [kind, n] of Object.entries(r.calls)) out(`  ${String(n).padStart(5)}  ${kind}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stderr.write(`[bench:breakdown] ${WARMUP} + ${INVOCATIONS} purchases of each kind, interleaved\n`);
  const profile: { bySelfTime?: Map<string, number> } | undefined = process.argv.includes('--profile') ? {} : undefined;
  const rows = await measureBreakdown(INVOCATIONS, WARMUP, profile);
  console.log(
    `Warm purchase breakdown: remote calls per purchase (mean of ${INVOCATIONS}, fresh Idempotency-Key each), our CPU ` +
      `per purchase (process.cpuUsage: this process's work, not the waiting) and wall time; Node ${process.versions.node}; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (2 cores)\n`,
  );
  printBreakdown(rows);
  if (profile?.bySelfTime) {
    const rows = [...profile.bySelfTime].filter(([owner]) => owner !== '(idle)').sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((t, [, ms]) => t + ms, 0);
    console.log(
      `\nWhere our CPU goes (--profile): self time per purchase, all kinds together, mean; profiling slows every row, and a sample is the thread's wall time (time descheduled in a syscall counts there: native: writev on a busy machine)`,
    );
    for (const [owner, ms] of rows.filter(([, ms]) => ms >= total / 100)) {
      console.log(
        `  ${`${ms.toFixed(3)} ms`.padStart(10)}  ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${owner}`,
      );
    }
    console.log(`  ${`${total.toFixed(3)} ms`.padStart(10)}  total (rows under 1 % not shown)`);
  }
}
