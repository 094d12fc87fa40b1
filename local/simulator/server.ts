import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_SIMULATOR_CREDENTIALS, type SimulatorCredentials, TOKEN_PATH, TokenService } from './auth.js';
import { FaultInjector, type FaultRule, shortCircuitReply, throttledReply } from './faults.js';
import { type HandlerResult, notFound, pcError, type Reply, withHeaders } from './http.js';
import { type LatencyModel, LatencySampler, latencyFromEnv, latencyKind } from './latency.js';
import type { Cart, Order, RecordedRequest } from './models.js';
import { customerGuard, matchRoute, methodNotAllowed, type RouteMatch } from './routes.js';
import { Store, type StoreSnapshot } from './store.js';

/** The file `statePath` names. */
interface SavedState {
  store: StoreSnapshot;
  replays: [string, { reply: Reply; at: number }][];
}

import { type BucketUsage, PartnerCenterThrottle, type ThrottleOptions, throttleFromEnv } from './throttle.js';
import { newGuid, randomString } from './validation.js';

export interface SimulatorOptions {
  /** Accepted credentials; default DEFAULT_SIMULATOR_CREDENTIALS. */
  credentials?: SimulatorCredentials;
  /** Added to every Partner Center response (default 0). */
  latencyMs?: number;
  /**
   * Answer times drawn per kind of request (purchase, cart, read, 429) from log-normal distributions (latency.ts), on
   * top of `latencyMs`. Default: `SIMULATOR_LATENCY` (`off`, `realistic`), else none.
   */
  latency?: LatencyModel | false;
  /**
   * Partner Center's throttle (throttle.ts): a token bucket per partner tenant (or per partner and customer) over the
   * order and cart resources, answering 429 with Retry-After and the documented body. Default: `SIMULATOR_THROTTLE`
   * (`off`, `on`, `<n a minute>`, `<n>/customer`), else none.
   */
  throttle?: ThrottleOptions | false;
  /**
   * Simulated time runs this many times faster than real time: the clock (when `now` is not given), latencies, delay
   * faults, the throttle's refill and Retry-After all keep their simulated values, so a run of minutes takes seconds
   * with the same ratios. Default: `SIMULATOR_TIME_SCALE`, else 1.
   */
  timeScale?: number;
  /** Default 3600. */
  tokenLifetimeSeconds?: number;
  /** Clock in ms (default Date.now); drives token and cart expiry and all timestamps. */
  now?: () => number;
  /** Seed of the PRNG used for probabilistic faults (default 1). */
  seed?: number;
  /**
   * MS-RequestId deduplication: `'on'` (remembered for the simulator's life), `'off'` (every request is processed,
   * retries included, as if Partner Center ignored the header), or a number of seconds after which a request id is
   * forgotten. Partner Center documents the header but neither its lifetime nor that every endpoint honours it, so
   * tests of money paths run with `'off'`. Default: `SIMULATOR_DEDUPE` from the environment, else `'on'`.
   */
  dedupe?: DedupeMode;
  /**
   * Refuse purchases of the catalog's products (catalog-data.ts) that its catalog does not offer as asked, as Partner
   * Center does (catalog.ts, `catalogRefusal`). The catalog endpoints are served either way. Default: off, so that
   * suites buying made-up terms are unaffected; `npm start` turns it on.
   */
  catalogChecks?: boolean;
  /** Items per page of the orders and subscriptions lists (default 100), each page linking the next. */
  listPageSize?: number;
  /**
   * A file to keep the committed state in (orders, carts, provisioning, MS-RequestId replays): read when the simulator
   * is built, written after every commit, so `npm start` keeps its purchases across a restart. In memory without it.
   */
  statePath?: string;
  /**
   * How long after a purchase its order's lines are provisioned (simulator clock): until then the order is `pending`
   * and its lines `Unfulfilled` (provisioning.ts). Default: `SIMULATOR_PROVISIONING_SECONDS` from the environment,
   * else 0 (completed at once).
   */
  provisioningDelayMs?: number;
  /**
   * How long a new order stays out of the customer's orders list (simulator clock), as Partner Center documents (up
   * to 15 minutes). Default: `SIMULATOR_LIST_LAG` seconds from the environment, else 0.
   */
  listLagMs?: number;
}

