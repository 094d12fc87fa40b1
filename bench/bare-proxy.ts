// The throughput baseline: what `npm start` would be with nothing of ours in it. One process, as `npm start` is, holding
// the Partner Center simulator (latency 0) and a bare node:http proxy making the Partner Center calls with a bearer
// token (redeemed once, at start) and the MS-* headers our client sends, and returning the last answer as it came. No
// routing table, no validation, no middleware, no logging.
//
// BARE_PROXY_UPSTREAM says which calls:
// - `orders` (default): the request's body forwarded to the same simulator route, one call (`POST orders` is one
//   `POST orders`). The baseline until purchases became a cart and its checkout.
// - `cart-checkout`: `POST …/orders` becomes what the service sends for it since the one-cart design
//   (docs/idempotency.md): `POST …/carts` with the order's lines, then `POST …/carts/{id}/checkout`; the checkout's
//   answer is returned. Other requests are forwarded as with `orders`.
//
// Run as a child process by bench/throughput.ts: `node --import tsx bench/bare-proxy.ts` with PORT set; prints
// "bare proxy listening on URL" when ready.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { redeemToken } from '../functions/shared/auth.js';
import { DEFAULT_SIMULATOR_CREDENTIALS, PartnerCenterSimulator } from '../local/simulator/index.js';

// The same upstream as `npm start`'s (local/main.ts): catalog checks on, orders pending for 20 s.
const simulator = new PartnerCenterSimulator({
  latencyMs: 0,
  catalogChecks: true,
  provisioningDelayMs: Number(process.env.SIMULATOR_PROVISIONING_SECONDS ?? 20) * 1000,
});
const upstream = await simulator.start();
const { accessToken } = await redeemToken({
  authorityUrl: upstream,
  credentials: DEFAULT_SIMULATOR_CREDENTIALS,
  refreshToken: DEFAULT_SIMULATOR_CREDENTIALS.refreshToken,
});

const mode = process.env.BARE_PROXY_UPSTREAM ?? 'orders';
if (mode !== 'orders' && mode !== 'cart-checkout')
  throw new Error('BARE_PROXY_UPSTREAM must be orders or cart-checkout');

const call = (method: string, path: string, body?: Buffer | string) =>
  fetch(`${upstream}/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${accessToken}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'MS-RequestId': randomUUID(),
      'MS-CorrelationId': randomUUID(),
      'MS-Contract-Version': 'v1',
    },
    ...(body !== undefined && body.length > 0 ? { body } : {}),
  });

interface OrderBody {
  billingCycle?: string;
  lineItems?: { offerId: string; quantity: number; termDuration?: string; lineItemNumber?: number }[];
}

/** An order's lines as a cart's (the order's billing cycle on each line), as the service sends them. */
const cartOf = (order: OrderBody) =>
  JSON.stringify({
    lineItems: (order.lineItems ?? []).map((line, index) => ({
      id: line.lineItemNumber ?? index,
      catalogItemId: line.offerId,
      quantity: line.quantity,
      billingCycle: order.billingCycle,
      ...(line.termDuration ? { termDuration: line.termDuration } : {}),
    })),
  });

const ORDERS = /^(\/customers\/[^/]+)\/orders$/;

const server = createServer(async (request, response) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const method = request.method ?? 'GET';
  const path = request.url ?? '/';
  const customer = mode === 'cart-checkout' && method === 'POST' ? ORDERS.exec(path)?.[1] : undefined;
  let answer = customer
    ? await call('POST', `${customer}/carts`, cartOf(JSON.parse(body.toString('utf8')) as OrderBody))
    : await call(method, path, body);
  if (customer && answer.ok) {
    const cart = (await answer.json()) as { id: string };
    answer = await call('POST', `${customer}/carts/${cart.id}/checkout`);
  }
  const text = await answer.text();
  response.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
});

const port = Number(process.env.PORT ?? 0);
server.listen(port, '127.0.0.1', () => console.log(`bare proxy listening on http://127.0.0.1:${port}`));
// Exits once both are closed: fetch's kept-alive connections would otherwise keep the process running after SIGTERM.
const stop = () => {
  server.closeAllConnections();
  void Promise.allSettled([new Promise((resolve) => server.close(resolve)), simulator.stop()]).then(() =>
    process.exit(0),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
