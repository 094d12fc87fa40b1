// The simulator's throttle, latency model and time scale (issue 16): a token bucket per partner tenant (or partner and
// customer) over the order and cart resources, 429 with Retry-After and the documented body, log-normal answer times,
// and a clock that runs faster without changing what is simulated.
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SIMULATOR_CREDENTIALS as CREDS, PARTNER_CENTER_RESOURCE } from '../../local/simulator/index.js';
import {
  LatencySampler,
  latencyFromEnv,
  latencyKind,
  meanMs,
  REALISTIC_LATENCY,
} from '../../local/simulator/latency.js';
import { PartnerCenterSimulator, type SimulatorOptions } from '../../local/simulator/server.js';
import { PartnerCenterThrottle, throttleFromEnv } from '../../local/simulator/throttle.js';
import { fixture } from '../support/fixtures.js';

const A = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const B = '9d2c7a61-5b3e-4f08-a1c4-6e7d8f9a0b1c';
const orders = (customer: string) => `/v1/customers/${customer}/orders`;
const NCE = 'CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P';
const PARTNER = CREDS.tenantId;

describe('PartnerCenterThrottle (token bucket)', () => {
  it('starts full, refuses past the burst with the seconds until a token is back, and refills at the rate', () => {
    const bucket = new PartnerCenterThrottle({ perMinute: 60, burst: 3 }, PARTNER);
    const t = 1_000_000;
    expect([1, 2, 3].map(() => bucket.take('POST', orders(A), t))).toEqual([undefined, undefined, undefined]);
    expect(bucket.take('POST', orders(A), t)).toBe(1); // one token a second
    expect(bucket.take('POST', orders(A), t + 999)).toBe(1);
    expect(bucket.take('POST', orders(A), t + 1000)).toBeUndefined();
    // A minute's quiet fills it up to the burst, no further.
    expect(bucket.usage(t + 600_000)).toEqual([
      { key: PARTNER, admitted: 4, refused: 2, tokens: 3, since: t, last: { at: t + 1000, tokens: 0 }, lowest: 0 },
    ]);
    const slow = new PartnerCenterThrottle({ perMinute: 6, burst: 1 }, PARTNER);
    expect(slow.take('POST', orders(A), t)).toBeUndefined();
    expect(slow.take('POST', orders(A), t)).toBe(10);
    expect(slow.take('POST', orders(A), t + 5_000)).toBe(5);
  });

  it('500 a minute per partner tenant by default: a minute’s worth at once, then 500 in the next minute', () => {
    const bucket = new PartnerCenterThrottle({}, PARTNER);
    let admitted = 0;
    for (let i = 0; i < 600; i++) if (bucket.take('POST', orders(i % 2 ? A : B), 0) === undefined) admitted++;
    expect(admitted).toBe(500);
    // One request every 60 ms for a minute: 1000 tries, 500 tokens refilled.
    for (let ms = 60; ms <= 60_000; ms += 60) if (bucket.take('POST', orders(A), ms) === undefined) admitted++;
    expect(admitted).toBe(1000);
  });

  it('scope: one bucket per partner tenant, or per partner tenant and customer', () => {
    const partner = new PartnerCenterThrottle({ perMinute: 60, burst: 1 }, PARTNER);
    expect(partner.take('POST', orders(A), 0)).toBeUndefined();
    expect(partner.take('POST', orders(B), 0)).toBe(1);
    const perCustomer = new PartnerCenterThrottle({ perMinute: 60, burst: 1, scope: 'partner+customer' }, PARTNER);
    expect(perCustomer.take('POST', orders(A), 0)).toBeUndefined();
    expect(perCustomer.take('POST', orders(B), 0)).toBeUndefined();
    expect(perCustomer.take('POST', orders(A.toUpperCase()), 0)).toBe(1); // tenant ids are case-insensitive
    expect(perCustomer.usage(0).map((u) => u.key)).toEqual([`${PARTNER}/${A}`, `${PARTNER}/${B}`]);
  });

  it('counts the throttled writes, and by default the order and cart reads too; nothing else', () => {
    const all = new PartnerCenterThrottle({}, PARTNER);
    const writes = new PartnerCenterThrottle({ counts: 'writes' }, PARTNER);
    const requests: [string, string, boolean, boolean][] = [
      ['POST', orders(A), true, true],
      ['PATCH', `${orders(A)}/Cs_1`, true, true],
      ['POST', `/v1/customers/${A}/carts`, true, true],
      ['PUT', `/v1/customers/${A}/carts/c-1`, true, true],
      ['POST', `/v1/customers/${A}/carts/c-1/checkout`, true, true],
      ['GET', orders(A), true, false],
      ['GET', `/v1/customers/${A}/carts/c-1`, true, false],
      ['GET', `/v1/customers/${A}/products/CFQ7TTC0LH18/skus`, false, false],
      ['POST', `/${PARTNER}/oauth2/token`, false, false],
    ];
    for (const [method, path, counted, countedAsWrite] of requests) {
      expect(all.keyOf(method, path) !== undefined, `${method} ${path}`).toBe(counted);
      expect(writes.keyOf(method, path) !== undefined, `${method} ${path} (writes)`).toBe(countedAsWrite);
    }
  });

  it('with chargeRefused, a refused request takes a token too: retrying at once only digs deeper', () => {
    const bucket = new PartnerCenterThrottle({ perMinute: 60, burst: 2, chargeRefused: true }, PARTNER);
    bucket.take('POST', orders(A), 0);
    bucket.take('POST', orders(A), 0);
    expect([1, 2, 3, 4].map(() => bucket.take('POST', orders(A), 0))).toEqual([2, 3, 3, 3]); // debt bounded by the burst
  });

  it('reads SIMULATOR_THROTTLE', () => {
    expect(throttleFromEnv(undefined)).toBeUndefined();
    expect(throttleFromEnv('off')).toBeUndefined();
    expect(throttleFromEnv('on')).toEqual({});
    expect(throttleFromEnv('300')).toEqual({ perMinute: 300 });
    expect(throttleFromEnv('100/customer')).toEqual({ perMinute: 100, scope: 'partner+customer' });
    expect(() => throttleFromEnv('fast')).toThrow(/SIMULATOR_THROTTLE/);
  });
});

