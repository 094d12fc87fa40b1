// Who can reach the local server (local/host-guard.ts, docs/local.md): requests for another Host (DNS rebinding: a web
// page's own name resolving to 127.0.0.1) and requests from another site's page (its Origin) are refused before any
// handler runs, so nothing reaches Partner Center; and `npm start` refuses to run allow-all against a real upstream.
import { execFile } from 'node:child_process';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApp } from '../../local/app.js';
import { hostGuard, isLoopback, parseAllowedHosts } from '../../local/host-guard.js';
import { chooseLocalPolicy } from '../../local/policy-choice.js';
import { type Stack, startStack } from '../support/stack.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const ORDER = JSON.stringify({
  lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, termDuration: 'P1Y' }],
});

/** A request with the headers a browser would send (fetch cannot set Host). */
function send(port: number, headers: Record<string, string>, body = ORDER) {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/customers/${CUSTOMER}/orders`,
        headers: { 'content-type': 'application/json', 'idempotency-key': `guard-${Math.random()}`, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the local server answers only requests meant for it', () => {
  let stack: Stack;
  let port: number;
  const upstream = () => stack.simulator.requests.filter((r) => r.path.startsWith('/v1/')).length;

  beforeAll(async () => {
    stack = await startStack({ idempotency: {} });
    port = Number(new URL(stack.url).port);
  });
  afterAll(() => stack.stop());

  it('DNS rebinding: a request whose Host is another name gets 421, and nothing reaches the simulator', async () => {
    const before = upstream();
    const refused = await send(port, { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` });
    expect(refused.status).toBe(421);
    expect(refused.json).toMatchObject({ type: 'urn:partner-orders:problem:host-not-allowed', status: 421 });
    expect(String(refused.json.detail)).toContain('ALLOWED_HOSTS');
    expect(upstream()).toBe(before);
  });

  it('a request from another site’s page (its Origin) gets 403 even with a loopback Host, nothing sent', async () => {
    const before = upstream();
    for (const origin of ['https://attacker.example', 'null', 'file://', 'http://127.0.0.1.attacker.example']) {
      const refused = await send(port, { host: `127.0.0.1:${port}`, origin });
      expect(refused.status, origin).toBe(403);
      expect(refused.json).toMatchObject({ type: 'urn:partner-orders:problem:origin-not-allowed' });
    }
    expect(upstream()).toBe(before);
  });

  it('loopback in every spelling is served, with or without a same-machine Origin', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `127.1.2.3:${port}`, `[::1]:${port}`, 'localhost']) {
      const placed = await send(port, { host, origin: `http://localhost:${port}` });
      expect(placed.status, host).toBe(201);
    }
    expect((await send(port, { host: `127.0.0.1:${port}` })).status).toBe(201);
  });

  it('a name the developer configured (ALLOWED_HOSTS) is served; others still are not', async () => {
    const server: Server = createLocalApp(stack.deps, { allowedHosts: parseAllowedHosts('orders.dev.internal:3000') });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const own = (server.address() as AddressInfo).port;
      expect((await send(own, { host: `orders.dev.internal:${own}` })).status).toBe(201);
      expect((await send(own, { host: `127.0.0.1:${own}`, origin: `https://orders.dev.internal:${own}` })).status).toBe(
        201,
      );
      expect((await send(own, { host: 'other.dev.internal' })).status).toBe(421);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });

  it('reads the Host and Origin strictly', () => {
    const guard = hostGuard([]);
    expect(guard({ host: undefined })?.status).toBe(421);
    expect(guard({ host: '127.0.0.1:3000@attacker.example' })?.status).toBe(421);
    expect(guard({ host: '[::1]x' })?.status).toBe(421);
    expect(guard({ host: 'LOCALHOST:3000' })).toBeUndefined();
    expect(guard({ host: 'localhost:3000', origin: 'http://app.localhost:5173' })).toBeUndefined();
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
  });
});

describe('npm start refuses allow-all against anything but its simulator', () => {
  it('chooses allow-all only for the simulator unless told, and says what to set', () => {
    expect(chooseLocalPolicy({}, { simulator: true })).toBe('allow-all');
    expect(() => chooseLocalPolicy({}, { simulator: false, url: 'https://api.partnercenter.microsoft.com' })).toThrow(
      /LOCAL_POLICY=deployed .* LOCAL_POLICY=allow-all/s,
    );
    expect(chooseLocalPolicy({ LOCAL_POLICY: 'allow-all' }, { simulator: false })).toBe('allow-all');
    expect(chooseLocalPolicy({ LOCAL_POLICY: 'deployed' }, { simulator: false })).toBe('deployed');
    expect(chooseLocalPolicy({ LOCAL_POLICY: 'deployed' }, { simulator: true })).toBe('deployed');
    expect(() => chooseLocalPolicy({ LOCAL_POLICY: 'permissive' }, { simulator: true })).toThrow(/one of/);
  });

  it('as a process: exits 2 with the message before starting anything', async () => {
    const main = fileURLToPath(new URL('../../local/main.ts', import.meta.url));
    const failure = await promisify(execFile)(process.execPath, ['--import', 'tsx', main], {
      env: {
        ...process.env,
        PARTNER_CENTER_URL: 'https://api.partnercenter.microsoft.com',
        PARTNER_CENTER_CREDENTIALS: '{}',
        LOCAL_POLICY: '',
        PORT: '0',
      },
      timeout: 60_000,
    }).catch((error: { code?: number; stderr?: string; stdout?: string }) => error);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('does not run the allow-all policy') });
    expect((failure as { stdout?: string }).stdout ?? '').not.toContain('listening');
  }, 70_000);
});
