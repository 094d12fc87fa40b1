// The benchmarks' instant upstream (bench/upstream.ts) stands in for Partner Center and Entra ID. Property: every
// route the handlers call is answered with a body our own response schemas accept (so a warm-overhead figure is
// never the cost of an error path), token requests are counted per tenant, and a scaled order has as many lines as
// asked for.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWithLines } from '../../bench/bodies.js';
import { createUpstream } from '../../bench/upstream.js';
import { Cart, CartCheckoutResult } from '../../functions/shared/schemas/carts.js';
import { CatalogAvailabilityCollection, CatalogSku } from '../../functions/shared/schemas/catalog.js';
import { Order } from '../../functions/shared/schemas/orders.js';

const upstream = createUpstream();
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  upstream.server.closeAllConnections();
  await new Promise((resolve) => upstream.server.close(resolve));
});

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as unknown };
};

describe('the instant upstream', () => {
  it('answers every Partner Center route with a body our response schemas accept', async () => {
    const routes = [
      ['POST', `/v1/customers/${CUSTOMER}/orders`, 201, Order],
      ['PATCH', `/v1/customers/${CUSTOMER}/orders/Cs_1`, 200, Order],
      ['POST', `/v1/customers/${CUSTOMER}/carts`, 201, Cart],
      ['POST', `/v1/customers/${CUSTOMER}/carts/${CUSTOMER}/checkout`, 201, CartCheckoutResult],
      // The catalog pre-flight's reads, for the SKUs the bench lines name.
      ['GET', `/v1/customers/${CUSTOMER}/products/CFQ7TTC0LH18/skus/0001`, 200, CatalogSku],
      [
        'GET',
        `/v1/customers/${CUSTOMER}/products/DZH318Z0BQ36/skus/004G/availabilities`,
        200,
        CatalogAvailabilityCollection,
      ],
    ] as const;
    for (const [method, path, status, schema] of routes) {
      const answer = await call(method, path, method === 'GET' ? undefined : {});
      expect(answer.status).toBe(status);
      expect(schema.safeParse(answer.json).success).toBe(true);
    }
    const checkout = CartCheckoutResult.parse((await call('POST', `/v1/customers/${CUSTOMER}/carts/x/checkout`)).json);
    expect(checkout.orders?.length).toBeGreaterThan(0);
  });

  it('answers an order with as many lines as the customer id asks for', async () => {
    for (const lines of [1, 10, 100]) {
      const order = Order.parse((await call('POST', `/v1/customers/${customerWithLines(lines)}/orders`, {})).json);
      expect(order.lineItems).toHaveLength(lines);
    }
  });

  it('issues tokens with the lifetime a bench-exp tenant asks for, and counts them per tenant', async () => {
    upstream.reset();
    const token = await call('POST', '/bench-exp-302/oauth2/token');
    expect(token.json).toMatchObject({ expires_in: '302', token_type: 'Bearer' });
    await call('POST', '/other/oauth2/token');
    await call('POST', '/other/oauth2/token');
    expect(upstream.stats().tokens).toEqual({ 'bench-exp-302': 1, other: 2 });
  });

  it('refuses a Partner Center call without a bearer token, and counts it', async () => {
    upstream.reset();
    const response = await fetch(`${url}/v1/customers/${CUSTOMER}/orders`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(upstream.stats().unauthorised).toBe(1);
  });
});
