// Where the warm overhead of `POST orders` goes: the same call built up layer by layer, every variant alternating
// with the others against the instant upstream, each reported as its p50 and as the median of its paired difference
// to the bare fetch of the same round (drift cancels). Not part of `npm run bench`; `LOG_LEVEL=SILENT tsx
// bench/decompose.ts` (INVOCATIONS=3000 by default) reproduces the decomposition in docs/performance.md.
//   bare            fetch + res.json(), the baseline of bench/warm.ts
//   + abortable     the same fetch with what a bounded attempt needs: an AbortController, a timer, redirect: 'manual'
//   client.send     our Partner Center client (abortable attempt, MS-RequestId, headers, retry loop, JSON)
//   essential       JSON.parse of the body, the route's schemas (compiled), the upstream body, client.send, the
//                   response schema, JSON.stringify of the answer: what any validating handler must do, no middleware
//   + HTTP stack    the essential work inside the real middy onion (httpStack: early-timeout guard, log context,
//                   correlation id, access log, problem details, body limit, JSON body)
//   handler         the real create-order handler (the above, plus the command layer and the route table)
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createHandler } from '../functions/create-order/handler.js';
import { readConfig } from '../functions/shared/config.js';
import { createDependencies } from '../functions/shared/dependencies.js';
import { type HttpEvent, httpStack } from '../functions/shared/http.js';
import { Cart, CartCheckoutResult } from '../functions/shared/schemas/carts.js';
import { CustomerPath, DryRunQuery, IdempotencyKeyHeaders } from '../functions/shared/schemas/ids.js';
import { CreateOrderRequest, Order } from '../functions/shared/schemas/orders.js';
import { checkoutRequest, createCartRequest } from '../functions/shared/services/carts.js';
import { cartForOrder } from '../functions/shared/services/orders.js';
import { compiled } from '../functions/shared/validation.js';
import { httpEvent } from '../test/support/events.js';
import { orderBody } from './bodies.js';
import { median, round } from './stats.js';
import { startUpstream } from './upstream.js';
import { BENCH_CREDENTIALS, bareHeaders, CUSTOMER } from './warm.js';

const INVOCATIONS = Number(process.env.INVOCATIONS ?? 3000);
const WARMUP = 300;

const upstream = await startUpstream();
try {
  const deps = createDependencies(
    readConfig({
      PARTNER_CENTER_URL: upstream.url,
      PARTNER_CENTER_AUTHORITY_URL: upstream.url,
      PARTNER_CENTER_CREDENTIALS: JSON.stringify(BENCH_CREDENTIALS),
    }),
  );
  const token = (await deps.tokens.get()).value;
  const handler = createHandler(deps);
  const body = orderBody(1);
  // An order is placed through its cart: created, then checked out (services/orders.ts).
  const request = createCartRequest(CUSTOMER, cartForOrder(body as never));
  const checkout = checkoutRequest(CUSTOMER, 'bench-cart');
  const url = `${upstream.url}${request.path}`;
  const checkoutUrl = `${upstream.url}${checkout.path}`;
  const headers = bareHeaders(token);
  const context = () => ({ functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 29_000 });
  const options = () => ({ correlationId: randomUUID(), deadline: Date.now() + 28_000 });

  const essential = async (event: HttpEvent) => {
    const path = compiled(CustomerPath).parse(event.pathParameters);
    compiled(DryRunQuery).parse({});
    compiled(IdempotencyKeyHeaders).parse({});
    const order = compiled(CreateOrderRequest).parse(
      typeof event.body === 'string' ? JSON.parse(event.body) : event.body,
    );
    const cart = await deps.partnerCenter.send(createCartRequest(path.customerId, cartForOrder(order)), options());
    const id = compiled(Cart).parse(cart.body).id;
    const answer = await deps.partnerCenter.send(checkoutRequest(path.customerId, id), options());
    const [placed] = compiled(CartCheckoutResult).parse(answer.body).orders ?? [];
    return { statusCode: 201, body: JSON.stringify(compiled(Order).parse(placed)) };
  };
  // The essential work inside the real middy onion (httpStack: the body arrives parsed by its JSON middleware).
  const stack = httpStack(essential);
  const variants: Record<string, (event: HttpEvent) => Promise<unknown>> = {
    bare: async () => {
      await (await fetch(url, { method: 'POST', headers, body: JSON.stringify(request.body) })).json();
      return (await fetch(checkoutUrl, { method: 'POST', headers })).json();
    },
    '+ abortable': async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 20_000);
      try {
        const init = { method: 'POST', headers, redirect: 'manual' as const, signal: controller.signal };
        await (await fetch(url, { ...init, body: JSON.stringify(request.body) })).json();
        return await (await fetch(checkoutUrl, init)).json();
      } finally {
        clearTimeout(timer);
      }
    },
    'client.send': async () => {
      await deps.partnerCenter.send(request, options());
      return (await deps.partnerCenter.send(checkout, options())).body;
    },
    essential,
    '+ HTTP stack': (event) => stack(event, context() as never),
    handler: (event) => handler(event, context() as never),
  };
  const names = Object.keys(variants);
  const times = new Map(names.map((name) => [name, [] as number[]]));
  for (let i = 0; i < WARMUP + INVOCATIONS; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length] as string;
      const event = httpEvent('POST /customers/{customerId}/orders', {
        pathParameters: { customerId: CUSTOMER },
        body,
      });
      const started = performance.now();
      await variants[name]?.(event);
      const elapsed = (performance.now() - started) * 1000;
      if (i >= WARMUP) times.get(name)?.push(elapsed);
    }
  }
  const bare = times.get('bare') ?? [];
  const bareP50 = median(bare);
  console.log(`POST orders, decomposed: ${INVOCATIONS} rounds, Node ${process.versions.node}\n`);
  console.log('variant          p50        × bare p50   paired Δ vs bare (median)');
  for (const name of names) {
    const own = times.get(name) ?? [];
    const delta = median(own.map((v, i) => v - (bare[i] ?? 0)));
    console.log(
      `${name.padEnd(15)}  ${`${round(median(own), 1)} µs`.padStart(9)}  ${(median(own) / bareP50).toFixed(3).padStart(9)}   ${`${round(delta, 1)} µs`.padStart(9)}`,
    );
  }
} finally {
  await upstream.stop();
}
