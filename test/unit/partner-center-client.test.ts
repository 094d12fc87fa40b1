import { describe, expect, it } from 'vitest';
import type { AccessToken } from '../../functions/shared/auth.js';
import { PartnerCenterError, UpstreamUnavailableError } from '../../functions/shared/errors.js';
import {
  PartnerCenterClient,
  type PartnerCenterClientOptions,
  retryAfterSeconds,
} from '../../functions/shared/partner-center/client.js';

interface Seen {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

type Reply = Response | Error | 'hang';

/** A fetch that answers from a script and records what it was sent. */
function scripted(replies: Reply[]) {
  const seen: Seen[] = [];
  const fetch: typeof globalThis.fetch = (async (url: string, init: RequestInit) => {
    seen.push({
      url,
      method: String(init.method),
      headers: init.headers as Record<string, string>,
      body: init.body as string,
    });
    const reply = replies.shift() ?? new Response('{}', { status: 200 });
    if (reply === 'hang') {
      return new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }
    if (reply instanceof Error) throw reply;
    return reply;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, seen };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

function tokens() {
  let n = 0;
  const rejected: AccessToken[] = [];
  return {
    rejected,
    get: async (options?: { rejected?: AccessToken }) => {
      if (options?.rejected) rejected.push(options.rejected);
      n += 1;
      return { value: `token-${n}`, expiresAt: Date.now() + 3_600_000, mode: 'app-only' as const };
    },
  };
}

function client(replies: Reply[], extra: Partial<PartnerCenterClientOptions> = {}) {
  const { fetch, seen } = scripted(replies);
  const sleeps: number[] = [];
  const source = tokens();
  const pc = new PartnerCenterClient({
    baseUrl: 'https://pc.test',
    tokens: source,
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { pc, seen, sleeps, tokens: source };
}

const call = { correlationId: '11111111-1111-4111-8111-111111111111', deadline: Date.now() + 60_000 };
const order = { method: 'POST' as const, path: '/v1/customers/c/orders', body: { lineItems: [] } };

describe('PartnerCenterClient', () => {
  it('sends the documented headers and camelCase JSON', async () => {
    const { pc, seen } = client([json(201, { id: 'o1' })]);
    const response = await pc.send(order, call);
    expect(response).toMatchObject({ status: 201, body: { id: 'o1' }, attempts: 1 });
    const [request] = seen;
    expect(request?.url).toBe('https://pc.test/v1/customers/c/orders');
    expect(request?.headers).toMatchObject({
      Authorization: 'Bearer token-1',
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'MS-CorrelationId': call.correlationId,
      'MS-Contract-Version': 'v1',
    });
    expect(request?.headers['MS-RequestId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(request?.body ?? '')).toEqual({ lineItems: [] });
  });

  it('retries 5xx and transport failures with the same MS-RequestId', async () => {
    const { pc, seen, sleeps } = client([
      json(500, { code: 800003 }),
      new TypeError('fetch failed'),
      json(503, {}),
      json(201, { id: 'o1' }),
    ]);
    const response = await pc.send(order, call);
    expect(response.attempts).toBe(4);
    expect(new Set(seen.map((s) => s.headers['MS-RequestId'])).size).toBe(1);
    expect(sleeps).toHaveLength(3);
    expect(sleeps[1]).toBeGreaterThan(sleeps[0] ?? 0);
  });

  it('uses the MS-RequestId it is given', async () => {
    const { pc, seen } = client([json(201, { id: 'o1' })]);
    const response = await pc.send(order, { ...call, requestId: 'fixed-id' });
    expect(seen[0]?.headers['MS-RequestId']).toBe('fixed-id');
    expect(response.ids.requestId).toBe('fixed-id');
  });

  it('retries an attempt that times out, and a 2xx whose body is cut', async () => {
    const { pc, seen } = client(['hang', new Response('{"id":"o', { status: 201 }), json(201, { id: 'o1' })], {
      attemptTimeoutMs: 20,
    });
    const response = await pc.send(order, call);
    expect(response.attempts).toBe(3);
    expect(new Set(seen.map((s) => s.headers['MS-RequestId'])).size).toBe(1);
  });

  it.each([400, 403, 404, 409, 412])('never retries %i and reports code and description', async (status) => {
    const { pc, seen } = client([
      json(status, { code: 800002, description: 'Invalid request input', data: [], source: 'PartnerFD' }),
    ]);
    const error = await pc.send(order, call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerCenterError);
    expect(error).toMatchObject({ status, code: '800002', description: 'Invalid request input' });
    expect(seen).toHaveLength(1);
  });

  it('waits Retry-After on 429, then succeeds', async () => {
    const { pc, sleeps } = client([
      json(
        429,
        { statusCode: 429, message: 'Rate limit is exceeded. Try again in 2 seconds.' },
        { 'retry-after': '2' },
      ),
      json(201, { id: 'o1' }),
    ]);
    await expect(pc.send(order, call)).resolves.toMatchObject({ attempts: 2 });
    expect(sleeps).toEqual([2000]);
  });

  it('backs off exponentially on 429 after 429, honouring Retry-After; without one, 1 s first; the error says only what Partner Center said', async () => {
    const throttled = (retryAfter?: string) =>
      json(
        429,
        { statusCode: 429, message: 'Rate limit is exceeded.' },
        retryAfter === undefined ? {} : { 'retry-after': retryAfter },
      );
    const { pc, sleeps } = client([throttled(), throttled('1'), throttled('3'), json(201, { id: 'o1' })]);
    await expect(pc.send(order, call)).resolves.toMatchObject({ attempts: 4 });
    expect(sleeps).toEqual([1000, 2000, 4000]);
    const again = client([throttled(), throttled(), throttled(), throttled()]);
    const error = await again.pc.send(order, call).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: undefined });
    expect(again.sleeps).toEqual([1000, 2000, 4000]);
  });

  it('gives up on 429 when Retry-After runs past the deadline, saying how long to wait', async () => {
    const { pc, seen } = client([
      json(429, { statusCode: 429, message: 'Try again in 57 seconds.' }, { 'retry-after': '57' }),
    ]);
    const error = await pc.send(order, { ...call, deadline: Date.now() + 5_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 57, description: 'Try again in 57 seconds.' });
    expect(seen).toHaveLength(1);
  });

  it('bounds all retries by the deadline', async () => {
    const { pc, seen } = client(
      Array.from({ length: 10 }, () => json(500, {})),
      {
        maxAttempts: 10,
        baseDelayMs: 1000,
        sleep: (ms) => new Promise((r) => setTimeout(r, ms / 100)),
      },
    );
    const error = await pc.send(order, { ...call, deadline: Date.now() + 2500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartnerCenterError);
    expect(seen.length).toBeLessThan(4);
  });

  it('reports an unreachable upstream after its attempts', async () => {
    const { pc, seen } = client(Array.from({ length: 4 }, () => new TypeError('fetch failed')));
    const error = await pc.send(order, call).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ timedOut: false, attempts: 4 });
    expect(seen).toHaveLength(4);
  });

  it('on 401 asks for a new token once, rejecting the old one, and retries once', async () => {
    const {
      pc,
      seen,
      tokens: source,
    } = client([json(401, { code: 800001, description: 'Access denied' }), json(201, { id: 'o1' })]);
    await expect(pc.send(order, call)).resolves.toMatchObject({ status: 201 });
    expect(source.rejected.map((t) => t.value)).toEqual(['token-1']);
    expect(seen.map((s) => s.headers.Authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(seen[0]?.headers['MS-RequestId']).toBe(seen[1]?.headers['MS-RequestId']);

    const twice = client([json(401, {}), json(401, {})]);
    await expect(twice.pc.send(order, call)).rejects.toMatchObject({ status: 401 });
    expect(twice.seen).toHaveLength(2);
  });

  it('describes a request without its token', () => {
    const { pc } = client([]);
    const described = pc.describe(order, { correlationId: call.correlationId });
    expect(described).toMatchObject({ method: 'POST', url: 'https://pc.test/v1/customers/c/orders', body: order.body });
    expect(described.headers.Authorization).toBe('Bearer [redacted]');
  });

  it('reads Retry-After as seconds or a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('57', now)).toBe(57);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10);
    expect(retryAfterSeconds(null, now)).toBe(1);
    expect(retryAfterSeconds('soon', now)).toBe(1);
  });
});
