// The HTTP stack parses a JSON body with JSON.parse and then walks it once (functions/shared/json-text.ts): no
// reviver on the hot path. Property: whatever the body — plain, with a `__proto__` or `constructor` key spelled out,
// with it spelled with \u escapes, or not JSON at all — forbidden keys are refused with a 400 naming the key's own
// path, malformed JSON with a 400 naming /body, and nothing reaches the operation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../functions/create-order/handler.js';
import type { HttpDependencies } from '../../functions/shared/http.js';
import { KEYS_OPTIONAL } from '../support/commands.js';
import { httpEvent, lambdaContext } from '../support/events.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
let sent = 0;
const deps = {
  partnerCenter: {
    // An order is a cart and its checkout (services/orders.ts): a cart, then the order its checkout placed.
    send: async (request: { path: string }) => {
      sent++;
      const body = request.path.endsWith('/checkout') ? { orders: [{ id: 'Cs_1' }] } : { id: 'Cs_1' };
      return { status: 201, body, ids: { requestId: 'r', correlationId: 'c' }, attempts: 1 };
    },
    describe: () => ({ method: 'POST', url: 'u', headers: {} }),
  },
  maxRequestMs: 29_000,
  deadlineMarginMs: 1_000,
  ...KEYS_OPTIONAL,
} as unknown as HttpDependencies;
const handler = createHandler(deps);
const post = (rawBody: string) =>
  handler(
    httpEvent('POST /customers/{customerId}/orders', { pathParameters: { customerId: CUSTOMER }, rawBody }),
    lambdaContext(),
  );
const line = '{"offerId":"CFQ7TTC0LH18:0001:CFQ7TTC0K59S","quantity":1}';
/** Spellings of a key that JSON.parse reads as the same key. */
const escaped = (key: string) =>
  fc
    .array(fc.boolean(), { minLength: key.length, maxLength: key.length })
    .map((flags) =>
      [...key].map((c, i) => (flags[i] ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join(''),
    );

describe('the JSON body fast path', () => {
  it('accepts a plain body', async () => {
    const before = sent;
    expect((await post(`{"lineItems":[${line}]}`)).statusCode).toBe(201);
    expect(sent).toBe(before + 2); // create-cart, checkout
  });

  it('refuses __proto__ and constructor keys however they are spelled, anywhere in the body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(escaped('__proto__'), escaped('constructor')), fc.boolean(), async (key, nested) => {
        const forbidden = `"${key}":{"prototype":{"x":1}}`;
        const body = nested
          ? `{"lineItems":[{"offerId":"CFQ7TTC0LH18:0001:CFQ7TTC0K59S","quantity":1,${forbidden}}]}`
          : `{"lineItems":[${line}],${forbidden}}`;
        const before = sent;
        const result = await post(body);
        expect(result.statusCode).toBe(400);
        const name = JSON.parse(`"${key}"`) as string;
        expect(JSON.parse(result.body ?? '{}').errors).toEqual([
          { path: nested ? `/body/lineItems/0/${name}` : `/body/${name}`, message: 'must not be used as a key' },
        ]);
        expect(sent).toBe(before);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses malformed JSON with the same 400 as before', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 20 }), async (tail) => {
        const body = `{"lineItems":[${line}]${tail}`;
        let valid = true;
        try {
          JSON.parse(body);
        } catch {
          valid = false;
        }
        fc.pre(!valid);
        const result = await post(body);
        expect(result.statusCode).toBe(400);
        expect(JSON.parse(result.body ?? '{}').errors).toEqual([{ path: '/body', message: 'is not valid JSON' }]);
      }),
      { numRuns: 100 },
    );
  });
});
