// An in-memory Partner Center (and Entra token endpoint) behind a recording `fetch`, for the real
// PartnerCenterClient: every request that would leave the service is in `sent`, so a test can say "nothing was sent
// upstream". It answers like Partner Center (the lines echoed back with ids and links), never with an error.
import { randomUUID } from 'node:crypto';

export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export const FAKE_PARTNER_CENTER_URL = 'https://partner-center.fake';
export const FAKE_AUTHORITY_URL = 'https://login.fake';
/** The token every fake redemption hands out (watched by the leak check). */
export const FAKE_ACCESS_TOKEN = 'fake-access-token-0123456789abcdef';

type Line = Record<string, unknown>;

export function fakePartnerCenter() {
  const sent: SentRequest[] = [];
  const carts = new Map<string, { customerId: string; lines: Line[] }>();
  let orders = 0;

  const order = (customerId: string, id: string, lines: Line[], extra: Record<string, unknown> = {}) => ({
    id,
    referenceCustomerId: customerId,
    lineItems: lines.map((line, index) => {
      const subscriptionId = randomUUID();
      return {
        ...line,
        lineItemNumber: line.lineItemNumber ?? index,
        subscriptionId,
        links: { subscription: { uri: `/customers/${customerId}/subscriptions/${subscriptionId}`, method: 'GET' } },
      };
    }),
    status: 'pending',
    creationDate: new Date(0).toISOString(),
    attributes: { objectType: 'Order' },
    ...extra,
  });

  const answer = (method: string, url: URL, body: unknown): [number, unknown] => {
    if (url.origin === FAKE_AUTHORITY_URL) {
      return [200, { token_type: 'Bearer', expires_in: '3600', access_token: FAKE_ACCESS_TOKEN }];
    }
    const path = url.pathname;
    const b = (body ?? {}) as { lineItems?: Line[]; billingCycle?: string };
    let m = /^\/v1\/customers\/([^/]+)\/orders$/.exec(path);
    if (m && method === 'POST')
      return [201, order(decodeURIComponent(m[1] ?? ''), `Cs_fake${++orders}`, b.lineItems ?? [])];
    m = /^\/v1\/customers\/([^/]+)\/orders\/([^/]+)$/.exec(path);
    if (m && method === 'PATCH') {
      return [200, order(decodeURIComponent(m[1] ?? ''), decodeURIComponent(m[2] ?? ''), b.lineItems ?? [])];
    }
    m = /^\/v1\/customers\/([^/]+)\/carts$/.exec(path);
    if (m && method === 'POST') {
      const id = randomUUID();
      const customerId = decodeURIComponent(m[1] ?? '');
      carts.set(id, { customerId, lines: b.lineItems ?? [] });
      return [201, { id, status: 'Active', lineItems: (b.lineItems ?? []).map((l) => ({ ...l, orderGroup: '0' })) }];
    }
    m = /^\/v1\/customers\/([^/]+)\/carts\/([^/]+)$/.exec(path);
    if (m && method === 'GET') {
      // The purchase policy reads a cart back to judge its checkout: a cart nobody made here has one line.
      const id = decodeURIComponent(m[2] ?? '');
      const lines = carts.get(id)?.lines ?? [{ catalogItemId: 'unknown-cart', quantity: 1, billingCycle: 'monthly' }];
      return [200, { id, status: 'Active', lineItems: lines.map((l) => ({ ...l, orderGroup: '0' })) }];
    }
    m = /^\/v1\/customers\/([^/]+)\/carts\/([^/]+)\/checkout$/.exec(path);
    if (m && method === 'POST') {
      const cart = carts.get(decodeURIComponent(m[2] ?? ''));
      const lines = (cart?.lines ?? [{ offerId: 'unknown-cart', quantity: 1 }]).map(({ catalogItemId, ...l }) => ({
        ...l,
        offerId: catalogItemId,
      }));
      return [201, { orders: [order(decodeURIComponent(m[1] ?? ''), `Cs_fake${++orders}`, lines)], orderErrors: [] }];
    }
    return [404, { code: 1000, description: 'Not found' }];
  };

  const fetchFn = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const method = (init.method ?? 'GET').toUpperCase();
    const text = typeof init.body === 'string' ? init.body : init.body === undefined ? undefined : String(init.body);
    let body: unknown = text;
    if (text !== undefined && url.origin === FAKE_PARTNER_CENTER_URL) body = JSON.parse(text);
    sent.push({ method, url: url.toString(), headers: { ...(init.headers as Record<string, string>) }, body });
    const [status, payload] = answer(method, url, body);
    return new Response(JSON.stringify(payload), { status, headers: { 'content-type': 'application/json' } });
  };

  return { fetch: fetchFn as typeof fetch, sent };
}
