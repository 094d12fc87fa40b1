// `npm run bench:breakdown`: what one warm purchase waits for. The real handlers wired from configuration as in
// Lambda (createDependencies: idempotency store, Verified Permissions, catalog pre-flight on), each service a loopback
// stand-in in a process of its own (DynamoDB: dynalite; Verified Permissions; Entra ID and Partner Center: the instant
// upstream), so that this process's CPU time is the function's own. Per purchase kind, over INVOCATIONS warm purchases
// (each with a fresh Idempotency-Key):
//   - every remote call, counted by kind: AWS calls by service and operation (the X-Amz-Target header of each request
//     the SDK's node:http handler sends), Partner Center and Entra ID calls by method and path pattern (each `fetch`,
//     ids replaced by {id}); catalog reads are Partner Center GETs under /products/;
//   - the process's CPU time p50 per purchase (process.cpuUsage around the handler: everything this process does for
//     it, including the SDK and HTTP client work, not the time spent waiting for answers), its user-mode part (the
//     kernel's part includes the loopback TCP work of both ends, which a real network would not bill us), and the
//     wall time p50;
//   - OUR CPU p50 per purchase, against issue 22's goal (OUR_CPU_GOAL_US): the share of the process's CPU that is our
//     code's in a profiled pass after the measured one (`attributeNodes`: our functions' self time, plus the JSON,
//     zlib, crypto, Buffer and timer work they call), times the unprofiled process CPU p50 of the same purchase.
// Counting is by Node's diagnostics channels (`http.client.request.start`, `undici:request:create`): nothing in the
// functions is instrumented, so it counts whatever the purchase path is. INVOCATIONS (default 300), WARMUP (30),
// PROFILED (purchases of each kind in the profiled pass; default half of INVOCATIONS, at least 60); `-- --profile`
// prints where the profiled pass's CPU goes: by package, by whose code it is, ours by function.
import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ClientRequest } from 'node:http';
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
import { attributeNodes, categoryOf, NOT_WORK } from './attribution.js';
import { dynaliteProcess } from './batch.js';
import { orderBody } from './bodies.js';
import { type CpuProfile, frameOwner } from './cold.js';
import { median, percentile, round } from './stats.js';
import { startUpstream } from './upstream.js';
import { startVerifiedPermissions } from './verified-permissions.js';
import { BENCH_CREDENTIALS, CUSTOMER } from './warm.js';

const INVOCATIONS = Number(process.env.INVOCATIONS ?? 300);
const WARMUP = Number(process.env.WARMUP ?? 30);
const CART_ID = '3655b1a0-b1c9-4268-9824-577fdbc4d0be';
const TABLE = 'idempotency';
/** The profiled pass's sampling interval (µs). */
const SAMPLING_INTERVAL_US = 100;
/** Issue 22: our own CPU work per keyed purchase, p50. */
export const OUR_CPU_GOAL_US = 150;

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

/** One remote call: what it was, why (`purpose`: which of our records or steps), and when it was waited for. */
export interface RemoteCall {
  method: string;
  path: string;
  target?: string;
  /** The request body's chunks as written, for calls to AWS (read by `purposeOf`). */
  chunks?: string[];
  start: number;
  end?: number;
}

/**
 * Which code makes a call, and why, read from the call itself (nothing in the functions is instrumented): DynamoDB
 * items by their id prefix and update expression (exactly-once/records.ts, duplicates/recent.ts, Powertools' records
 * under `partner-orders#<md5, base64>`), Partner Center by method and path.
 */
