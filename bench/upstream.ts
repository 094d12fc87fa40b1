// The "instant" upstream of the benchmarks: a loopback node:http server that answers the Entra ID token endpoint and
// the four Partner Center routes the functions call, at once, with fixed bodies (Partner Center's own documented
// samples, test/fixtures/partner-center). It does no work per request beyond routing, so whatever a handler adds on
// top of a bare `fetch` to it is our overhead.
//
// It runs in its own process by default (`startUpstream()`; Partner Center is another machine, and its CPU must not
// be billed to the function under test), or in-process (`createUpstream()`, for the property test).
//
// - Token: `POST /{tenant}/oauth2/token`. A tenant named `bench-exp-<seconds>` gets tokens of that lifetime (default
//   3600 s), so a benchmark can make a token fall inside the renewal margin without waiting an hour.
// - Orders: a customer id ending in `-0000000000NN` (NN = 1…100) gets an Order with NN line items (the scaling
//   figures); any other customer gets the documented sample.
// - Catalog: a SKU and its availabilities (the pre-flight's reads) for the SKUs the bench lines name (bodies.ts).
// - Subscription: `GET …/subscriptions/{id}` answers one active, renewing subscription (bodies.ts benchSubscription).
// - `GET /__stats`: how many token and Partner Center requests arrived (per tenant for tokens); `POST /__reset`.
import { fork } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { benchSubscription, catalogAvailabilities, catalogSku, orderWithLines, parentOrder, SAMPLE } from './bodies.js';

export interface UpstreamStats {
  /** Token requests per tenant. */
  tokens: Record<string, number>;
  /** Partner Center requests, `METHOD kind`. */
  partnerCenter: Record<string, number>;
  /** Requests without a bearer token (answered 401; a benchmark that sees one is broken). */
  unauthorised: number;
}

const TOKEN = /^\/([^/]+)\/oauth2\/token$/;
const ORDERS = /^\/v1\/customers\/([^/]+)\/orders$/;
const ORDER = /^\/v1\/customers\/[^/]+\/orders\/[^/]+$/;
const CARTS = /^\/v1\/customers\/[^/]+\/carts$/;
const CHECKOUT = /^\/v1\/customers\/([^/]+)\/carts\/[^/]+\/checkout$/;
const CART = /^\/v1\/customers\/[^/]+\/carts\/[^/]+$/;
const SCALED = /^00000000-0000-0000-0000-0*(\d{1,3})$/;
const SUBSCRIPTION = /^\/v1\/customers\/[^/]+\/subscriptions\/[^/]+$/;
const SKU = /^\/v1\/customers\/[^/]+\/products\/([^/]+)\/skus\/([^/]+)(\/availabilities)?$/;

