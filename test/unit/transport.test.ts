// functions/shared/transport.ts against a loopback server: what the Partner Center client and the token redemption
// rely on of `fetch` (docs/performance.md, "Cold start": fetch's undici is not loaded at all).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFetch } from '../../functions/shared/transport.js';

let server: Server;
let base: string;
const seen: { method?: string; headers?: IncomingMessage['headers']; body?: string }[] = [];

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      seen.push({ method: request.method ?? '', headers: request.headers, body });
      const path = request.url ?? '/';
      if (path === '/json') {
        response.writeHead(201, { 'content-type': 'application/json', 'retry-after': '7' });
        response.end(JSON.stringify({ echoed: body }));
      } else if (path === '/redirect') {
        response.writeHead(302, { location: 'http://elsewhere.invalid/' });
        response.end();
      } else if (path === '/slow') {
        setTimeout(() => response.end('late'), 2_000);
      } else if (path === '/cut') {
        // Promises 100 bytes, sends 5, then drops the connection.
        response.writeHead(200, { 'content-length': '100' });
        response.write('{"a":');
        setTimeout(() => response.socket?.destroy(), 20);
      } else {
        response.writeHead(404);
        response.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('nodeFetch', () => {
  it('sends method, headers and body, and answers status, headers and the body', async () => {
    const response = await nodeFetch(`${base}/json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'MS-RequestId': 'r-1' },
      body: '{"x":1}',
    });
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get('Retry-After')).toBe('7');
    expect(response.headers.get('x-absent')).toBeNull();
    expect(await response.json()).toEqual({ echoed: '{"x":1}' });
    expect(new TextDecoder().decode(await response.arrayBuffer())).toBe(await response.text());
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"x":1}' });
    expect(seen.at(-1)?.headers).toMatchObject({ 'ms-requestid': 'r-1', 'content-length': '7' });
  });

  it('sends a form as its text', async () => {
    await nodeFetch(`${base}/json`, { method: 'POST', body: new URLSearchParams({ a: '1', b: 'x y' }) });
    expect(seen.at(-1)?.body).toBe('a=1&b=x+y');
  });

  it('answers a redirect instead of following it (a token must not go elsewhere)', async () => {
    const response = await nodeFetch(`${base}/redirect`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.ok).toBe(false);
  });

  it("rejects with the signal's reason when aborted: a timeout stays a TimeoutError", async () => {
    const controller = new AbortController();
    const pending = nodeFetch(`${base}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), 20);
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(
      nodeFetch(`${base}/slow`, { signal: AbortSignal.abort(new DOMException('gone', 'TimeoutError')) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('rejects with the socket error code when nothing listens (a request never sent)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(nodeFetch(`http://127.0.0.1:${port}/`, {})).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects a body cut short rather than answering part of it', async () => {
    await expect(nodeFetch(`${base}/cut`, {})).rejects.toBeInstanceOf(Error);
  });

  it('refuses a scheme that is not http(s)', async () => {
    await expect(nodeFetch('file:///etc/passwd', {})).rejects.toBeInstanceOf(TypeError);
  });
});

describe('nodeFetch: a connection that fails once it was open', () => {
  // ECONNREFUSED, EHOSTUNREACH… say "never sent" (partner-center/client.ts `neverSent`) only while the connection was
  // never made. Linux reports an ICMP unreachable received on an open TCP connection as that connection's error (the
  // retransmission gives up with the soft error): the request's bytes may then have reached Partner Center.
  it.each([
    ['a new connection', false],
    ['a kept-alive connection reused', true],
  ])(
    'a checkout whose connection (%s) failed with EHOSTUNREACH after the request was written is ambiguous, not re-sent',
    async (_, reused) => {
      const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
      const { PartnerCenterClient } = await import('../../functions/shared/partner-center/client.js');
      const { AmbiguousAttemptError } = await import('../../functions/shared/errors.js');
      const received: string[] = [];
      let arrived: () => void = () => undefined;
      const target = createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          if (request.method === 'GET') {
            response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
            return;
          }
          received.push(request.headers['ms-requestid'] as string);
          // The first checkout is read and left unanswered; any second one would be answered as placed.
          if (received.length === 1) arrived();
          else response.writeHead(201, { 'content-type': 'application/json' }).end('{"orders":[{"id":"o-2"}]}');
        });
      });
      await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
      const sockets: import('node:net').Socket[] = [];
      const onSocket = (message: unknown) => sockets.push((message as { socket: import('node:net').Socket }).socket);
      subscribe('net.client.socket', onSocket);
      // Node's global agent keeps connections alive: after the read, the checkout goes out on the read's socket.
      try {
        const client = new PartnerCenterClient({
          baseUrl: url,
          tokens: { get: async () => ({ value: 't', expiresAt: Date.now() + 3_600_000, mode: 'app+user' as const }) },
          sleep: async () => undefined,
          baseDelayMs: 1,
        });
        const call = { correlationId: 'c', requestId: 'r-1', deadline: Date.now() + 10_000 };
        if (reused) await client.send({ method: 'GET', path: '/v1/customers/c/carts/x' }, call);
        const socketsBefore = sockets.length;
        let attempts = 0;
        const pending = client.send(
          { method: 'POST', path: '/v1/customers/c/carts/x/checkout', body: {} },
          {
            ...call,
            purchase: {
              beforeAttempt: async () => {
                attempts++;
              },
            },
          },
        );
        pending.catch(() => undefined);
        await new Promise<void>((resolve) => {
          arrived = resolve;
        });
        // A reused connection opened no new socket.
        expect(sockets.length).toBe(reused ? socketsBefore : socketsBefore + 1);
        sockets.at(-1)?.destroy(Object.assign(new Error('read EHOSTUNREACH'), { code: 'EHOSTUNREACH' }));
        await expect(pending).rejects.toBeInstanceOf(AmbiguousAttemptError);
        expect(received).toEqual(['r-1']);
        expect(attempts).toBe(1);
      } finally {
        unsubscribe('net.client.socket', onSocket);
        target.closeAllConnections();
        await new Promise((resolve) => target.close(resolve));
      }
    },
  );
});