/** `SIMULATOR_PROVISIONING_SECONDS=<seconds>` (default 0). */
export const provisioningDelayFromEnv = (value: string | undefined): number =>
  secondsFromEnv(value, 'SIMULATOR_PROVISIONING_SECONDS');

/** `SIMULATOR_LIST_LAG=<seconds>` (default 0, Partner Center's documented worst case 900). */
export const listLagFromEnv = (value: string | undefined): number => secondsFromEnv(value, 'SIMULATOR_LIST_LAG');

function secondsFromEnv(value: string | undefined, name: string): number {
  if (value === undefined || value === '') return 0;
  const seconds = Number(value);
  if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new Error(`${name} must be a number >= 0`);
  return seconds * 1000;
}

export type DedupeMode = 'on' | 'off' | number;

/** `SIMULATOR_TIME_SCALE=<factor>` (default 1). */
export function timeScaleFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const scale = Number(value);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error('SIMULATOR_TIME_SCALE must be a number > 0');
  return scale;
}

/** A clock `scale` times faster than real time, from now on (real time itself at 1). */
function scaledClock(scale: number): () => number {
  if (scale === 1) return Date.now;
  const origin = Date.now();
  return () => origin + (Date.now() - origin) * scale;
}

/** `SIMULATOR_DEDUPE=on|off|<seconds>`. */
export function dedupeFromEnv(value: string | undefined): DedupeMode {
  if (value === undefined || value === '' || value === 'on') return 'on';
  if (value === 'off') return 'off';
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error('SIMULATOR_DEDUPE must be on, off or a number of seconds');
  return seconds;
}

const MUTATING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const MAX_BODY_BYTES = 1024 * 1024;

type Delivery = 'send' | 'drop' | 'truncate';
interface Outcome {
  delivery: Delivery;
  reply?: Reply;
}

/**
 * Which answers a repeated MS-RequestId gets back. Transient refusals (401
 * before a token refresh, 409 while busy, 429) are excluded: the retry those
 * invite must be processed, not told the same thing again.
 */
const isFinal = (status: number): boolean =>
  (status >= 200 && status < 300) || (status >= 400 && status < 500 && ![401, 408, 409, 429].includes(status));

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep draining past the limit so the 413 can still be written on this connection.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: size > MAX_BODY_BYTES };
}

function deliver(res: ServerResponse, outcome: Outcome): void {
  if (res.destroyed) return;
  const { reply, delivery } = outcome;
  if (delivery === 'drop' || reply === undefined) {
    res.destroy();
    return;
  }
  const body = Buffer.from(reply.body, 'utf8');
  if (delivery === 'truncate') {
    // Valid HTTP framing, broken JSON: what a client sees from a proxy that gave up mid-body.
    res.writeHead(reply.status, reply.headers);
    res.write(body.subarray(0, Math.floor(body.length / 2)));
    res.end();
    return;
  }
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(body.length) });
  res.end(body);
}

function partnerCenterHeaders(request: Readonly<Record<string, string>>): Record<string, string> {
  return {
    'MS-RequestId': request['ms-requestid'] || newGuid(),
    'MS-CorrelationId': request['ms-correlationid'] || newGuid(),
    'MS-CV': request['ms-cv'] || `${randomString(22)}.0`,
  };
}

function entraHeaders(request: Readonly<Record<string, string>>): Record<string, string> {
  const clientRequestId = request['client-request-id'];
  return { 'x-ms-request-id': newGuid(), ...(clientRequestId && { 'client-request-id': clientRequestId }) };
}

/**
 * Partner Center + Entra ID token endpoint over node:http, for local runs and
 * fault tests. See README.md in this folder for the behaviour it commits to.
 */