export function createUpstream(): { server: Server; stats: () => UpstreamStats; reset: () => void } {
  let stats: UpstreamStats = { tokens: {}, partnerCenter: {}, unauthorised: 0 };
  const bodies = {
    order: JSON.stringify(SAMPLE.order),
    addOn: JSON.stringify(SAMPLE.addOn),
    cart: JSON.stringify(SAMPLE.cart),
    checkout: JSON.stringify(SAMPLE.checkout),
    parentOrder: JSON.stringify(parentOrder()),
    subscription: JSON.stringify(benchSubscription()),
  };
  const scaled = new Map<string, string>();
  let tokenCounter = 0;

  const send = (response: ServerResponse, status: number, body: string) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    response.end(body);
  };
  const count = (kind: string) => {
    stats.partnerCenter[kind] = (stats.partnerCenter[kind] ?? 0) + 1;
  };

  const answer = (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? 'GET';
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const token = TOKEN.exec(path);
    if (method === 'POST' && token) {
      const tenant = token[1] ?? '';
      stats.tokens[tenant] = (stats.tokens[tenant] ?? 0) + 1;
      const lifetime = /^bench-exp-(\d+)$/.exec(tenant)?.[1] ?? '3600';
      tokenCounter++;
      return send(
        response,
        200,
        JSON.stringify({
          token_type: 'Bearer',
          expires_in: lifetime,
          resource: 'https://api.partnercenter.microsoft.com',
          access_token: `bench-access-token-${tokenCounter}`,
        }),
      );
    }
    if (method === 'GET' && path === '/__stats') return send(response, 200, JSON.stringify(stats));
    if (method === 'POST' && path === '/__reset') {
      stats = { tokens: {}, partnerCenter: {}, unauthorised: 0 };
      return send(response, 200, '{}');
    }
    if (!request.headers.authorization?.startsWith('Bearer ')) {
      stats.unauthorised++;
      return send(response, 401, JSON.stringify({ code: 800001, description: 'Partner Token missing' }));
    }
    const orders = ORDERS.exec(path);
    if (method === 'POST' && orders) {
      count('POST orders');
      const lines = SCALED.exec(orders[1] ?? '')?.[1];
      if (lines === undefined || Number(lines) < 1 || Number(lines) > 100) return send(response, 201, bodies.order);
      let body = scaled.get(lines);
      if (body === undefined) {
        body = JSON.stringify(orderWithLines(Number(lines)));
        scaled.set(lines, body);
      }
      return send(response, 201, body);
    }
    if (method === 'GET' && ORDER.test(path)) {
      // An add-on reads its order first: its parent subscriptions must be the order's.
      count('GET order');
      return send(response, 200, bodies.parentOrder);
    }
    if (method === 'PATCH' && ORDER.test(path)) {
      count('PATCH order');
      return send(response, 200, bodies.addOn);
    }
    if (method === 'POST' && CARTS.test(path)) {
      count('POST carts');
      return send(response, 201, bodies.cart);
    }
    const checkout = CHECKOUT.exec(path);
    if (method === 'POST' && checkout) {
      count('POST checkout');
      // An order of `lines` lines is placed through a cart: its checkout answers that order.
      const lines = SCALED.exec(checkout[1] ?? '')?.[1];
      if (lines === undefined || Number(lines) < 1 || Number(lines) > 100) return send(response, 201, bodies.checkout);
      let body = scaled.get(`checkout-${lines}`);
      if (body === undefined) {
        body = JSON.stringify({ orders: [orderWithLines(Number(lines))], orderErrors: [] });
        scaled.set(`checkout-${lines}`, body);
      }
      return send(response, 201, body);
    }
    if (method === 'GET' && CART.test(path)) {
      // The purchase policy reads a cart back to judge its checkout's lines.
      count('GET cart');
      return send(response, 200, bodies.cart);
    }
    if (method === 'GET' && SUBSCRIPTION.test(path)) {
      // A subscription change reads the subscription first (bench:cold's subscriptions dry run).
      count('GET subscription');
      return send(response, 200, bodies.subscription);
    }
    const sku = SKU.exec(path);
    if (method === 'GET' && sku) {
      // The catalog pre-flight's reads (built per request: they are cached by the functions, not by this upstream).
      const [, productId = '', skuId = '', availabilities] = sku;
      count(availabilities ? 'GET availabilities' : 'GET sku');
      const body = availabilities ? catalogAvailabilities(productId, skuId) : catalogSku(productId, skuId);
      return body
        ? send(response, 200, JSON.stringify(body))
        : send(response, 404, JSON.stringify({ code: 1000, description: 'Not found' }));
    }
    send(response, 404, JSON.stringify({ code: 1000, description: `no route ${method} ${path}` }));
  };

  const server = createServer((request, response) => {
    // Read the request to its end (as a real server does) and answer at once.
    request.on('data', () => undefined);
    request.on('end', () => answer(request, response));
  });
  server.keepAliveTimeout = 60_000;
  return { server, stats: () => stats, reset: () => (stats = { tokens: {}, partnerCenter: {}, unauthorised: 0 }) };
}

export interface RunningUpstream {
  url: string;
  stats(): Promise<UpstreamStats>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const client = (url: string) => ({
  stats: async () => (await (await fetch(`${url}/__stats`)).json()) as UpstreamStats,
  reset: async () => {
    await (await fetch(`${url}/__reset`, { method: 'POST' })).arrayBuffer();
  },
});

/** The upstream in this process. */
export async function startUpstreamInProcess(): Promise<RunningUpstream> {
  const { server } = createUpstream();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    ...client(url),
    stop: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const CHILD_MARK = 'PARTNER_ORDERS_BENCH_UPSTREAM';

/** The upstream in a child process of its own (the default for the benchmarks). */
export async function startUpstream(): Promise<RunningUpstream> {
  // Never from the child itself (were this file bundled with a benchmark, the child would run that benchmark too).
  if (process.env[CHILD_MARK]) throw new Error('the bench upstream does not start upstreams');
  const child = fork(new URL(import.meta.url).pathname, ['--serve'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [CHILD_MARK]: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the upstream did not start within 20 s')), 20_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(String(message));
    });
    child.once('exit', (code) => reject(new Error(`the upstream exited (${code})`)));
  });
  return {
    url,
    ...client(url),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}

if (process.argv.includes('--serve') && process.env[CHILD_MARK] && process.send) {
  const { server } = createUpstream();
  server.listen(0, '127.0.0.1', () => process.send?.(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  // Ends with its parent, whatever happens to the parent.
  process.on('disconnect', () => process.exit(0));
}