export function purposeOf(call: Pick<RemoteCall, 'method' | 'path' | 'target' | 'chunks'>): string {
  const operation = call.target?.split('.')[1];
  if (call.target?.startsWith('DynamoDB')) {
    const body = (call.chunks ?? []).join('');
    const id = /"id":\{"S":"([^"]*)"/.exec(body)?.[1] ?? '';
    if (id.startsWith('partner-orders#journal#')) {
      if (operation === 'GetItem') return 'journal read (exactly-once: was this key sent before?)';
      const update = /"UpdateExpression":"([^"]*)"/.exec(body)?.[1] ?? '';
      if (update.includes('#cart') && update.includes(':maybe')) return 'journal: cart + "may be placed" (one write)';
      if (update.includes('#cart')) return 'journal: cart on record';
      if (update.includes(':maybe')) return 'journal: "may be placed" before a checkout';
      if (update.includes(':no')) return 'journal: refused';
      if (update.includes('REMOVE')) return 'journal: settled (out of the unresolved index)';
      return `journal ${operation}`;
    }
    if (id.startsWith('partner-orders#key#')) return 'key pointer (GET /purchases/{key} finds the journal)';
    if (id.startsWith('partner-orders#recent#')) {
      return operation === 'GetItem' ? 'duplicate guard: read' : 'duplicate guard: this purchase on record';
    }
    // Powertools' records: `<keyPrefix>#<md5 of the scope, base64>`.
    if (/^partner-orders#[A-Za-z0-9+/]{22}==$/.test(id)) {
      return operation === 'PutItem'
        ? 'Powertools idempotency: lock (in-progress record)'
        : operation === 'UpdateItem'
          ? 'Powertools idempotency: outcome stored'
          : `Powertools idempotency ${operation}`;
    }
    return `DynamoDB ${operation} (other)`;
  }
  if (call.target?.startsWith('VerifiedPermissions')) return `policy decision (${operation})`;
  const pattern = pathPattern(call.path);
  if (call.method === 'GET' && /\/carts\/\{id\}$/.test(pattern)) return 'policy: cart read to judge its lines';
  if (call.method === 'POST' && pattern.endsWith('/carts')) return 'Partner Center: create cart';
  if (call.method === 'POST' && pattern.endsWith('/checkout')) return 'Partner Center: checkout';
  if (pattern.includes('/products/')) return 'catalog read (pre-flight)';
  return `${call.method} ${pattern}`;
}

/**
 * Remote calls waited for one after another: the calls' [start, end] intervals merged where they overlap. Calls made
 * side by side (the policy decision beside the idempotency lock) count once.
 */
export function sequentialWaits(calls: RemoteCall[]): number {
  const spans = calls.map((c) => [c.start, c.end ?? c.start] as const).sort((a, b) => a[0] - b[0]);
  let waits = 0;
  let until = Number.NEGATIVE_INFINITY;
  for (const [start, end] of spans) {
    if (start >= until) waits += 1;
    until = Math.max(until, end);
  }
  return waits;
}