export class PartnerCenterSimulator {
  private server: Server | undefined;
  private baseUrl: string | undefined;
  private abort = new AbortController();
  private readonly tokens: TokenService;
  private readonly faults: FaultInjector;
  private readonly store = new Store();
  private readonly recorded: RecordedRequest[] = [];
  /** (MS-RequestId, method, path) -> first final answer, and when it was given (simulator clock). */
  private readonly replays = new Map<string, { reply: Reply; at: number }>();
  private readonly dedupe: DedupeMode;
  /** Same key while the first request is still being processed; retries wait for it. */
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly locks = new Set<string>();
  private tokenCount = 0;
  private readonly latencyMs: number;
  private readonly latency: LatencySampler | undefined;
  private readonly throttle: PartnerCenterThrottle | undefined;
  private readonly timeScale: number;
  private readonly now: () => number;
  private readonly partnerTenantId: string;
  private readonly statePath: string | undefined;

  constructor(options: SimulatorOptions = {}) {
    const credentials = options.credentials ?? DEFAULT_SIMULATOR_CREDENTIALS;
    this.tokens = new TokenService(credentials, options.tokenLifetimeSeconds ?? 3600);
    this.faults = new FaultInjector(options.seed ?? 1);
    this.latencyMs = options.latencyMs ?? 0;
    this.timeScale = options.timeScale ?? timeScaleFromEnv(process.env.SIMULATOR_TIME_SCALE);
    const latency = options.latency ?? latencyFromEnv(process.env.SIMULATOR_LATENCY);
    this.latency = latency ? new LatencySampler(latency, options.seed ?? 1) : undefined;
    const throttle = options.throttle ?? throttleFromEnv(process.env.SIMULATOR_THROTTLE);
    this.throttle = throttle ? new PartnerCenterThrottle(throttle, credentials.tenantId) : undefined;
    this.now = options.now ?? scaledClock(this.timeScale);
    this.partnerTenantId = credentials.tenantId;
    this.dedupe = options.dedupe ?? dedupeFromEnv(process.env.SIMULATOR_DEDUPE);
    this.store.catalogChecks = options.catalogChecks ?? false;
    this.store.listLagMs = options.listLagMs ?? listLagFromEnv(process.env.SIMULATOR_LIST_LAG);
    this.store.listPageSize = options.listPageSize ?? 100;
    this.statePath = options.statePath;
    if (this.statePath && existsSync(this.statePath)) {
      const saved = JSON.parse(readFileSync(this.statePath, 'utf8')) as SavedState;
      this.store.restore(saved.store);
      for (const [key, replay] of saved.replays) this.replays.set(key, replay);
    }
    this.store.provisioning.delayMs =
      options.provisioningDelayMs ?? provisioningDelayFromEnv(process.env.SIMULATOR_PROVISIONING_SECONDS);
  }

  /**
   * Test hook: sets an order's status to any value, documented (`cancelled`) or not (Partner Center adds values);
   * provisioning no longer changes it. False when there is no such order.
   */
  setOrderStatus(orderId: string, status: string): boolean {
    const order = this.store.ordersById(orderId)[0];
    if (!order) return false;
    this.store.provisioning.pin(order, status);
    return true;
  }

  get url(): string {
    if (this.baseUrl === undefined) throw new Error('PartnerCenterSimulator is not started');
    return this.baseUrl;
  }

  /** Live array: every request received, in arrival order. */
  get requests(): RecordedRequest[] {
    return this.recorded;
  }

  /** Live arrays of what was committed; the source of truth for duplicate/lost checks. */
  get ledger(): { orders: readonly Order[]; carts: Cart[] } {
    return { orders: this.store.orders, carts: this.store.carts };
  }

  get tokenRequests(): number {
    return this.tokenCount;
  }

