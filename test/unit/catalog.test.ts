// The catalog pre-flight's parts on their own: the single-flight cache, the checks of one line against a SKU's
// catalog facts (each refusal kind), and where a line's fields are in each entry point's payload.
import { describe, expect, it } from 'vitest';
import { SingleFlightCache } from '../../functions/shared/catalog/cache.js';
import { checkLine, offeredTerms, type PurchaseLine, parseCatalogId } from '../../functions/shared/catalog/checks.js';
import { payloadPrefix, purchaseLines } from '../../functions/shared/catalog/preflight.js';
import type { CatalogAvailability, CatalogSku } from '../../functions/shared/schemas/catalog.js';
import { createCartCommand } from '../../functions/shared/services/carts.js';
import { orderCommand } from '../../functions/shared/services/orders.js';

describe('SingleFlightCache', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it('shares one load among concurrent gets, and keeps the answer for its lifetime from when it arrived', async () => {
    let clock = 1_000;
    const cache = new SingleFlightCache<string>({ ttlMs: 500, maxEntries: 10, now: () => clock });
    let loads = 0;
    const pending = deferred<string>();
    const load = () => {
      loads++;
      return pending.promise;
    };
    const gets = Array.from({ length: 10 }, () => cache.get('k', load));
    clock += 10_000; // a slow load: its answer's lifetime starts when it arrives, not when it was asked for
    pending.resolve('v');
    expect(await Promise.all(gets)).toEqual(Array(10).fill('v'));
    expect(loads).toBe(1);
    clock += 499;
    expect(await cache.get('k', async () => `v${++loads}`)).toBe('v');
    clock += 1;
    expect(await cache.get('k', async () => `v${++loads}`)).toBe('v2');
    expect(loads).toBe(2);
  });

  it('keeps no failure: every waiter gets it, and the next get loads again', async () => {
    const cache = new SingleFlightCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    const pending = deferred<string>();
    const first = cache.get('k', () => pending.promise);
    const second = cache.get('k', async () => 'not called');
    pending.reject(new Error('503'));
    await expect(first).rejects.toThrow('503');
    await expect(second).rejects.toThrow('503');
    expect(await cache.get('k', async () => 'again')).toBe('again');
  });

  it('holds at most maxEntries, dropping the least recently used', async () => {
    const cache = new SingleFlightCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    await cache.get('a', async () => 'a1');
    await cache.get('b', async () => 'b1');
    await cache.get('a', async () => 'a2'); // a is now the most recent
    await cache.get('c', async () => 'c1'); // b goes
    expect(cache.size).toBe(2);
    expect(await cache.get('a', async () => 'a3')).toBe('a1');
    expect(await cache.get('b', async () => 'b2')).toBe('b2');
  });

  it('with a lifetime of 0 keeps nothing, but still shares a load under way', async () => {
    const cache = new SingleFlightCache<number>({ ttlMs: 0, maxEntries: 10 });
    let loads = 0;
    const load = async () => ++loads;
    expect(await Promise.all([cache.get('k', load), cache.get('k', load)])).toEqual([1, 1]);
    expect(await cache.get('k', load)).toBe(2);
    cache.seed('k', 99);
    expect(await cache.get('k', load)).toBe(3);
  });
});

const sku = (extra: Partial<CatalogSku> = {}): CatalogSku => ({
  id: '0001',
  productId: 'CFQ7TTC0LH18',
  title: 'Microsoft 365 Business Basic',
  minimumQuantity: 1,
  maximumQuantity: 300,
  isTrial: false,
  supportedBillingCycles: ['monthly', 'annual'],
  ...extra,
});
const availability = (extra: Partial<CatalogAvailability> = {}): CatalogAvailability => ({
  id: 'CFQ7TTC0K59S',
  catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
  isPurchasable: true,
  product: { id: 'CFQ7TTC0LH18', title: 'Microsoft 365 Business Basic' },
  terms: [
    { duration: 'P1M', billingCycle: 'monthly' },
    { duration: 'P1Y', billingCycle: 'monthly' },
    { duration: 'P1Y', billingCycle: 'annual' },
  ],
  ...extra,
});
const ID = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';
const ids = parseCatalogId(ID) as NonNullable<ReturnType<typeof parseCatalogId>>;
const cartLine = (extra: Partial<PurchaseLine> = {}): PurchaseLine => ({
  path: '/lineItems/0',
  idField: 'catalogItemId',
  id: ID,
  quantity: 5,
  termDuration: 'P1Y',
  billingCycle: 'annual',
  billingCyclePath: '/lineItems/0/billingCycle',
  billingCycleDefaulted: false,
  ...extra,
});
const facts = (s = sku(), a = [availability()]) => ({ sku: s, availabilities: a });
const check = (line: PurchaseLine, f = facts()) => checkLine(line, parseCatalogId(line.id) ?? ids, f);

