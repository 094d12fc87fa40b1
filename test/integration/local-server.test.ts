import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GATEWAY_MAX_BODY_BYTES } from '../../local/api-gateway.js';
import { createLocalServer, type LambdaHttpHandler, REQUEST_TIMEOUTS } from '../../local/server.js';
import { DEFAULT_SIMULATOR_CREDENTIALS } from '../../local/simulator/index.js';
import { captureLogs } from '../support/logs.js';
import { FakeSecretsManager } from '../support/secrets-manager.js';
import { type Stack, startStack } from '../support/stack.js';
import { BUSY_SLACK_MS } from '../support/timing.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const order = { lineItems: [{ offerId: NCE, quantity: 5, termDuration: 'P1Y' }], billingCycle: 'monthly' };
const cart = { lineItems: [{ catalogItemId: NCE, quantity: 5, billingCycle: 'monthly', termDuration: 'P1Y' }] };
const logs = captureLogs();

/** Every secret the stack has handled: none may appear in a log line or a response. */
function secretsSeen(stack: Stack): string[] {
  const fromRequests = stack.simulator.requests.flatMap((r) => {
    const auth = r.headers.authorization;
    const form = r.path.includes('oauth2') ? new URLSearchParams(r.body) : undefined;
    return [
      ...(typeof auth === 'string' ? [auth.replace(/^Bearer /, '')] : []),
      ...(form ? [form.get('client_secret'), form.get('refresh_token')].filter((v): v is string => !!v) : []),
    ];
  });
  return [
    ...new Set([
      DEFAULT_SIMULATOR_CREDENTIALS.clientSecret,
      DEFAULT_SIMULATOR_CREDENTIALS.refreshToken,
      ...fromRequests,
    ]),
  ];
}