  /** The throttle's buckets so far (empty without a throttle). */
  get throttleUsage(): BucketUsage[] {
    return this.throttle?.usage(this.now()) ?? [];
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => void this.onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port: actualPort } = server.address() as AddressInfo;
    this.abort = new AbortController();
    this.server = server;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.baseUrl = undefined;
    // Wakes every request that is sleeping (latency, delay faults) so none outlives the server.
    this.abort.abort();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Test hook: the cart is gone (404 800008 on read and checkout), whatever became of it. */
  forgetCart(cartId: string): boolean {
    return this.store.forgetCart(cartId);
  }

  injectFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  revokeAccessTokens(): void {
    this.tokens.revokeAccessTokens();
  }

  rotateCredentials(next: Partial<{ clientSecret: string; refreshToken: string }>): void {
    this.tokens.rotate(next);
  }

  /**
   * Clears ledger, recorded requests, replay records, faults and counters.
   * Issued tokens and credentials survive so a client can keep its cached token.
   */
  /** Writes the committed state to `statePath` (whole, then renamed: a crash leaves the previous file). */
  private save(): void {
    if (!this.statePath) return;
    const saved: SavedState = { store: this.store.snapshot(), replays: [...this.replays] };
    writeFileSync(`${this.statePath}.tmp`, JSON.stringify(saved));
    renameSync(`${this.statePath}.tmp`, this.statePath);
  }