describe('checkLine', () => {
  it('accepts a line the catalog offers, and reports the facts it used', () => {
    expect(check(cartLine())).toEqual({
      errors: [],
      catalog: {
        productTitle: 'Microsoft 365 Business Basic',
        skuTitle: 'Microsoft 365 Business Basic',
        isTrial: false,
        isPurchasable: true,
        terms: [
          { termDuration: 'P1M', billingCycles: ['monthly'] },
          { termDuration: 'P1Y', billingCycles: ['monthly', 'annual'] },
        ],
        minimumQuantity: 1,
        maximumQuantity: 300,
      },
    });
    // Any case of the term and of the billing cycle, as Partner Center reads them.
    expect(check(cartLine({ termDuration: 'p1y', billingCycle: 'Annual' })).errors).toEqual([]);
  });

  it.each([
    [
      'the SKU is not in the customer catalog',
      cartLine(),
      { sku: { notFound: true, code: '1000', description: 'Not found' }, availabilities: [] },
      '/lineItems/0/catalogItemId',
      /product CFQ7TTC0LH18 SKU 0001 is not in this customer's catalog \(Partner Center: 1000 Not found\)/,
    ],
    [
      'the availability is not in it (with the id to use now)',
      cartLine({ id: 'CFQ7TTC0LH18:0001:CFQ7TTC0OLD1' }),
      facts(),
      '/lineItems/0/catalogItemId',
      /availability CFQ7TTC0OLD1 .* is not in this customer's catalog .*purchasable now: CFQ7TTC0LH18:0001:CFQ7TTC0K59S/,
    ],
    [
      'the availability is not purchasable',
      cartLine(),
      facts(sku(), [availability({ isPurchasable: false })]),
      '/lineItems/0/catalogItemId',
      /is not purchasable for this customer \(isPurchasable: false\); it has no purchasable availability now/,
    ],
    [
      'the term is not one of the availability',
      cartLine({ termDuration: 'P3Y' }),
      facts(),
      '/lineItems/0/termDuration',
      /P3Y is not a term of availability CFQ7TTC0K59S of Microsoft 365 Business Basic \(CFQ7TTC0LH18:0001\) \(terms: P1M, P1Y\)/,
    ],
    [
      'the term is missing',
      cartLine({ termDuration: undefined }),
      facts(),
      '/lineItems/0/termDuration',
      /is required: availability CFQ7TTC0K59S .* is sold with terms P1M, P1Y/,
    ],
    [
      'the billing cycle is not offered for the term',
      cartLine({ termDuration: 'P1M', billingCycle: 'annual' }),
      facts(),
      '/lineItems/0/billingCycle',
      /billing cycle annual is not offered for term P1M .* \(offered: monthly\)/,
    ],
    [
      "an order's default billing cycle is not offered (named as the default, on the order)",
      {
        ...cartLine({ termDuration: 'P1Y', billingCycle: 'monthly' }),
        billingCyclePath: '/billingCycle',
        billingCycleDefaulted: true,
      },
      facts(sku(), [availability({ terms: [{ duration: 'P1Y', billingCycle: 'annual' }] })]),
      '/billingCycle',
      /billing cycle absent, so Partner Center's default monthly applies is not offered for term P1Y/,
    ],
    [
      'the quantity is under the minimum',
      cartLine({ quantity: 4 }),
      facts(sku({ minimumQuantity: 5 })),
      '/lineItems/0/quantity',
      /must be at least 5 for Microsoft 365 Business Basic \(CFQ7TTC0LH18:0001\) \(minimumQuantity 5\)/,
    ],
    [
      'the quantity is over the maximum',
      cartLine({ quantity: 301 }),
      facts(),
      '/lineItems/0/quantity',
      /must be at most 300 .*\(maximumQuantity 300\)/,
    ],
    [
      'a trial is not billed none',
      cartLine({ termDuration: 'P1M', billingCycle: 'monthly' }),
      facts(sku({ isTrial: true, supportedBillingCycles: ['none'] }), [
        availability({ terms: [{ duration: 'P1M', billingCycle: 'none' }] }),
      ]),
      '/lineItems/0/billingCycle',
      /is a trial SKU \(isTrial: true\), billed with billingCycle none; got monthly/,
    ],
  ])('refuses when %s, naming the field and the fact', (_, line, f, path, message) => {
    const { errors } = check(line, f as ReturnType<typeof facts>);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe(path);
    expect(errors[0]?.message).toMatch(message);
  });

  it('names every problem of a line at once', () => {
    const { errors } = check(cartLine({ termDuration: 'P3Y', quantity: 500 }));
    expect(errors.map((e) => e.path)).toEqual(['/lineItems/0/termDuration', '/lineItems/0/quantity']);
  });

  it("falls back on the SKU's billing cycles for terms that name none, and for availabilities without terms", () => {
    const noCycles = availability({ terms: [{ duration: 'P1Y' }] });
    expect(offeredTerms(noCycles, sku())).toEqual([{ termDuration: 'P1Y', billingCycles: ['monthly', 'annual'] }]);
    const noTerms = facts(sku({ supportedBillingCycles: ['one_time'] }), [availability({ terms: [] })]);
    expect(check(cartLine({ termDuration: undefined, billingCycle: 'one_time' }), noTerms).errors).toEqual([]);
    expect(check(cartLine({ termDuration: undefined, billingCycle: 'monthly' }), noTerms).errors[0]?.message).toMatch(
      /billing cycle monthly is not supported .* \(supportedBillingCycles: one_time\)/,
    );
  });
});