describe('latency model', () => {
  it('draws log-normal answer times with the configured median and p99, the same for the same seed', () => {
    const sampler = new LatencySampler(REALISTIC_LATENCY, 7);
    const samples = Array.from({ length: 20_000 }, () => sampler.sample('purchase')).sort((a, b) => a - b);
    const at = (p: number) => samples[Math.floor(p * samples.length)] ?? Number.NaN;
    expect(at(0.5) / 3_000).toBeGreaterThan(0.95);
    expect(at(0.5) / 3_000).toBeLessThan(1.05);
    expect(at(0.99) / 12_000).toBeGreaterThan(0.88);
    expect(at(0.99) / 12_000).toBeLessThan(1.12);
    const mean = samples.reduce((s, v) => s + v, 0) / samples.length;
    expect(mean / meanMs(REALISTIC_LATENCY.purchase)).toBeGreaterThan(0.95);
    expect(mean / meanMs(REALISTIC_LATENCY.purchase)).toBeLessThan(1.05);
    const again = new LatencySampler(REALISTIC_LATENCY, 7);
    expect(again.sample('purchase')).toBe(new LatencySampler(REALISTIC_LATENCY, 7).sample('purchase'));
    const constant = new LatencySampler({ ...REALISTIC_LATENCY, read: { medianMs: 40, p99Ms: 40 } });
    expect(new Set(Array.from({ length: 10 }, () => constant.sample('read')))).toEqual(new Set([40]));
  });

  it('classifies purchases, carts and reads', () => {
    expect(latencyKind('POST', orders(A))).toBe('purchase');
    expect(latencyKind('PATCH', `${orders(A)}/Cs_1`)).toBe('purchase');
    expect(latencyKind('POST', `/v1/customers/${A}/carts/c-1/checkout`)).toBe('purchase');
    expect(latencyKind('POST', `/v1/customers/${A}/carts`)).toBe('cart');
    expect(latencyKind('PUT', `/v1/customers/${A}/carts/c-1`)).toBe('cart');
    expect(latencyKind('GET', orders(A))).toBe('read');
    expect(latencyFromEnv('realistic')).toBe(REALISTIC_LATENCY);
    expect(() => latencyFromEnv('slow')).toThrow(/SIMULATOR_LATENCY/);
  });
});