  reset(): void {
    this.store.clear();
    this.recorded.length = 0;
    this.replays.clear();
    this.faults.reset();
    this.throttle?.reset();
    this.tokenCount = 0;
    this.save();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: req.url ?? '/',
      headers: flattenHeaders(req.headers),
      body: '',
      at: this.now(),
    };
    this.recorded.push(record);
    const signal = this.abort.signal;
    try {
      const body = await readBody(req);
      record.body = body.text;
      if (body.tooLarge) {
        deliver(res, { delivery: 'send', reply: pcError(413, 800002, 'Request body too large') });
        return;
      }
      deliver(res, await this.dispatch(record));
    } catch (error) {
      if (signal.aborted || res.destroyed || req.destroyed) {
        res.destroy();
        return;
      }
      // A simulator bug must surface as an error, not as a hang in the client under test.
      deliver(res, { delivery: 'send', reply: pcError(500, 800003, `Simulator failure: ${String(error)}`) });
    }
  }

  private pause(ms: number): Promise<void> | undefined {
    return ms > 0 ? sleep(ms / this.timeScale, undefined, { signal: this.abort.signal }) : undefined;
  }

  private async dispatch(rec: RecordedRequest): Promise<Outcome> {
    const url = new URL(rec.path, 'http://simulator.invalid');
    const tokenPath = TOKEN_PATH.exec(url.pathname);
    const partnerCenter = /^\/v1(\/|$)/i.test(url.pathname);
    if (tokenPath) this.tokenCount++;

    const fault = this.faults.pick(rec.method, rec.path, partnerCenter);
    if (fault) rec.fault = fault.kind;
    const delivery: Delivery =
      fault?.kind === 'truncate' ? 'truncate' : fault?.kind === 'commit-then-drop' ? 'drop' : 'send';
    const commit = delivery !== 'truncate';
    const answerTime = partnerCenter
      ? this.latencyMs + (this.latency?.sample(latencyKind(rec.method, url.pathname)) ?? 0)
      : 0;
    const wait = answerTime + (fault?.kind === 'delay' ? (fault.delayMs ?? 1000) : 0);
    const headers = partnerCenter ? partnerCenterHeaders(rec.headers) : tokenPath ? entraHeaders(rec.headers) : {};
    const finish = (reply: Reply): Outcome => ({ delivery, reply: withHeaders(reply, headers) });

    if (fault?.kind === 'drop') {
      await this.pause(wait);
      return { delivery: 'drop' };
    }
    const shortCircuit = fault && shortCircuitReply(fault, tokenPath !== null);
    if (shortCircuit) {
      await this.pause(wait);
      return finish(shortCircuit);
    }
    if (tokenPath) {
      await this.pause(wait);
      const result = this.tokens.token({
        method: rec.method,
        tenant: decodeURIComponent(tokenPath[1] ?? ''),
        v2: tokenPath[2] !== undefined,
        body: rec.body,
        headers: rec.headers,
        now: this.now(),
      });
      if (commit) result.commit?.();
      return finish(result.reply);
    }
    if (!partnerCenter) {
      await this.pause(wait);
      return finish(notFound());
    }
    return finish(await this.partnerCenter(rec, url, headers['MS-RequestId'] ?? newGuid(), wait, commit));
  }

  private async partnerCenter(
    rec: RecordedRequest,
    url: URL,
    requestId: string,
    wait: number,
    commit: boolean,
  ): Promise<Reply> {
    const denied = this.tokens.authorize(rec.headers.authorization, this.now());
    const match = denied ? undefined : matchRoute(url.pathname);
    const handler = match?.route.methods[rec.method];
    if (denied || !match || !handler) {
      await this.pause(wait);
      return denied ?? (match ? methodNotAllowed(rec.method, match.route) : notFound());
    }
    const retryAfter = this.throttle?.take(rec.method, url.pathname, this.now());
    if (retryAfter !== undefined) {
      // Refused before anything is looked at, quickly.
      rec.throttled = true;
      await this.pause(this.latency?.sample('throttled') ?? this.latencyMs);
      return throttledReply(retryAfter);
    }
    const run = (): HandlerResult => {
      const refused = customerGuard(match.params.customerId, this.partnerTenantId);
      if (refused) return { reply: refused };
      return handler({
        params: match.params,
        query: url.searchParams,
        body: rec.body,
        headers: rec.headers,
        store: this.store,
        now: this.now(),
      });
    };
    if (!MUTATING.has(rec.method)) {
      await this.pause(wait);
      return run().reply;
    }
    return this.mutate(`${requestId}\n${rec.method}\n${rec.path}`, match, run, wait, commit);
  }

  /**
   * MS-RequestId idempotency. A key that already has a final answer gets that
   * answer again and nothing is executed; a key still in flight makes the
   * retry wait for the first attempt (which may commit after its client gave
   * up) instead of racing it into a duplicate.
   */
  private async mutate(
    key: string,
    match: RouteMatch,
    run: () => HandlerResult,
    wait: number,
    commit: boolean,
  ): Promise<Reply> {
    for (;;) {
      if (this.dedupe === 'off') break;
      const previous = this.replays.get(key);
      if (previous && typeof this.dedupe === 'number' && this.now() - previous.at > this.dedupe * 1000) {
        this.replays.delete(key);
        continue;
      }
      if (previous) {
        await this.pause(wait);
        return withHeaders(previous.reply, { 'X-Simulator-Replayed': 'true' });
      }
      const pending = this.inflight.get(key);
      if (!pending) break;
      await pending;
    }

    let finished!: () => void;
    const running = new Promise<void>((resolve) => (finished = resolve));
    // Without deduplication a retry runs beside the first attempt, as two unrelated requests would.
    if (this.dedupe !== 'off') this.inflight.set(key, running);
    let lock: string | undefined;
    try {
      const exclusive = match.route.exclusive;
      if (exclusive) {
        const lockKey = exclusive.key(match.params);
        if (this.locks.has(lockKey)) {
          await this.pause(wait);
          return exclusive.busy(match.params);
        }
        lock = lockKey;
        this.locks.add(lockKey);
      }
      // Latency sits between accepting the request and committing it, which is
      // what makes concurrent checkouts and timed-out-but-committed calls observable.
      await this.pause(wait);
      const result = run();
      if (commit) {
        result.commit?.();
        if (isFinal(result.reply.status) && this.dedupe !== 'off') {
          this.replays.set(key, { reply: result.reply, at: this.now() });
        }
        if (result.commit) this.save();
      }
      return result.reply;
    } finally {
      if (lock !== undefined) this.locks.delete(lock);
      if (this.inflight.get(key) === running) this.inflight.delete(key);
      finished();
    }
  }
}