describe('the lines of a purchase', () => {
  it('are catalog ids productId:skuId:availabilityId; anything else is passed unchecked', () => {
    expect(parseCatalogId(ID)).toEqual({ productId: 'CFQ7TTC0LH18', skuId: '0001', availabilityId: 'CFQ7TTC0K59S' });
    for (const legacy of ['031C9E47-4802-4248-838E-778FB1D2CC05', 'MS-AZR-0145P', 'A:B', 'A:B:C:D', ':B:C']) {
      expect(parseCatalogId(legacy), legacy).toBeUndefined();
    }
  });

  it('are found where each entry point has its payload', () => {
    expect(payloadPrefix('/headers/idempotency-key')).toBe('/body');
    expect(payloadPrefix('/detail/idempotencyKey')).toBe('/detail');
    expect(payloadPrefix('/idempotencyKey')).toBe('');
  });

  it('carry the order billing cycle (or its default) and the cart line billing cycle', () => {
    const customerId = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
    const order = orderCommand({ customerId, lineItems: [{ offerId: ID, quantity: 5, termDuration: 'P1Y' }] });
    expect(purchaseLines(order)).toEqual([
      {
        path: '/lineItems/0',
        idField: 'offerId',
        id: ID,
        quantity: 5,
        termDuration: 'P1Y',
        billingCycle: 'monthly',
        billingCyclePath: '/billingCycle',
        billingCycleDefaulted: true,
      },
    ]);
    const addOn = orderCommand({
      customerId,
      orderId: 'Cs_1',
      billingCycle: 'annual',
      lineItems: [{ offerId: ID, quantity: 1, parentSubscriptionId: customerId }],
    });
    expect(purchaseLines(addOn)[0]).toMatchObject({ billingCycle: 'annual', billingCycleDefaulted: false });
    const cart = createCartCommand(customerId, {
      lineItems: [
        { catalogItemId: 'MS-AZR-0145P', quantity: 1, billingCycle: 'monthly' },
        { catalogItemId: ID, quantity: 2, billingCycle: 'annual', termDuration: 'P1Y' },
      ],
    });
    expect(purchaseLines(cart).map((l) => [l.path, l.billingCyclePath, l.billingCycle])).toEqual([
      ['/lineItems/0', '/lineItems/0/billingCycle', 'monthly'],
      ['/lineItems/1', '/lineItems/1/billingCycle', 'annual'],
    ]);
  });
});
