import { describe, expect, it } from 'vitest';
import { createHandler as createCartHandler } from '../../functions/create-cart/handler.js';
import { createHandler as createOrderHandler } from '../../functions/create-order/handler.js';
import type { HttpDependencies } from '../../functions/shared/http.js';
import { PartnerCenterClient } from '../../functions/shared/partner-center/client.js';
import { KEYS_OPTIONAL } from '../support/commands.js';
import { httpEvent, lambdaContext } from '../support/events.js';
import { captureLogs } from '../support/logs.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const CART = 'b2a3c4d5-e6f7-4a8b-9c0d-1e2f3a4b5c6d';
const SUB = 'a4c1340d-6911-4758-bba3-0c4c6007d161';
const ORDERS = 'POST /customers/{customerId}/orders';
const ADDON = 'PATCH /customers/{customerId}/orders/{orderId}';
const CARTS = 'POST /customers/{customerId}/carts';
const CHECKOUT = 'POST /customers/{customerId}/carts/{cartId}/checkout';
const line = { offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 2 };
const cartLine = { catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 2, billingCycle: 'monthly' };
const logs = captureLogs();

/**
 * Partner Center as documented: a created cart answers the Cart, its checkout the orders it placed, and an order is
 * read back with its subscriptions (for an add-on's parent check).
 */
function partnerCenterReply(url: string, init: RequestInit): Response {
  if (url.endsWith('/checkout')) return new Response('{"orders":[{"id":"o-1"}]}', { status: 201 });
  if (url.endsWith('/carts')) {
    const body = JSON.parse(String(init.body));
    return new Response(JSON.stringify({ ...body, id: CART, status: 'Active' }), { status: 201 });
  }
  if (init.method === 'GET' && /\/orders\/[^/]+$/.test(url)) {
    return new Response(JSON.stringify({ id: url.split('/').pop(), lineItems: [{ ...line, subscriptionId: SUB }] }));
  }
  return new Response('{"code":600000,"description":"not served"}', { status: 404 });
}

/** Handlers over a real client whose fetch answers from `reply` and records every upstream request. */
function setup(reply: (url: string, init: RequestInit) => Response = partnerCenterReply) {
  const sent: { url: string; init: RequestInit }[] = [];
  const partnerCenter = new PartnerCenterClient({
    baseUrl: 'https://pc.test',
    tokens: { get: async () => ({ value: 'access-token-value', expiresAt: Date.now() + 3_600_000, mode: 'app-only' }) },
    fetch: (async (url: string, init: RequestInit) => {
      // The purchase policy reads a checkout's cart back to judge its lines (a read: not recorded as sent).
      if (init.method === 'GET' && /\/carts\/[^/]+$/.test(url)) {
        return new Response(JSON.stringify({ id: url.split('/').pop(), status: 'Active', lineItems: [cartLine] }));
      }
      sent.push({ url, init });
      return reply(url, init);
    }) as unknown as typeof fetch,
    sleep: async () => undefined,
  });
  const deps: HttpDependencies = { partnerCenter, maxRequestMs: 29_000, deadlineMarginMs: 1_000, ...KEYS_OPTIONAL };
  const order = createOrderHandler(deps);
  const cart = createCartHandler(deps);
  const invoke = async (event: ReturnType<typeof httpEvent>) => {
    const handler = event.routeKey.includes('/carts') ? cart : order;
    const result = await handler(event, lambdaContext());
    return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
  };
  return { invoke, sent };
}