/** Records every outgoing HTTP request of this process, with its body (AWS calls) and when its answer came. */
function callRecorder() {
  let calls: RemoteCall[] = [];
  const open = new WeakMap<object, RemoteCall>();
  const bodies = new WeakMap<object, string[]>();
  // The SDK writes a request's body with `end`: kept per request, read when the call is classified.
  const prototype = ClientRequest.prototype as unknown as {
    write: (...a: unknown[]) => boolean;
    end: (...a: unknown[]) => unknown;
  };
  const { write, end } = prototype;
  // Written before or after `http.client.request.start`, depending on when the socket is assigned.
  const chunksOf = (request: object) => {
    let chunks = bodies.get(request);
    if (!chunks) {
      chunks = [];
      bodies.set(request, chunks);
    }
    return chunks;
  };
  const keep = (request: object, chunk: unknown) => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array)
      chunksOf(request).push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  };
  const patchedWrite = function (this: object, ...args: unknown[]) {
    keep(this, args[0]);
    return write.apply(this, args);
  };
  prototype.write = patchedWrite;
  prototype.end = function (this: object, ...args: unknown[]) {
    if (typeof args[0] !== 'function') keep(this, args[0]);
    return end.apply(this, args);
  };
  const onHttp = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    const target = request.getHeader('x-amz-target');
    const chunks = chunksOf(request);
    const call: RemoteCall = {
      method: request.method,
      path: request.path,
      ...(target ? { target: String(target) } : {}),
      chunks,
      start: performance.now(),
    };
    open.set(request, call);
    calls.push(call);
  };
  const onHttpDone = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    const call = open.get(request);
    if (call) call.end = performance.now();
  };
  const onFetch = (message: unknown) => {
    const { request } = message as { request: { method: string; path: string } };
    const call: RemoteCall = { method: request.method, path: request.path, start: performance.now() };
    open.set(request, call);
    calls.push(call);
  };
  const onFetchDone = (message: unknown) => {
    const call = open.get((message as { request: object }).request);
    if (call) call.end = performance.now();
  };
  subscribe('http.client.request.start', onHttp);
  subscribe('http.client.response.finish', onHttpDone);
  subscribe('undici:request:create', onFetch);
  subscribe('undici:request:trailers', onFetchDone);
  return {
    take() {
      const taken = calls;
      calls = [];
      return taken;
    },
    stop() {
      if (prototype.write !== patchedWrite) return;
      prototype.write = write;
      prototype.end = end;
      unsubscribe('http.client.request.start', onHttp);
      unsubscribe('http.client.response.finish', onHttpDone);
      unsubscribe('undici:request:create', onFetch);
      unsubscribe('undici:request:trailers', onFetchDone);
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
  /** Remote calls per purchase (mean) by what they are for (`purposeOf`), in the order first seen. */
  purposes: Record<string, number>;
  /** Remote calls waited for one after another (`sequentialWaits`), p50: the round trips on the purchase's path. */
  waitsP50: number;
  groups: Record<string, number>;
  cpuP50Us: number;
  cpuP99Us: number;
  /** The user-mode part (our code, Node, V8): the kernel's part includes loopback TCP for both ends of a call. */
  userP50Us: number;
  wallP50Us: number;
  /**
   * Our CPU p50: `oursShare` × `cpuP50Us`. The profiled pass gives the share of the process's work that is ours
   * (`attributeNodes`); the unprofiled pass gives the process's CPU without the profiler's overhead.
   */
  oursP50Us?: number;
  /**
   * Our part of the profiled pass's counted samples (idle, the profiler's and the bench's own frames left out), 0–1:
   * a trimmed ratio over the kind's purchases (the tenth with the highest and the tenth with the lowest share out).
   */
  oursShare?: number;
  /** Our sampled time per purchase in the profiled pass (µs; profiling slows it). */
  oursSampledUs?: number;
}

/** What the profiled pass found, all kinds of purchase together, per purchase (ms). */
export interface ProfileSummary {
  bySelfTime?: Map<string, number>;
  /** Sampled time by whose code it is (`categoryOf` of the attributed owner). */
  byCategory?: Map<string, number>;
  /** Our time by function of ours (`file:line name`), Node's work it called included. */
  ourFunctions?: Map<string, number>;
  /** Our time spent in Node's or V8's code, by what it was (node: zlib, node: crypto…). */
  oursVia?: Map<string, number>;
}

/**
 * INVOCATIONS measured purchases of each kind (after `warmup`), interleaved, unprofiled: the calls, the process's CPU
 * and wall time. Then `profiled` purchases of each kind under V8's CPU profiler (100 µs sampling, started and stopped
 * around each purchase): our share of the work per kind, and into `profile` where the time goes, per purchase.
 */
export async function measureBreakdown(
  invocations = INVOCATIONS,
  warmup = WARMUP,
  profile: ProfileSummary = {},
  profiled = Number(process.env.PROFILED ?? Math.max(60, Math.round(invocations / 2))),
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
        {
          cpu: [] as number[],
          user: [] as number[],
          wall: [] as number[],
          waits: [] as number[],
          calls: new Map<string, number>(),
          purposes: new Map<string, number>(),
        },
      ]),
    );
    const groupOf = new Map<string, string>();
    // Interleaved: each round buys once of each kind, so drift hits them alike.
    for (let i = 0; i < warmup + invocations; i++) {
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
        s.waits.push(sequentialWaits(calls));
        for (const call of calls) {
          const purpose = purposeOf(call);
          s.purposes.set(purpose, (s.purposes.get(purpose) ?? 0) + 1);
          const { kind, group } = kindOf(call);
          groupOf.set(kind, group);
          s.calls.set(kind, (s.calls.get(kind) ?? 0) + 1);
        }
      }
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
      purposes: { 'Partner Center: the purchase': 1 },
      waitsP50: 1,
      cpuP50Us: round(median(bareCpu), 1),
      cpuP99Us: round(percentile(bareCpu, 99), 1),
      userP50Us: round(median(bareUser), 1),
      wallP50Us: round(median(bareWall), 1),
    };
    // The profiled pass: our share of the process's work, per kind. The profiler runs around each purchase only (its
    // start and stop are outside the samples), the call recorder is off.
    recorder.stop();
    // Per kind, each profiled purchase's [ours, total] (ms).
    const shares = new Map(PURCHASES.map((p) => [p.name, [] as [number, number][]]));
    const bySelfTime = new Map<string, number>();
    const byCategory = new Map<string, number>();
    const ourFunctions = new Map<string, number>();
    const oursVia = new Map<string, number>();
    const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    for (let i = 0; i < profiled; i++) {
      for (const purchase of PURCHASES) {
        const event = purchase.event(randomUUID());
        await session.post('Profiler.start');
        const result = await handlers[purchase.handler](event, context());
        const { profile: taken } = await session.post('Profiler.stop');
        if (result.statusCode !== purchase.status) throw new Error(`${purchase.name}: answered ${result.statusCode}`);
        const kind = shares.get(purchase.name);
        if (!kind) continue;
        const share = { ours: 0, total: 0 };
        const cpu = taken as CpuProfile;
        const attributed = attributeNodes(cpu, ({ url, functionName }) => frameOwner(url, functionName));
        const frames = new Map(cpu.nodes.map((node) => [node.id, node.callFrame]));
        cpu.samples.forEach((id, sample) => {
          // A gap longer than two intervals is time the thread was not running (descheduled on a busy machine), which
          // is no code's CPU: counted as two intervals. The first sample's delta runs from the profiler's start: one
          // interval (left out, it would drop a sample of the handler's entry, which is ours, from every purchase).
          const cap = sample === 0 ? SAMPLING_INTERVAL_US : 2 * SAMPLING_INTERVAL_US;
          const ms = Math.min(cpu.timeDeltas[sample] ?? 0, cap) / 1000;
          const whose = attributed.get(id) ?? { owner: '?' };
          if (NOT_WORK.test(whose.owner)) return;
          share.total += ms;
          add(byCategory, categoryOf(whose.owner), ms);
          const frame = frames.get(id);
          add(bySelfTime, frame ? frameOwner(frame.url, frame.functionName) : '?', ms);
          if (categoryOf(whose.owner) !== 'ours') return;
          share.ours += ms;
          add(ourFunctions, whose.ourFunction ?? whose.owner, ms);
          add(oursVia, whose.via ?? '(our own code)', ms);
        });
        kind.push([share.ours, share.total]);
      }
    }
    session.disconnect();
    const perPurchase = (map: Map<string, number>) =>
      new Map([...map].map(([key, ms]) => [key, ms / (profiled * PURCHASES.length)]));
    Object.assign(profile, {
      bySelfTime: perPurchase(bySelfTime),
      byCategory: perPurchase(byCategory),
      ourFunctions: perPurchase(ourFunctions),
      oursVia: perPurchase(oursVia),
    });
    // Our share of a kind: its purchases' ours over their total, the tenth with the highest share and the tenth with
    // the lowest left out (one purchase where a compile or a descheduled sample fell in our code moves a plain sum).
    const ours = (name: string, cpuP50Us: number) => {
      const purchases = [...(shares.get(name) ?? [])]
        .filter(([, total]) => total > 0)
        .sort((a, b) => a[0] / a[1] - b[0] / b[1]);
      const cut = Math.floor(purchases.length / 10);
      const kept = purchases.slice(cut, purchases.length - cut);
      const sum = (i: 0 | 1) => kept.reduce((t, p) => t + p[i], 0);
      const oursShare = sum(1) > 0 ? sum(0) / sum(1) : 0;
      return {
        oursShare: round(oursShare, 4),
        oursSampledUs: round((sum(0) * 1000) / Math.max(1, kept.length), 1),
        oursP50Us: round(oursShare * cpuP50Us, 1),
      };
    };
    const rows = PURCHASES.map((purchase) => {
      const s = samples.get(purchase.name) ?? {
        cpu: [],
        user: [],
        wall: [],
        waits: [],
        calls: new Map<string, number>(),
        purposes: new Map<string, number>(),
      };
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
        purposes: Object.fromEntries([...s.purposes].map(([purpose, n]) => [purpose, round(n / invocations, 2)])),
        waitsP50: median(s.waits),
        ...ours(purchase.name, median(s.cpu)),
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
  const header = [
    'purchase',
    ...columns,
    'all remote',
    'in sequence',
    `OUR CPU p50 (goal ≤ ${(OUR_CPU_GOAL_US / 1000).toFixed(2)} ms)`,
    'our share',
    'process CPU p50',
    'user p50',
    'CPU p99',
    'wall p50',
  ];
  const body = rows.map((r) => [
    r.name,
    ...columns.map((g) => String(r.groups[g] ?? 0)),
    String(
      round(
        Object.values(r.groups).reduce((t, n) => t + n, 0),
        2,
      ),
    ),
    String(r.waitsP50),
    r.oursP50Us === undefined
      ? '–'
      : `${(r.oursP50Us / 1000).toFixed(3)} ms ${r.oursP50Us <= OUR_CPU_GOAL_US ? 'met' : 'MISSED'}`,
    r.oursShare === undefined ? '–' : `${(r.oursShare * 100).toFixed(1)} %`,
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
  out('("in sequence": remote calls waited for one after another, p50; calls made side by side count once.)');
  out(
    '(OUR CPU: our share of the sampled work in a profiled pass — our functions, and the JSON, zlib, crypto, Buffer and ' +
      'timer work they call — × the unprofiled process CPU p50; the rest is the AWS SDK, the HTTP client and sockets, ' +
      'Powertools, GC, the event loop: docs/performance.md, "Our CPU".)',
  );
  for (const r of rows.filter((row) => !row.name.includes('(reference)'))) {
    out(`\n${r.name}: remote calls per purchase, by kind`);
    for (const [kind, n] of Object.entries(r.calls)) out(`  ${String(n).padStart(5)}  ${kind}`);
    out('  each, by what it is for, in the order first made:');
    for (const [purpose, n] of Object.entries(r.purposes)) out(`  ${String(n).padStart(5)}  ${purpose}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stderr.write(`[bench:breakdown] ${WARMUP} + ${INVOCATIONS} purchases of each kind, interleaved\n`);
  const profile: ProfileSummary = {};
  const rows = await measureBreakdown(INVOCATIONS, WARMUP, profile);
  console.log(
    `Warm purchase breakdown: remote calls per purchase (mean of ${INVOCATIONS}, fresh Idempotency-Key each), our CPU ` +
      `and the process's CPU per purchase (process.cpuUsage: this process's work, not the waiting) and wall time; ` +
      `Node ${process.versions.node}; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (2 cores)\n`,
  );
  printBreakdown(rows);
  if (process.argv.includes('--profile') && profile.bySelfTime) {
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
    const line = (ms: number, what: string) =>
      console.log(`  ${`${ms.toFixed(3)} ms`.padStart(10)}  ${((ms / total) * 100).toFixed(1).padStart(5)} %  ${what}`);
    console.log("\nThe same time, by whose work it is (Node's and V8's work counted as its caller's: attributeNodes):");
    for (const [category, ms] of [...(profile.byCategory ?? [])].sort((a, b) => b[1] - a[1])) line(ms, category);
    console.log("\nOurs, by what it was spent in (our own code, or Node's and V8's code ours called):");
    for (const [via, ms] of [...(profile.oursVia ?? [])].sort((a, b) => b[1] - a[1])) line(ms, via);
    console.log('\nOurs, by function of ours (per purchase, profiled; the top 30):');
    const ours = [...(profile.ourFunctions ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 30);
    for (const [name, ms] of ours) console.log(`  ${`${ms.toFixed(3)} ms`.padStart(10)}  ${name}`);
  }
}
