import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CART_LIFETIME_MS,
  type Cart,
  type CartCheckoutResult,
  DEFAULT_SIMULATOR_CREDENTIALS as CREDS,
  type Order,
  PARTNER_CENTER_RESOURCE,
  PartnerCenterSimulator,
  SIMULATOR_NO_COMMERCE_CUSTOMER_ID,
  type SimulatorOptions,
} from '../../local/simulator/index.js';
import { BUSY_SLACK_MS } from '../support/timing.js';

const CUSTOMER = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const NCE_ITEM = 'CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P';
const START = Date.parse('2025-03-01T12:00:00Z');

interface TokenBody {
  token_type: string;
  expires_in: string | number;
  ext_expires_in: string | number;
  expires_on?: string;
  resource?: string;
  scope?: string;
  access_token: string;
  refresh_token?: string;
}
interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
}
interface PcErrorBody {
  code: number | string;
  description: string;
  data: unknown[];
  source: string;
}

type Json = Record<string, unknown>;

function orderBody(lines: Json[] = [{ lineItemNumber: 0, offerId: NCE_ITEM, quantity: 3, termDuration: 'P1Y' }]): Json {
  return { referenceCustomerId: CUSTOMER, billingCycle: 'monthly', lineItems: lines };
}

function cartBody(lines: Json[] = [{ id: 0, catalogItemId: NCE_ITEM, quantity: 2, billingCycle: 'monthly' }]): Json {
  return { lineItems: lines };
}

/** A client bound to one simulator, with just enough plumbing to keep the tests readable. */
class Client {
  accessToken = '';

  constructor(private readonly sim: PartnerCenterSimulator) {}