describe('order and cart handlers', () => {
  it('create an order: 201 with the Order, placed through one cart (lines numbered, monthly by default), never POST orders', async () => {
    const { invoke, sent } = setup();
    const result = await invoke(
      httpEvent(ORDERS, { pathParameters: { customerId: CUSTOMER.toUpperCase() }, body: { lineItems: [line, line] } }),
    );
    expect(result.statusCode).toBe(201);
    expect(result.json).toEqual({ id: 'o-1' });
    expect(sent.map((s) => `${s.init.method} ${s.url}`)).toEqual([
      `POST https://pc.test/v1/customers/${CUSTOMER}/carts`,
      `POST https://pc.test/v1/customers/${CUSTOMER}/carts/${CART}/checkout`,
    ]);
    const cartLineOf = { catalogItemId: line.offerId, quantity: line.quantity, billingCycle: 'monthly' };
    expect(JSON.parse(String(sent[0]?.init.body))).toEqual({
      lineItems: [
        { ...cartLineOf, id: 0 },
        { ...cartLineOf, id: 1 },
      ],
    });
  });

  it('add-on: reads the order, then places the add-on lines through a cart; 200 with the new order', async () => {
    const { invoke, sent } = setup();
    const addOn = { lineItems: [{ ...line, parentSubscriptionId: SUB }], billingCycle: 'Monthly' };
    const result = await invoke(
      httpEvent(ADDON, { pathParameters: { customerId: CUSTOMER, orderId: 'Cs_1' }, body: addOn }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.json).toEqual({ id: 'o-1' });
    expect(sent.map((s) => `${s.init.method} ${s.url}`)).toEqual([
      `GET https://pc.test/v1/customers/${CUSTOMER}/orders/Cs_1`,
      `POST https://pc.test/v1/customers/${CUSTOMER}/carts`,
      `POST https://pc.test/v1/customers/${CUSTOMER}/carts/${CART}/checkout`,
    ]);
    expect(JSON.parse(String(sent[1]?.init.body))).toEqual({
      lineItems: [
        {
          id: 0,
          catalogItemId: line.offerId,
          quantity: line.quantity,
          billingCycle: 'monthly',
          provisioningContext: { ParentSubscriptionId: SUB },
        },
      ],
    });
  });

  it('add-on to a subscription that is not one of the order: 400 naming the line, no cart created', async () => {
    const { invoke, sent } = setup();
    const stranger = 'f0e1d2c3-b4a5-4968-8776-655443322110';
    const addOn = {
      lineItems: [
        { ...line, parentSubscriptionId: SUB },
        { ...line, parentSubscriptionId: stranger },
      ],
    };
    const result = await invoke(
      httpEvent(ADDON, { pathParameters: { customerId: CUSTOMER, orderId: 'Cs_1' }, body: addOn }),
    );
    expect(result.statusCode).toBe(400);
    expect(result.json.errors.map((e: { path: string }) => e.path)).toEqual(['/body/lineItems/1/parentSubscriptionId']);
    expect(sent.map((s) => s.init.method)).toEqual(['GET']);
  });

  it('cart with checkout: creates, checks out, answers 201 { cart, checkout } with partial failures marked partial', async () => {
    const checkout = {
      orders: [{ id: 'o-1' }],
      orderErrors: [{ orderGroupId: '1', code: 800005, description: 'Create order is not successful' }],
    };
    const { invoke, sent } = setup((url) =>
      url.endsWith('/checkout')
        ? new Response(JSON.stringify(checkout), { status: 201 })
        : new Response(JSON.stringify({ id: CART, status: 'Active', lineItems: [] }), { status: 201 }),
    );
    const result = await invoke(
      httpEvent(CARTS, { pathParameters: { customerId: CUSTOMER }, body: { lineItems: [cartLine], checkout: true } }),
    );
    expect(result.statusCode).toBe(201);
    // The cart an order came from is Ordered; some order groups failed, so the checkout is partial.
    expect(result.json).toEqual({
      cart: { id: CART, status: 'Ordered', lineItems: [] },
      checkout: { ...checkout, partial: true },
    });
    expect(sent.map((s) => s.url)).toEqual([
      `https://pc.test/v1/customers/${CUSTOMER}/carts`,
      `https://pc.test/v1/customers/${CUSTOMER}/carts/${CART}/checkout`,
    ]);
    expect(JSON.parse(String(sent[0]?.init.body))).toEqual({ lineItems: [{ ...cartLine, id: 0 }] });
    expect(sent[1]?.init.body).toBeUndefined();
    const requestIds = sent.map((s) => (s.init.headers as Record<string, string>)['MS-RequestId']);
    expect(new Set(requestIds).size).toBe(2); // two calls, two MS-RequestIds
  });

  it('checkout by id: 200 with the result; an empty body and {} are both fine', async () => {
    const { invoke } = setup(() => new Response('{"orders":[{"id":"o-1"}]}', { status: 201 }));
    for (const body of [undefined, {}]) {
      const result = await invoke(
        httpEvent(CHECKOUT, { pathParameters: { customerId: CUSTOMER, cartId: CART }, body }),
      );
      expect(result.statusCode).toBe(200);
      expect(result.json).toEqual({ orders: [{ id: 'o-1' }] });
    }
  });

  it('a checkout that placed no order is a 422 checkout-failed with the reasons, not a success', async () => {
    const orderErrors = [{ orderGroupId: '0', code: 800005, description: 'Create order is not successful' }];
    const { invoke } = setup(() => new Response(JSON.stringify({ orders: [], orderErrors }), { status: 201 }));
    const result = await invoke(httpEvent(CHECKOUT, { pathParameters: { customerId: CUSTOMER, cartId: CART } }));
    expect(result.statusCode).toBe(422);
    expect(result.json).toMatchObject({
      type: 'urn:partner-orders:problem:checkout-failed',
      status: 422,
      cartId: CART,
      orderErrors,
    });
  });

  it('a cart whose checkout stays busy is checked out again, then says which cart to check out again', async () => {
    const { invoke, sent } = setup((url) =>
      url.endsWith('/checkout')
        ? new Response('{"code":800064,"description":"Cart is being processed by another request"}', { status: 409 })
        : new Response(JSON.stringify({ id: CART }), { status: 201 }),
    );
    const result = await invoke(
      httpEvent(CARTS, { pathParameters: { customerId: CUSTOMER }, body: { lineItems: [cartLine], checkout: true } }),
    );
    // A checkout in progress may be placing the cart: its outcome is unknown, never a refusal.
    expect(result.statusCode).toBe(502);
    expect(result.json).toMatchObject({ type: 'urn:partner-orders:problem:outcome-unknown', cartId: CART });
    expect(result.json.detail).toContain(`/carts/${CART}/checkout`);
    const checkouts = sent.filter((s) => s.url.endsWith('/checkout'));
    expect(checkouts.length).toBeGreaterThan(1);
    expect(sent.filter((s) => s.url.endsWith('/carts'))).toHaveLength(1);
  });

  // Known gap (issue 19): with keys optional, a keyless order whose every checkout was lost is told to "retry with
  // the same Idempotency-Key" (there is none), and not which cart to check out: a keyless retry creates a new cart.
  it.fails('a keyless order whose checkouts were all lost names its cart to check out, not a key', async () => {
    const { invoke } = setup((url, init) =>
      url.endsWith('/checkout') ? new Response('oops', { status: 500 }) : partnerCenterReply(url, init),
    );
    const result = await invoke(
      httpEvent(ORDERS, { pathParameters: { customerId: CUSTOMER }, body: { lineItems: [line] } }),
    );
    expect(result.statusCode).toBe(502);
    expect(result.json.cartId).toBe(CART);
    expect(result.json.detail).not.toContain('Idempotency-Key');
  });

  it('dry run: 200 with the exact requests, token redacted, nothing sent', async () => {
    const { invoke, sent } = setup();
    const result = await invoke(
      httpEvent(CARTS, {
        pathParameters: { customerId: CUSTOMER },
        query: { dryRun: 'true' },
        body: { lineItems: [cartLine], checkout: true },
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(sent).toHaveLength(0);
    expect(result.json.dryRun).toBe(true);
    expect(result.json.requests).toMatchObject([
      {
        method: 'POST',
        url: `https://pc.test/v1/customers/${CUSTOMER}/carts`,
        body: { lineItems: [{ ...cartLine, id: 0 }] },
      },
      { method: 'POST', url: `https://pc.test/v1/customers/${CUSTOMER}/carts/{cartId}/checkout` },
    ]);
    expect(result.body).not.toContain('access-token-value');
    expect(result.json.requests[0].headers).toMatchObject({
      Authorization: 'Bearer [redacted]',
      'MS-Contract-Version': 'v1',
    });
  });

  it('echoes the caller correlation id to Partner Center and back, or makes one', async () => {
    const { invoke, sent } = setup();
    const id = 'AAAAAAAA-1111-4111-8111-111111111111';
    const given = await invoke(
      httpEvent(ORDERS, {
        pathParameters: { customerId: CUSTOMER },
        headers: { 'MS-CorrelationId': id },
        body: { lineItems: [line] },
      }),
    );
    expect(given.headers?.['MS-CorrelationId']).toBe(id.toLowerCase());
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((s) => (s.init.headers as Record<string, string>)['MS-CorrelationId']))).toEqual(
      new Set([id.toLowerCase()]),
    );
    const made = await invoke(
      httpEvent(ORDERS, { pathParameters: { customerId: 'bad' }, body: { lineItems: [line] } }),
    );
    expect(made.headers?.['MS-CorrelationId']).toMatch(/^[0-9a-f-]{36}$/);
  });

  describe('bad input is answered 4xx with problem details and nothing is sent', () => {
    const ok = { pathParameters: { customerId: CUSTOMER }, body: { lineItems: [line] } };
    const cases: [string, ReturnType<typeof httpEvent>, number, string][] = [
      [
        'customer id not a GUID',
        httpEvent(ORDERS, { ...ok, pathParameters: { customerId: 'contoso.com' } }),
        400,
        '/path/customerId',
      ],
      ['missing customer id', httpEvent(ORDERS, { ...ok, pathParameters: {} }), 400, '/path/customerId'],
      [
        'order id with a slash',
        httpEvent(ADDON, {
          pathParameters: { customerId: CUSTOMER, orderId: '../carts' },
          body: { lineItems: [{ ...line, parentSubscriptionId: SUB }] },
        }),
        400,
        '/path/orderId',
      ],
      [
        'cart id not a GUID',
        httpEvent(CHECKOUT, { pathParameters: { customerId: CUSTOMER, cartId: '123' } }),
        400,
        '/path/cartId',
      ],
      ['no body', httpEvent(ORDERS, { pathParameters: { customerId: CUSTOMER } }), 400, '/body'],
      ['malformed JSON', httpEvent(ORDERS, { ...ok, rawBody: '{"lineItems": [' }), 400, '/body'],
      [
        '__proto__ key',
        httpEvent(ORDERS, { ...ok, rawBody: '{"lineItems":[],"__proto__":{"admin":true}}' }),
        400,
        '/body/__proto__',
      ],
      ['JSON array body', httpEvent(ORDERS, { ...ok, body: [line] }), 400, '/body'],
      [
        'text/plain body',
        httpEvent(ORDERS, { ...ok, headers: { 'content-type': 'text/plain' } }),
        415,
        '/headers/content-type',
      ],
      ['no content type', httpEvent(ORDERS, { ...ok, headers: { 'content-type': '' } }), 415, '/headers/content-type'],
      [
        'body over 256 KiB',
        httpEvent(ORDERS, { ...ok, body: { lineItems: [{ ...line, friendlyName: 'x'.repeat(300_000) }] } }),
        413,
        '/body',
      ],
      [
        'base64 body over 256 KiB',
        httpEvent(ORDERS, {
          ...ok,
          rawBody: Buffer.from('x'.repeat(300_000)).toString('base64'),
          isBase64Encoded: true,
        }),
        413,
        '/body',
      ],
      ['unknown field', httpEvent(ORDERS, { ...ok, body: { lineItems: [line], notes: 'x' } }), 400, '/body/notes'],
      [
        'read-only status',
        httpEvent(ORDERS, { ...ok, body: { lineItems: [line], status: 'none' } }),
        400,
        '/body/status',
      ],
      [
        'quantity as string',
        httpEvent(ORDERS, { ...ok, body: { lineItems: [{ ...line, quantity: '5' }] } }),
        400,
        '/body/lineItems/0/quantity',
      ],
      [
        'negative quantity',
        httpEvent(ORDERS, { ...ok, body: { lineItems: [{ ...line, quantity: -1 }] } }),
        400,
        '/body/lineItems/0/quantity',
      ],
      [
        '101 line items',
        httpEvent(ORDERS, { ...ok, body: { lineItems: Array.from({ length: 101 }, () => line) } }),
        400,
        '/body/lineItems',
      ],
      [
        'add-on line on POST',
        httpEvent(ORDERS, { ...ok, body: { lineItems: [{ ...line, parentSubscriptionId: SUB }] } }),
        400,
        '/body/lineItems/0/parentSubscriptionId',
      ],
      [
        'add-on without parent',
        httpEvent(ADDON, { pathParameters: { customerId: CUSTOMER, orderId: 'Cs_1' }, body: { lineItems: [line] } }),
        400,
        '/body/lineItems/0/parentSubscriptionId',
      ],
      [
        'cart without billing cycle',
        httpEvent(CARTS, { ...ok, body: { lineItems: [{ ...cartLine, billingCycle: undefined }] } }),
        400,
        '/body/lineItems/0/billingCycle',
      ],
      [
        'cart billing cycle unknown',
        httpEvent(CARTS, { ...ok, body: { lineItems: [{ ...cartLine, billingCycle: 'unknown' }] } }),
        400,
        '/body/lineItems/0/billingCycle',
      ],
      [
        'checkout with options',
        httpEvent(CHECKOUT, { pathParameters: { customerId: CUSTOMER, cartId: CART }, body: { force: true } }),
        400,
        '/body/force',
      ],
      ['dryRun=yes', httpEvent(ORDERS, { ...ok, query: { dryRun: 'yes' } }), 400, '/query/dryRun'],
      ['unknown query parameter', httpEvent(ORDERS, { ...ok, query: { whatif: 'true' } }), 400, '/query/whatif'],
      [
        'correlation id not a GUID',
        httpEvent(ORDERS, { ...ok, headers: { 'ms-correlationid': 'abc' } }),
        400,
        '/headers/ms-correlationid',
      ],
      ['route not served by this function', httpEvent('GET /customers/{customerId}/orders', ok), 400, '/routeKey'],
    ];
    it.each(cases)('%s → %i at %s', async (_, event, status, path) => {
      const { invoke, sent } = setup();
      const result = await invoke(event);
      expect(result.statusCode).toBe(status);
      expect(result.headers?.['Content-Type']).toBe('application/problem+json');
      expect(result.json).toMatchObject({
        status,
        type: expect.stringMatching(/^urn:partner-orders:problem:/),
        title: expect.any(String),
        detail: expect.any(String),
      });
      expect(result.json.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(result.body).not.toMatch(/\n\s+at /);
      expect(sent).toHaveLength(0);
    });
  });

  it('logs one line per request with route, status and correlation id, and never the token', async () => {
    logs.clear();
    const { invoke } = setup();
    await invoke(httpEvent(ORDERS, { pathParameters: { customerId: CUSTOMER }, body: { lineItems: [line] } }));
    const lines = logs.lines().map((l) => JSON.parse(l));
    const access = lines.find((l) => l.message === 'request completed');
    expect(access).toMatchObject({
      route: ORDERS,
      status: 201,
      customerId: CUSTOMER,
      correlationId: expect.any(String),
      level: 'INFO',
    });
    const upstream = lines.find((l) => l.message === 'partner center answered');
    expect(upstream).toMatchObject({
      step: 'create-cart',
      status: 201,
      attempts: 1,
      upstreamRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      correlationId: access.correlationId,
    });
    expect(logs.text()).not.toContain('access-token-value');
  });
});