describe('local server → handlers → Partner Center simulator', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { UPSTREAM_ATTEMPT_TIMEOUT_MS: '500' } });
  });
  afterAll(() => stack.stop());
  beforeEach(() => stack.simulator.clearFaults());

  it('creates an order (201), then adds an add-on to it (200, the order placed for the add-on)', async () => {
    const created = await stack.request('POST', `/customers/${CUSTOMER}/orders`, order);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: expect.stringMatching(/^Cs_/),
      referenceCustomerId: CUSTOMER,
      billingCycle: 'monthly',
    });
    expect(created.headers.get('ms-correlationid')).toMatch(/^[0-9a-f-]{36}$/);
    const parent = created.json.lineItems[0].subscriptionId as string;

    const addOn = {
      lineItems: [{ offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ', quantity: 2, parentSubscriptionId: parent }],
    };
    const patched = await stack.request('PATCH', `/customers/${CUSTOMER}/orders/${created.json.id}`, addOn);
    expect(patched.status).toBe(200);
    // Placed through a cart whose line names the parent subscription: a new order, for the add-on line only.
    expect(patched.json.id).toMatch(/^Cs_/);
    expect(patched.json.id).not.toBe(created.json.id);
    expect(patched.json.lineItems).toMatchObject([{ offerId: 'CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ', quantity: 2 }]);
  });

  it('creates a cart (201), checks it out by id (200), and a second checkout repeats the first result', async () => {
    const created = await stack.request('POST', `/customers/${CUSTOMER}/carts`, cart);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ status: 'Active', lineItems: [{ id: 0, catalogItemId: NCE }] });
    const first = await stack.request('POST', `/customers/${CUSTOMER}/carts/${created.json.id}/checkout`);
    expect(first.status).toBe(200);
    expect(first.json.orders).toHaveLength(1);
    const again = await stack.request('POST', `/customers/${CUSTOMER}/carts/${created.json.id}/checkout`, {});
    expect(again.json).toEqual(first.json);
    expect(stack.simulator.ledger.orders.filter((o) => o.id === first.json.orders[0].id)).toHaveLength(1);
  });

  it('creates and checks out a cart in one call, returning partial failures as they are', async () => {
    const mixed = {
      lineItems: [...cart.lineItems, { catalogItemId: 'PARTIALFAIL:0001:X', quantity: 1, billingCycle: 'monthly' }],
      checkout: true,
    };
    const result = await stack.request('POST', `/customers/${CUSTOMER}/carts`, mixed);
    expect(result.status).toBe(201);
    expect(result.json.cart.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.json.checkout.orders).toHaveLength(1);
    expect(result.json.checkout.orderErrors).toEqual([expect.objectContaining({ orderGroupId: '1', code: 800005 })]);
  });

  it('dry run sends nothing', async () => {
    const before = stack.simulator.requests.length;
    const result = await stack.request('POST', `/customers/${CUSTOMER}/orders?dryRun=true`, order);
    expect(result.status).toBe(200);
    // An order is placed through a cart: created, then checked out.
    expect(result.json.requests).toMatchObject([
      { method: 'POST', url: `${stack.simulator.url}/v1/customers/${CUSTOMER}/carts` },
      { method: 'POST', url: `${stack.simulator.url}/v1/customers/${CUSTOMER}/carts/{cartId}/checkout` },
    ]);
    expect(stack.simulator.requests.length).toBe(before);
  });

  it.each([
    [
      'an invalid offer',
      `/customers/${CUSTOMER}/orders`,
      { lineItems: [{ offerId: 'INVALID:0001:X', quantity: 1 }] },
      400,
      '800004',
    ],
    [
      // Answered 404 customer-not-found (issue 21), Partner Center's 403 in `upstream`.
      'a customer without commerce relationship',
      '/customers/00000000-0000-0000-0000-000000000403/orders',
      order,
      404,
      '20002',
      403,
    ],
    [
      'an unknown order',
      `/customers/${CUSTOMER}/orders/Cs_missing`,
      { lineItems: [{ ...order.lineItems[0], parentSubscriptionId: CUSTOMER }] },
      404,
      '20000',
    ],
  ] as [string, string, unknown, number, string, number?][])(
    'passes Partner Center’s refusal of %s through with its code',
    async (_, path, body, status, code, upstreamStatus) => {
      const result = await stack.request(path.endsWith('Cs_missing') ? 'PATCH' : 'POST', path, body);
      expect(result.status).toBe(status);
      expect(result.headers.get('content-type')).toBe('application/problem+json');
      expect(result.json.upstream).toMatchObject({
        status: upstreamStatus ?? status,
        code,
        requestId: expect.any(String),
        correlationId: expect.any(String),
      });
    },
  );

  it('retries a 5xx and a lost checkout answer by checking out the same cart again: one order, not two', async () => {
    const before = stack.simulator.ledger.orders.length;
    const cartsBefore = stack.simulator.ledger.carts.length;
    const sentBefore = stack.simulator.requests.length;
    stack.simulator.injectFault({ kind: 'server-error', times: 1, match: { method: 'POST', path: '/checkout' } });
    stack.simulator.injectFault({ kind: 'commit-then-drop', times: 1, match: { method: 'POST', path: '/checkout' } });
    const result = await stack.request('POST', `/customers/${CUSTOMER}/orders`, order);
    expect(result.status).toBe(201);
    expect(result.json.id).toBe(stack.simulator.ledger.orders.at(-1)?.id);
    expect(stack.simulator.ledger.orders.length).toBe(before + 1);
    expect(stack.simulator.ledger.carts.length).toBe(cartsBefore + 1);
    const checkouts = stack.simulator.requests
      .slice(sentBefore)
      .filter((r) => r.path.endsWith('/checkout') && r.method === 'POST');
    expect(checkouts.length).toBeGreaterThanOrEqual(3);
    expect(new Set(checkouts.map((r) => r.path)).size).toBe(1);
  });

  it('retries a truncated body and an attempt that times out', async () => {
    stack.simulator.injectFault({ kind: 'truncate', times: 1, match: { path: '/carts' } });
    stack.simulator.injectFault({ kind: 'delay', delayMs: 1500, times: 1, match: { path: '/carts' } });
    const result = await stack.request('POST', `/customers/${CUSTOMER}/carts`, cart);
    expect(result.status).toBe(201);
  });

  it('waits out a short 429; answers 429 with Retry-After when the wait would pass the deadline', async () => {
    stack.simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 1, times: 1 });
    expect((await stack.request('POST', `/customers/${CUSTOMER}/orders`, order)).status).toBe(201);
    stack.simulator.injectFault({ kind: 'throttle', retryAfterSeconds: 120 });
    const throttled = await stack.request('POST', `/customers/${CUSTOMER}/orders`, order);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('120');
    expect(throttled.json).toMatchObject({ type: 'urn:partner-orders:problem:throttled', retryAfterSeconds: 120 });
  });

  it('answers 502 after Partner Center keeps failing', async () => {
    stack.simulator.injectFault({ kind: 'unavailable' });
    const result = await stack.request('POST', `/customers/${CUSTOMER}/carts`, cart);
    expect(result.status).toBe(502);
    expect(result.json).toMatchObject({ type: 'urn:partner-orders:problem:upstream-error', upstream: { status: 503 } });
  });

  it('gets a new token after Partner Center revokes the old one', async () => {
    stack.simulator.revokeAccessTokens();
    const tokensBefore = stack.simulator.tokenRequests;
    expect((await stack.request('POST', `/customers/${CUSTOMER}/orders`, order)).status).toBe(201);
    expect(stack.simulator.tokenRequests).toBe(tokensBefore + 1);
  });

  it('answers unknown routes 404 and wrong methods 405 with problem details', async () => {
    const missing = await stack.request('GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.type).toBe('urn:partner-orders:problem:not-found');
    // (GET …/orders lists the customer's orders since issue 21; the carts collection has no GET.)
    const wrong = await stack.request('GET', `/customers/${CUSTOMER}/carts`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it.each(['GET', 'PUT', 'HEAD', 'DELETE'])(
    'answers %s /events 405 with Allow: POST, a problem and a correlation id',
    async (method) => {
      const response = await fetch(`${stack.url}/events`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('ms-correlationid')).toMatch(/^[0-9a-f-]{36}$/);
      if (method === 'HEAD') return;
      expect(await response.json()).toMatchObject({
        type: 'urn:partner-orders:problem:method-not-allowed',
        status: 405,
        detail: `${method} is not allowed on /events`,
      });
    },
  );

  it("echoes the caller's MS-CorrelationId on the server's own answers", async () => {
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const missing = await stack.request('GET', '/nope', undefined, { 'MS-CorrelationId': id });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('ms-correlationid')).toBe(id);
  });

  it('logs its own answers at DEBUG: method, path, status, duration and correlation id', async () => {
    const before = logs.lines().length; // not clear(): the secret check below reads every line
    const response = await fetch(`${stack.url}/events`, { method: 'GET' });
    const entry = logs
      .lines()
      .slice(before)
      .map((line) => JSON.parse(line))
      .find((line) => line.message === 'local server answered');
    expect(entry).toMatchObject({
      level: 'DEBUG',
      method: 'GET',
      path: '/events',
      status: 405,
      durationMs: expect.any(Number),
      correlationId: response.headers.get('ms-correlationid'),
    });
  });

  it("answers a body over API Gateway's limit 413 itself, with a correlation id", async () => {
    const response = await fetch(`${stack.url}/customers/${CUSTOMER}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(GATEWAY_MAX_BODY_BYTES + 1),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('ms-correlationid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toMatchObject({ type: 'urn:partner-orders:problem:too-large', status: 413 });
  });

  it('advertises the address it listens on in /openapi.json, not the default port', async () => {
    const result = await stack.request('GET', '/openapi.json');
    expect(stack.url).not.toBe('http://127.0.0.1:3000');
    expect(result.json.servers[0].url).toBe(stack.url);
  });

  it('names the path as received in a 404 for a doubled slash, and says what is wrong with it', async () => {
    const path = `//customers/${CUSTOMER}/orders`;
    const result = await stack.request('POST', path, order);
    expect(result.status).toBe(404);
    expect(result.json.detail).toContain(`No route for POST ${path}`);
    expect(result.json.detail).toContain("'//'");
  });

  it.each([
    ['an empty object', '{}', { path: '/body/lineItems', message: 'is required' }],
    [
      'a number too large for JSON',
      `{"lineItems":[{"offerId":"${NCE}","quantity":1e400}]}`,
      {
        path: '/body/lineItems/0/quantity',
        message: 'is out of range (it parses to Infinity): must be a finite number',
      },
    ],
    [
      'a PowerShell-cased key',
      `{"lineItems":[{"OfferId":"${NCE}","quantity":1}]}`,
      {
        path: '/body/lineItems/0/OfferId',
        message: 'is not a known field: did you mean offerId? (keys are case-sensitive)',
      },
    ],
    [
      'a __proto__ key',
      `{"lineItems":[{"offerId":"${NCE}","quantity":1,"__proto__":{"admin":true}}]}`,
      { path: '/body/lineItems/0/__proto__', message: 'must not be used as a key' },
    ],
  ])('answers %s with a message that names what is wrong', async (_, body, error) => {
    const result = await stack.request('POST', `/customers/${CUSTOMER}/orders`, body);
    expect(result.status).toBe(400);
    expect(result.json.errors).toContainEqual(error);
  });

  it('bounds how long a request may take to arrive (Node waited 60 s for headers and 300 s for a body)', () => {
    expect(REQUEST_TIMEOUTS.headersMs).toBeLessThanOrEqual(10_000);
    expect(REQUEST_TIMEOUTS.requestMs).toBeLessThanOrEqual(30_000);
    expect(REQUEST_TIMEOUTS.checkEveryMs).toBeLessThanOrEqual(1_000);
  });

  it('never logs or returns a secret, token or refresh token', () => {
    const secrets = secretsSeen(stack);
    expect(secrets.length).toBeGreaterThan(2);
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

describe('credentials from Secrets Manager through the whole stack', () => {
  const fake = new FakeSecretsManager();
  let stack: Stack;
  beforeAll(async () => {
    const endpoint = await fake.start();
    fake.put('partner-center', JSON.stringify(DEFAULT_SIMULATOR_CREDENTIALS));
    stack = await startStack({ secrets: { fake, endpoint } });
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  it('reads the secret once for many requests, and again after a rotation makes Partner Center answer 401', async () => {
    for (let i = 0; i < 5; i++)
      expect((await stack.request('POST', `/customers/${CUSTOMER}/orders`, order)).status).toBe(201);
    expect(fake.count('GetSecretValue')).toBe(1);

    // The client secret and refresh token are rotated and old access tokens revoked: the next call's 401 must
    // trigger one re-read of the secret, and the request still succeeds.
    stack.simulator.rotateCredentials({ clientSecret: 'rotated-secret', refreshToken: 'rotated-refresh-token' });
    fake.put(
      'partner-center',
      JSON.stringify({
        ...DEFAULT_SIMULATOR_CREDENTIALS,
        clientSecret: 'rotated-secret',
        refreshToken: 'rotated-refresh-token',
      }),
    );
    stack.simulator.revokeAccessTokens();
    expect((await stack.request('POST', `/customers/${CUSTOMER}/orders`, order)).status).toBe(201);
    expect(fake.count('GetSecretValue')).toBe(2);
    expect(logs.text()).not.toContain('rotated-secret');
  });

  it('answers 502 naming the AADSTS code when the refresh token is refused, without the token', async () => {
    fake.put(
      'partner-center',
      JSON.stringify({
        ...DEFAULT_SIMULATOR_CREDENTIALS,
        clientSecret: 'rotated-secret',
        refreshToken: 'dead-refresh-token',
      }),
    );
    stack.simulator.revokeAccessTokens();
    const result = await stack.request('POST', `/customers/${CUSTOMER}/orders`, order);
    expect(result.status).toBe(502);
    expect(result.json).toMatchObject({
      type: 'urn:partner-orders:problem:credentials',
      detail: expect.stringContaining('invalid_grant AADSTS700082'),
    });
    expect(JSON.stringify(result.json)).not.toContain('dead-refresh-token');
    expect(logs.text()).not.toContain('dead-refresh-token');
  });

  it('answers 503 with Retry-After while Secrets Manager is down', async () => {
    fake.failWith = { status: 503, type: 'ServiceUnavailable' };
    stack.simulator.revokeAccessTokens();
    const result = await stack.request('POST', `/customers/${CUSTOMER}/orders`, order);
    fake.failWith = undefined;
    expect(result.status).toBe(503);
    expect(result.headers.get('retry-after')).toBe('5');
  });
});

describe('requests that arrive too slowly', () => {
  // Both timeouts answer the same 408, so only the time tells them apart: they are far enough apart for a busy
  // machine, where the server's 50 ms check runs late, not to blur them.
  const TIMEOUTS = { headersMs: 300, requestMs: 2_000, checkEveryMs: 50 };
  const handled: string[] = [];
  const slowHandler: LambdaHttpHandler = async (event) => {
    handled.push(event.rawPath);
    await new Promise((resolve) => setTimeout(resolve, TIMEOUTS.requestMs + 400));
    return { statusCode: 200, headers: { 'MS-CorrelationId': 'handler' }, body: '{}' };
  };
  const server = createLocalServer({
    handlers: {
      'create-order': slowHandler,
      'create-cart': slowHandler,
      'credentials-health': slowHandler,
      catalog: slowHandler,
      status: slowHandler,
      subscriptions: slowHandler,
      mcp: slowHandler,
    },
    timeouts: TIMEOUTS,
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Writes the chunks `gapMs` apart on one connection; resolves with what came back and when the socket closed. */
  const trickle = (chunks: string[], gapMs: number) =>
    new Promise<{ text: string; ms: number }>((resolve) => {
      const started = Date.now();
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (data) => {
        text += data;
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ text, ms: Date.now() - started }));
      let next = 0;
      const write = () => {
        if (next < chunks.length && !socket.destroyed) {
          socket.write(chunks[next++] as string);
          setTimeout(write, gapMs);
        } else if (next >= chunks.length) {
          setTimeout(() => socket.end(), TIMEOUTS.requestMs * 3);
        }
      };
      write();
    });

  const problemOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

  it('answers headers sent too slowly with a 408 problem, within the headers timeout', async () => {
    const headers = ['POST /customers/x/orders HTTP/1.1\r\n', ...Array.from({ length: 20 }, (_, i) => `X-${i}: 1\r\n`)];
    const { text, ms } = await trickle(headers, 100);
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(text).toMatch(/\r\nContent-Type: application\/problem\+json\r\n/);
    expect(text).toMatch(/\r\nMS-CorrelationId: [0-9a-f-]{36}\r\n/);
    expect(problemOf(text)).toMatchObject({ type: 'urn:partner-orders:problem:request-timeout', status: 408 });
    expect(ms).toBeLessThan(TIMEOUTS.headersMs + 1_500); // the headers timeout, not the request timeout
  });

  it('answers a stalled body with a 408 problem within the request timeout, without calling the handler', async () => {
    const start = `POST /customers/${CUSTOMER}/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n`;
    const { text, ms } = await trickle([`${start}Content-Length: 100\r\n\r\n{"lineItems":`], 0);
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(problemOf(text)).toMatchObject({ type: 'urn:partner-orders:problem:request-timeout', status: 408 });
    // The request timeout, not this client giving up (at 3 × requestMs); the slack is for a busy machine.
    expect(ms).toBeLessThan(TIMEOUTS.requestMs + BUSY_SLACK_MS);
    expect(handled).toEqual([]);
  });

  it('does not count the handler’s own time: a request received in time is answered however long it runs', async () => {
    const request = `POST /customers/${CUSTOMER}/orders HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}`;
    const { text } = await trickle([request], 0);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(handled).toEqual([`/customers/${CUSTOMER}/orders`]);
  });
});