describe('simulator: throttled answers and time scale', () => {
  let sim: PartnerCenterSimulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  async function start(options: SimulatorOptions) {
    sim = new PartnerCenterSimulator({ dedupe: 'off', ...options });
    const url = await sim.start();
    const token = await fetch(`${url}/${CREDS.tenantId}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CREDS.clientId,
        client_secret: CREDS.clientSecret,
        resource: PARTNER_CENTER_RESOURCE,
      }),
    });
    const { access_token } = (await token.json()) as { access_token: string };
    const order = (customer = A) =>
      fetch(`${url}${orders(customer)}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ lineItems: [{ lineItemNumber: 0, offerId: NCE, quantity: 1, termDuration: 'P1Y' }] }),
      });
    return { sim, order };
  }

  it('answers 429 with Retry-After and the documented body, processes nothing, and admits again once a token is back', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const { sim, order } = await start({ throttle: { perMinute: 6, burst: 2 }, now: () => now });
    expect((await order()).status).toBe(201);
    expect((await order(B)).status).toBe(201);
    const refused = await order();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    const documented = fixture('api-throttling-guidance-response') as { statusCode: number; message: string };
    expect(await refused.json()).toEqual({ ...documented, message: documented.message.replace('57', '10') });
    expect(refused.headers.get('ms-requestid')).toBeTruthy();
    expect(sim.ledger.orders).toHaveLength(2);
    expect(sim.requests.filter((r) => r.throttled)).toHaveLength(1);
    now += 10_000;
    expect((await order()).status).toBe(201);
    expect(sim.throttleUsage).toEqual([expect.objectContaining({ admitted: 3, refused: 1 })]);
    sim.reset();
    expect(sim.throttleUsage).toEqual([]);
  });

  it('per partner and customer: one customer’s bulk does not throttle another’s', async () => {
    const { order } = await start({ throttle: { perMinute: 6, burst: 1, scope: 'partner+customer' }, now: () => 0 });
    expect((await order(A)).status).toBe(201);
    expect((await order(A)).status).toBe(429);
    expect((await order(B)).status).toBe(201);
  });

  it('time scale: answer times and the refill run that much faster; Retry-After stays in simulated seconds', async () => {
    const { order } = await start({
      timeScale: 50,
      latency: { ...REALISTIC_LATENCY, purchase: { medianMs: 1_000, p99Ms: 1_000 } },
      // A token a simulated minute (1.2 real seconds): the refusal below holds however slowly a busy machine gets
      // there, up to a real second.
      throttle: { perMinute: 1, burst: 1 },
    });
    let started = performance.now();
    expect((await order()).status).toBe(201);
    const real = performance.now() - started;
    expect(real).toBeGreaterThanOrEqual(18); // 1 s simulated / 50
    expect(real).toBeLessThan(1_000); // unscaled it would take 1 s at least: a timer never fires early
    const refused = await order();
    const simulatedSeconds = ((performance.now() - started) * 50) / 1_000;
    expect(refused.status).toBe(429);
    // In simulated seconds: what is left of the minute, given the simulated time that really passed since the token
    // was taken (at least the 1 s answer), not a guess at it.
    const seconds = Number(refused.headers.get('retry-after'));
    expect(seconds).toBeLessThanOrEqual(59);
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(60 - simulatedSeconds));
    started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, (seconds * 1_000) / 50 + 5));
    expect((await order()).status).toBe(201);
    // The refill came after the simulated seconds, in less real time than unscaled (the bound is that, not "quick", so
    // a busy machine cannot fail it: a timer never fires early).
    expect(performance.now() - started).toBeLessThan(seconds * 1_000);
  });
});