  tokenRequest(
    fields: Record<string, string>,
    tenant = CREDS.tenantId,
    version: 'v1' | 'v2' = 'v1',
  ): Promise<Response> {
    const path = version === 'v1' ? 'oauth2/token' : 'oauth2/v2.0/token';
    return fetch(`${this.sim.url}/${tenant}/${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  }

  async login(): Promise<void> {
    const res = await this.tokenRequest({
      grant_type: 'client_credentials',
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
      resource: PARTNER_CENTER_RESOURCE,
    });
    expect(res.status).toBe(200);
    this.accessToken = ((await res.json()) as TokenBody).access_token;
  }

  call(
    method: string,
    path: string,
    options: { body?: unknown; requestId?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${this.accessToken}`,
      ...(options.requestId && { 'MS-RequestId': options.requestId }),
      ...options.headers,
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    return fetch(`${this.sim.url}/v1${path}`, { method, headers, body, signal: options.signal });
  }

  async json<T>(method: string, path: string, options: Parameters<Client['call']>[2] = {}): Promise<[number, T]> {
    const res = await this.call(method, path, options);
    return [res.status, (await res.json()) as T];
  }

  createOrder(body: Json = orderBody(), requestId?: string) {
    return this.json<Order>('POST', `/customers/${CUSTOMER}/orders`, { body, requestId });
  }

  async createCart(body: Json = cartBody()): Promise<Cart> {
    const [status, cart] = await this.json<Cart>('POST', `/customers/${CUSTOMER}/carts`, { body });
    expect(status).toBe(201);
    return cart;
  }

  checkout(cartId: string, requestId?: string) {
    return this.json<CartCheckoutResult>('POST', `/customers/${CUSTOMER}/carts/${cartId}/checkout`, { requestId });
  }
}

async function startSimulator(
  options: SimulatorOptions = {},
): Promise<{ sim: PartnerCenterSimulator; client: Client }> {
  const sim = new PartnerCenterSimulator(options);
  await sim.start();
  const client = new Client(sim);
  await client.login();
  return { sim, client };
}

let clock = START;
let sim: PartnerCenterSimulator;
let client: Client;

beforeAll(async () => {
  ({ sim, client } = await startSimulator({ now: () => clock }));
});

afterAll(async () => {
  await sim.stop();
});

beforeEach(() => {
  clock = START;
  sim.reset();
});

describe('Entra token endpoint', () => {
  it('issues an app-only token with the v1 response shape', async () => {
    const res = await client.tokenRequest({
      grant_type: 'client_credentials',
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
      resource: PARTNER_CENTER_RESOURCE,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await res.json()) as TokenBody;
    expect(body).toMatchObject({
      token_type: 'Bearer',
      expires_in: '3600',
      ext_expires_in: '3600',
      expires_on: String(START / 1000 + 3600),
      resource: PARTNER_CENTER_RESOURCE,
    });
    expect(body.access_token.split('.')).toHaveLength(3);
    expect(body.refresh_token).toBeUndefined();
    expect(sim.tokenRequests).toBe(1);
  });

  it('rotates refresh tokens while the previous one stays usable', async () => {
    const redeem = (refreshToken: string) =>
      client.tokenRequest({
        grant_type: 'refresh_token',
        client_id: CREDS.clientId,
        client_secret: CREDS.clientSecret,
        refresh_token: refreshToken,
        resource: PARTNER_CENTER_RESOURCE,
        scope: 'openid',
      });
    const first = await redeem(CREDS.refreshToken);
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as TokenBody;
    expect(firstBody.refresh_token).toMatch(/^sim-refresh-token-\d+$/);
    expect(firstBody.refresh_token).not.toBe(CREDS.refreshToken);

    const again = await redeem(CREDS.refreshToken);
    expect(again.status).toBe(200);
    const secondBody = (await again.json()) as TokenBody;
    expect(secondBody.refresh_token).not.toBe(firstBody.refresh_token);

    const chained = await redeem(firstBody.refresh_token ?? '');
    expect(chained.status).toBe(200);

    // A rotation by the operator invalidates every earlier refresh token.
    sim.rotateCredentials({ refreshToken: 'operator-issued' });
    for (const old of [CREDS.refreshToken, firstBody.refresh_token ?? '', secondBody.refresh_token ?? '']) {
      const res = await redeem(old);
      expect(res.status).toBe(400);
      const err = (await res.json()) as EntraErrorBody;
      expect(err.error).toBe('invalid_grant');
      expect(err.error_codes).toEqual([700082]);
      expect(err.error_description).toMatch(/^AADSTS700082: The refresh token has expired due to inactivity\./);
    }
    expect((await redeem('operator-issued')).status).toBe(200);
    sim.rotateCredentials({ refreshToken: CREDS.refreshToken });
  });

  it('supports the v2.0 endpoint with a scope', async () => {
    const res = await client.tokenRequest(
      {
        grant_type: 'client_credentials',
        client_id: CREDS.clientId,
        client_secret: CREDS.clientSecret,
        scope: `${PARTNER_CENTER_RESOURCE}/.default`,
      },
      CREDS.tenantId,
      'v2',
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as TokenBody).expires_in).toBe(3600);
  });

  it('answers credential problems like Entra, without echoing secrets', async () => {
    const base = {
      grant_type: 'client_credentials',
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
      resource: PARTNER_CENTER_RESOURCE,
    };
    const cases: Array<{
      fields: Record<string, string>;
      tenant?: string;
      status: number;
      error: string;
      code: number;
    }> = [
      {
        fields: base,
        tenant: '99999999-9999-4999-8999-999999999999',
        status: 400,
        error: 'invalid_request',
        code: 90002,
      },
      { fields: { ...base, client_secret: 'wrong-secret-value' }, status: 401, error: 'invalid_client', code: 7000215 },
      {
        fields: { ...base, resource: 'https://graph.windows.net' },
        status: 400,
        error: 'invalid_resource',
        code: 500011,
      },
      { fields: { ...base, grant_type: 'password' }, status: 400, error: 'unsupported_grant_type', code: 70003 },
      {
        fields: { ...base, grant_type: 'refresh_token', refresh_token: 'not-a-known-token' },
        status: 400,
        error: 'invalid_grant',
        code: 700082,
      },
      {
        fields: {
          ...base,
          grant_type: 'refresh_token',
          refresh_token: CREDS.refreshToken,
          client_id: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
        },
        status: 400,
        error: 'invalid_grant',
        code: 700007,
      },
    ];
    for (const c of cases) {
      const res = await client.tokenRequest(c.fields, c.tenant);
      const text = await res.text();
      expect(res.status, JSON.stringify(c)).toBe(c.status);
      const err = JSON.parse(text) as EntraErrorBody;
      expect(err.error).toBe(c.error);
      expect(err.error_codes).toEqual([c.code]);
      expect(err.error_description.startsWith(`AADSTS${c.code}:`)).toBe(true);
      for (const secret of [CREDS.clientSecret, 'wrong-secret-value', CREDS.refreshToken, 'not-a-known-token']) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('stops accepting a rotated client secret', async () => {
    sim.rotateCredentials({ clientSecret: 'next-secret' });
    try {
      const fields = { grant_type: 'client_credentials', client_id: CREDS.clientId, resource: PARTNER_CENTER_RESOURCE };
      expect((await client.tokenRequest({ ...fields, client_secret: CREDS.clientSecret })).status).toBe(401);
      expect((await client.tokenRequest({ ...fields, client_secret: 'next-secret' })).status).toBe(200);
    } finally {
      sim.rotateCredentials({ clientSecret: CREDS.clientSecret });
    }
  });
});

describe('Partner Center authorization', () => {
  it('rejects missing and unknown tokens with 401', async () => {
    const missing = await fetch(`${sim.url}/v1/customers/${CUSTOMER}/orders`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBeTruthy();
    expect(((await missing.json()) as PcErrorBody).code).toBe(800001);

    const bogus = await fetch(`${sim.url}/v1/customers/${CUSTOMER}/orders`, {
      headers: { Authorization: 'Bearer nope' },
    });
    expect(bogus.status).toBe(401);
    expect((await bogus.json()) as PcErrorBody).toMatchObject({ code: 400, description: 'Access denied' });
  });

  it('returns 401 for every token after revokeAccessTokens, until a new one is fetched', async () => {
    const local = new Client(sim);
    await local.login();
    expect((await local.call('GET', `/customers/${CUSTOMER}/orders`)).status).toBe(200);
    sim.revokeAccessTokens();
    expect((await local.call('GET', `/customers/${CUSTOMER}/orders`)).status).toBe(401);
    expect((await client.call('GET', `/customers/${CUSTOMER}/orders`)).status).toBe(401);
    await local.login();
    await client.login();
    expect((await local.call('GET', `/customers/${CUSTOMER}/orders`)).status).toBe(200);
  });

  it('expires access tokens by the injected clock', async () => {
    const local = new Client(sim);
    await local.login();
    clock += 3600 * 1000;
    expect((await local.call('GET', `/customers/${CUSTOMER}/orders`)).status).toBe(401);
    clock = START;
  });
});

describe('orders', () => {
  it('creates an order (201) with the documented shape and records it in the ledger', async () => {
    const [status, order] = await client.createOrder();
    expect(status).toBe(201);
    expect(order.id).toMatch(/^Cs_[A-Za-z0-9]{30}$/);
    expect(order).toMatchObject({
      referenceCustomerId: CUSTOMER,
      billingCycle: 'monthly',
      currencyCode: 'USD',
      currencySymbol: '$',
      creationDate: new Date(START).toISOString(),
      transactionType: 'UserPurchase',
      attributes: { objectType: 'Order' },
      links: { patchOperation: { uri: `/customers/${CUSTOMER}/orders/${order.id}`, method: 'PATCH' } },
    });
    expect(['pending', 'completed']).toContain(order.status);
    expect(order.lineItems[0]).toMatchObject({
      lineItemNumber: 0,
      offerId: NCE_ITEM,
      quantity: 3,
      termDuration: 'P1Y',
    });
    expect(order.lineItems[0]?.subscriptionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(sim.ledger.orders.map((o) => o.id)).toEqual([order.id]);

    const [getStatus, fetched] = await client.json<Order>('GET', `/customers/${CUSTOMER}/orders/${order.id}`);
    expect(getStatus).toBe(200);
    expect(fetched.id).toBe(order.id);
    const [listStatus, list] = await client.json<{ totalCount: number; items: Order[]; attributes: Json }>(
      'GET',
      `/customers/${CUSTOMER}/orders`,
    );
    expect(listStatus).toBe(200);
    expect(list).toMatchObject({ totalCount: 1, attributes: { objectType: 'Collection' } });
    const [, annual] = await client.json<{ totalCount: number }>(
      'GET',
      `/customers/${CUSTOMER}/orders?billingType=annual`,
    );
    expect(annual.totalCount).toBe(0);
  });

  it('binds PascalCase request properties like the service', async () => {
    const [status, order] = await client.createOrder({
      BillingCycle: 'Annual',
      LineItems: [{ LineItemNumber: 0, OfferId: NCE_ITEM, Quantity: 1 }],
    });
    expect(status).toBe(201);
    expect(order.billingCycle).toBe('annual');
  });

  it('validates input like the service', async () => {
    const line = { lineItemNumber: 0, offerId: NCE_ITEM, quantity: 1 };
    const cases: Array<{ body: unknown; customer?: string; status: number; code: number }> = [
      { body: orderBody([line]), customer: 'not-a-guid', status: 400, code: 900118 },
      { body: '{"lineItems": [', status: 400, code: 800002 },
      { body: orderBody([{ ...line, lineItemNumber: 1 }]), status: 400, code: 800071 },
      { body: orderBody([line, { ...line }]), status: 400, code: 800071 },
      { body: orderBody([{ lineItemNumber: 0, quantity: 1 }]), status: 400, code: 800002 },
      { body: orderBody([{ ...line, quantity: 0 }]), status: 400, code: 800002 },
      { body: orderBody([{ ...line, quantity: 1.5 }]), status: 400, code: 800002 },
      { body: { ...orderBody([line]), billingCycle: 'weekly' }, status: 400, code: 900126 },
      { body: { ...orderBody([line]), status: 'none' }, status: 400, code: 0 },
      { body: { ...orderBody([line]), creationDate: '2020-01-01' }, status: 400, code: 0 },
      { body: orderBody([{ ...line, offerId: 'CFQ:INVALID:1' }]), status: 400, code: 800004 },
      { body: orderBody([{ ...line, parentSubscriptionId: CUSTOMER }]), status: 400, code: 2000 },
      { body: orderBody([line]), customer: SIMULATOR_NO_COMMERCE_CUSTOMER_ID, status: 403, code: 20002 },
    ];
    for (const c of cases) {
      const res = await client.call('POST', `/customers/${c.customer ?? CUSTOMER}/orders`, { body: c.body });
      const err = (await res.json()) as PcErrorBody;
      expect([res.status, err.code], JSON.stringify(c.body)).toEqual([c.status, c.code]);
      expect(err.source).toBe('PartnerFD');
      expect(Array.isArray(err.data)).toBe(true);
    }
    expect(sim.ledger.orders).toHaveLength(0);
    expect((await client.createOrder(orderBody([line])))[0]).toBe(201);
  });

  it('adds an add-on by PATCHing the parent order', async () => {
    const [, order] = await client.createOrder();
    const parent = order.lineItems[0]?.subscriptionId ?? '';
    const addOn = { lineItemNumber: 0, offerId: 'ADDON-OFFER', quantity: 2, parentSubscriptionId: parent };
    const [status, patched] = await client.json<Order>('PATCH', `/customers/${CUSTOMER}/orders/${order.id}`, {
      body: { referenceCustomerId: CUSTOMER, lineItems: [addOn] },
    });
    expect(status).toBe(200);
    expect(patched.lineItems).toHaveLength(2);
    expect(patched.lineItems[1]).toMatchObject({
      lineItemNumber: 1,
      offerId: 'ADDON-OFFER',
      parentSubscriptionId: parent,
    });
    expect(sim.ledger.orders[0]?.lineItems).toHaveLength(2);

    const missingParent = await client.call('PATCH', `/customers/${CUSTOMER}/orders/${order.id}`, {
      body: { lineItems: [{ ...addOn, parentSubscriptionId: undefined }] },
    });
    expect(missingParent.status).toBe(400);
    const unknown = await client.json<PcErrorBody>('PATCH', `/customers/${CUSTOMER}/orders/Cs_missing`, {
      body: { lineItems: [addOn] },
    });
    expect(unknown).toEqual([404, expect.objectContaining({ code: 20000, description: 'Order Id not found' })]);
    const [getStatus, getBody] = await client.json<PcErrorBody>('GET', `/customers/${CUSTOMER}/orders/Cs_missing`);
    expect([getStatus, getBody.code]).toEqual([404, 20000]);
  });
});

describe('carts', () => {
  it('creates, reads and checks out a cart, idempotently per cart id', async () => {
    const cart = await client.createCart(
      cartBody([
        { id: 0, catalogItemId: NCE_ITEM, quantity: 2, billingCycle: 'monthly', termDuration: 'P1Y' },
        { id: 1, catalogItemId: 'CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ', quantity: 1, billingCycle: 'monthly' },
      ]),
    );
    expect(cart.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(cart.status).toBe('Active');
    expect(cart.attributes.objectType).toBe('Cart');
    expect(Date.parse(cart.expirationTimestamp) - Date.parse(cart.creationTimestamp)).toBe(CART_LIFETIME_MS);
    expect(cart.lineItems.map((l) => [l.orderGroup, l.currencyCode])).toEqual([
      ['0', 'USD'],
      ['0', 'USD'],
    ]);

    const [getStatus, fetched] = await client.json<Cart>('GET', `/customers/${CUSTOMER}/carts/${cart.id}`);
    expect([getStatus, fetched.id]).toEqual([200, cart.id]);

    const [status, result] = await client.checkout(cart.id);
    expect(status).toBe(201);
    expect(result.orderErrors).toEqual([]);
    expect(result.orders).toHaveLength(1);
    expect(result.orders[0]?.lineItems).toHaveLength(2);

    const [againStatus, again] = await client.checkout(cart.id);
    expect(againStatus).toBe(201);
    expect(again).toEqual(result);
    expect(sim.ledger.orders).toHaveLength(1);
    expect(sim.ledger.carts[0]?.status).toBe('Ordered');
  });

  it('replaces the lines of an Active cart with PUT, and refuses once it is Ordered', async () => {
    const cart = await client.createCart();
    const lines = [{ id: 0, catalogItemId: NCE_ITEM, quantity: 5, billingCycle: 'annual', termDuration: 'P1Y' }];
    const [status, updated] = await client.json<Cart>('PUT', `/customers/${CUSTOMER}/carts/${cart.id}`, {
      body: { ...cart, lineItems: lines },
    });
    expect(status).toBe(201);
    expect(updated.lineItems[0]).toMatchObject({ quantity: 5, billingCycle: 'annual' });
    expect(updated.expirationTimestamp).toBe(cart.expirationTimestamp);
    await client.checkout(cart.id);
    const [lateStatus, lateErr] = await client.json<PcErrorBody>('PUT', `/customers/${CUSTOMER}/carts/${cart.id}`, {
      body: { ...cart, lineItems: lines },
    });
    expect([lateStatus, lateErr.code]).toEqual([400, 800065]);
  });

  it('puts PARTIALFAIL lines in their own order group that fails at checkout', async () => {
    const cart = await client.createCart(
      cartBody([
        { id: 0, catalogItemId: NCE_ITEM, quantity: 1, billingCycle: 'monthly' },
        { id: 1, catalogItemId: 'X:PARTIALFAIL:Y', quantity: 1, billingCycle: 'monthly' },
      ]),
    );
    expect(cart.lineItems.map((l) => l.orderGroup)).toEqual(['0', '1']);
    const [status, result] = await client.checkout(cart.id);
    expect(status).toBe(201);
    expect(result.orders).toHaveLength(1);
    expect(result.orderErrors).toEqual([{ orderGroupId: '1', code: 800005, description: expect.any(String) }]);
  });

  it('validates cart lines', async () => {
    const cases: Array<{ lines: Json[]; code: number }> = [
      { lines: [{ id: 0, quantity: 1, billingCycle: 'monthly' }], code: 900142 },
      { lines: [{ id: 0, catalogItemId: NCE_ITEM, quantity: -1, billingCycle: 'monthly' }], code: 800002 },
      { lines: [{ id: 3, catalogItemId: NCE_ITEM, quantity: 1, billingCycle: 'monthly' }], code: 800071 },
      { lines: [{ id: 0, catalogItemId: NCE_ITEM, quantity: 1, billingCycle: 'fortnightly' }], code: 900126 },
      { lines: [{ id: 0, catalogItemId: 'INVALID-1', quantity: 1, billingCycle: 'monthly' }], code: 800004 },
    ];
    for (const c of cases) {
      const [status, err] = await client.json<PcErrorBody>('POST', `/customers/${CUSTOMER}/carts`, {
        body: cartBody(c.lines),
      });
      expect([status, err.code], JSON.stringify(c.lines)).toEqual([400, c.code]);
    }
    expect(sim.ledger.carts).toHaveLength(0);
  });

  it('treats a cart past its expiration as not found (404/800008)', async () => {
    const cart = await client.createCart();
    clock = START + CART_LIFETIME_MS + 1;
    await client.login(); // the earlier token expired along with the cart
    const [getStatus, getErr] = await client.json<PcErrorBody>('GET', `/customers/${CUSTOMER}/carts/${cart.id}`);
    expect([getStatus, getErr.code, getErr.description]).toEqual([404, 800008, 'Unable to retrieve cart Id']);
    const [status, err] = await client.checkout(cart.id);
    expect([status, (err as unknown as PcErrorBody).code]).toEqual([404, 800008]);
    expect(sim.ledger.orders).toHaveLength(0);
    clock = START;
    await client.login();
  });

  it('answers 409/800064 to a checkout while another one is in flight', async () => {
    const slow = await startSimulator({ latencyMs: 150 });
    try {
      const cart = await slow.client.createCart();
      const [a, b] = await Promise.all([slow.client.checkout(cart.id), slow.client.checkout(cart.id)]);
      const statuses = [a[0], b[0]].sort();
      expect(statuses).toEqual([201, 409]);
      const conflict = (a[0] === 409 ? a[1] : b[1]) as unknown as PcErrorBody;
      expect(conflict).toMatchObject({
        code: 800064,
        description: `Cart ${cart.id} is being processed by another request`,
      });
      expect(slow.sim.ledger.orders).toHaveLength(1);
    } finally {
      await slow.sim.stop();
    }
  });
});

describe('MS-RequestId', () => {
  it('echoes MS-RequestId and MS-CorrelationId, generating them when absent', async () => {
    const res = await client.call('GET', `/customers/${CUSTOMER}/orders`, {
      headers: { 'MS-RequestId': 'req-1', 'MS-CorrelationId': 'corr-1' },
    });
    expect(res.headers.get('ms-requestid')).toBe('req-1');
    expect(res.headers.get('ms-correlationid')).toBe('corr-1');
    expect(res.headers.get('ms-cv')).toBeTruthy();
    const bare = await client.call('GET', `/customers/${CUSTOMER}/orders`);
    expect(bare.headers.get('ms-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(bare.headers.get('ms-correlationid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('replays the first final answer for a repeated mutating request and creates nothing new', async () => {
    const [s1, first] = await client.createOrder(orderBody(), 'dup-1');
    const [s2, second] = await client.createOrder(orderBody(), 'dup-1');
    expect([s1, s2]).toEqual([201, 201]);
    expect(second).toEqual(first);
    expect(sim.ledger.orders).toHaveLength(1);

    // Business failures are final answers too.
    const bad = orderBody([{ lineItemNumber: 0, offerId: 'INVALID', quantity: 1 }]);
    expect((await client.createOrder(bad, 'dup-2'))[0]).toBe(400);
    expect((await client.createOrder(orderBody(), 'dup-2'))[0]).toBe(400);

    // A new MS-RequestId is a new purchase.
    expect((await client.createOrder(orderBody(), 'dup-3'))[0]).toBe(201);
    expect(sim.ledger.orders).toHaveLength(2);
  });

  it('does not replay a 401, so the retry after a token refresh is processed', async () => {
    const local = new Client(sim);
    expect((await local.createOrder(orderBody(), 'auth-1'))[0]).toBe(401);
    await local.login();
    expect((await local.createOrder(orderBody(), 'auth-1'))[0]).toBe(201);
    expect(sim.ledger.orders).toHaveLength(1);
  });

  it('makes a retry wait for a first attempt that is still in flight', async () => {
    sim.injectFault({ kind: 'delay', delayMs: 300, times: 1 });
    const first = client
      .call('POST', `/customers/${CUSTOMER}/orders`, {
        body: orderBody(),
        requestId: 'slow-1',
        signal: AbortSignal.timeout(50),
      })
      .then(
        () => 'answered',
        () => 'timed out',
      );
    expect(await first).toBe('timed out');
    const [status, order] = await client.createOrder(orderBody(), 'slow-1');
    expect(status).toBe(201);
    expect(sim.ledger.orders.map((o) => o.id)).toEqual([order.id]);
  });
});

describe('fault injection', () => {
  it('throttle: 429 with Retry-After and nothing created', async () => {
    sim.injectFault({ kind: 'throttle', retryAfterSeconds: 7, times: 1 });
    const res = await client.call('POST', `/customers/${CUSTOMER}/orders`, { body: orderBody(), requestId: 't-1' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ statusCode: 429, message: 'Rate limit is exceeded. Try again in 7 seconds.' });
    expect(sim.ledger.orders).toHaveLength(0);
    expect((await client.createOrder(orderBody(), 't-1'))[0]).toBe(201);
  });

  it('server-error and unavailable: 500/800003 and 503', async () => {
    sim.injectFault({ kind: 'server-error', times: 1 });
    sim.injectFault({ kind: 'unavailable', times: 1 });
    const [s1, e1] = await client.createOrder(orderBody(), 'e-1');
    expect([s1, (e1 as unknown as PcErrorBody).code]).toEqual([500, 800003]);
    const [s2] = await client.createOrder(orderBody(), 'e-1');
    expect(s2).toBe(503);
    expect(sim.ledger.orders).toHaveLength(0);
    expect((await client.createOrder(orderBody(), 'e-1'))[0]).toBe(201);
  });

  it('delay: answers normally after delayMs', async () => {
    sim.injectFault({ kind: 'delay', delayMs: 120, times: 1, match: { method: 'GET' } });
    const started = performance.now();
    const res = await client.call('GET', `/customers/${CUSTOMER}/orders`);
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('drop: the connection dies and nothing is committed', async () => {
    sim.injectFault({ kind: 'drop', times: 1 });
    await expect(client.createOrder(orderBody(), 'd-1')).rejects.toThrow();
    expect(sim.ledger.orders).toHaveLength(0);
    expect((await client.createOrder(orderBody(), 'd-1'))[0]).toBe(201);
    expect(sim.ledger.orders).toHaveLength(1);
  });

  it('truncate: half a JSON body, nothing committed, the retry creates exactly one order', async () => {
    sim.injectFault({ kind: 'truncate', times: 1 });
    const res = await client.call('POST', `/customers/${CUSTOMER}/orders`, { body: orderBody(), requestId: 'tr-1' });
    expect(res.status).toBe(201);
    await expect(res.json()).rejects.toThrow(SyntaxError);
    expect(sim.ledger.orders).toHaveLength(0);
    expect((await client.createOrder(orderBody(), 'tr-1'))[0]).toBe(201);
    expect(sim.ledger.orders).toHaveLength(1);
  });

  it('commit-then-drop: the order exists, and the retry with the same MS-RequestId gets it back', async () => {
    sim.injectFault({ kind: 'commit-then-drop', times: 1 });
    await expect(client.createOrder(orderBody(), 'ctd-1')).rejects.toThrow();
    expect(sim.ledger.orders).toHaveLength(1);
    const [status, order] = await client.createOrder(orderBody(), 'ctd-1');
    expect(status).toBe(201);
    expect(order.id).toBe(sim.ledger.orders[0]?.id);
    expect(sim.ledger.orders).toHaveLength(1);
  });

  it('commit-then-drop on checkout: a retry with a new MS-RequestId still gets the first result', async () => {
    const cart = await client.createCart();
    sim.injectFault({ kind: 'commit-then-drop', times: 1, match: { path: '/checkout' } });
    await expect(client.checkout(cart.id, 'co-1')).rejects.toThrow();
    expect(sim.ledger.orders).toHaveLength(1);
    const [status, result] = await client.checkout(cart.id, 'co-2');
    expect(status).toBe(201);
    expect(result.orders.map((o) => o.id)).toEqual([sim.ledger.orders[0]?.id]);
  });

  it('leaves the token endpoint alone unless a rule path matches it', async () => {
    sim.injectFault({ kind: 'server-error' });
    await client.login();
    sim.clearFaults();
    sim.injectFault({ kind: 'throttle', match: { path: /oauth2\/token/ }, times: 1 });
    const res = await client.tokenRequest({
      grant_type: 'client_credentials',
      client_id: CREDS.clientId,
      client_secret: CREDS.clientSecret,
      resource: PARTNER_CENTER_RESOURCE,
    });
    expect(res.status).toBe(429);
    expect(sim.tokenRequests).toBe(2);
  });

  it('applies probabilistic faults deterministically for a seed', async () => {
    const pattern = async (): Promise<number[]> => {
      sim.reset();
      sim.injectFault({ kind: 'server-error', probability: 0.5, match: { method: 'GET' } });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await client.call('GET', `/customers/${CUSTOMER}/orders`)).status);
      return statuses;
    };
    const first = await pattern();
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await pattern()).toEqual(first);
  });
});

describe('housekeeping', () => {
  it('answers unknown paths with 404/1000', async () => {
    const [status, err] = await client.json<PcErrorBody>('GET', '/nowhere');
    expect([status, err.code, err.description]).toEqual([404, 1000, 'Not found']);
  });

  it('records requests and resets state', async () => {
    await client.createOrder(orderBody(), 'rec-1');
    const recorded = sim.requests.at(-1);
    expect(recorded).toMatchObject({ method: 'POST', path: `/v1/customers/${CUSTOMER}/orders`, at: START });
    expect(recorded?.headers['ms-requestid']).toBe('rec-1');
    expect(JSON.parse(recorded?.body ?? '')).toEqual(orderBody());
    sim.reset();
    expect(sim.requests).toHaveLength(0);
    expect(sim.ledger.orders).toHaveLength(0);
    expect(sim.tokenRequests).toBe(0);
    // Replay records are gone too: the same MS-RequestId creates a new order.
    expect((await client.createOrder(orderBody(), 'rec-1'))[0]).toBe(201);
  });

  it('stop() returns promptly even with a request held by a long delay', async () => {
    const held = await startSimulator();
    held.sim.injectFault({ kind: 'delay', delayMs: 30_000 });
    const pending = held.client.call('GET', `/customers/${CUSTOMER}/orders`).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await held.sim.stop();
    // Not held for the 30 s delay; the slack is for a busy machine.
    expect(performance.now() - started).toBeLessThan(1_000 + BUSY_SLACK_MS);
    expect(await pending).toBe('failed');
  });
});
