// The schemas run compiled (z.compile, functions/shared/validation.ts `compiled`) from their second use on. Property:
// for any input — the documented samples, the samples with one value replaced, removed or added, and arbitrary JSON —
// the compiled schema answers exactly as zod/mini's interpreter does: the same success, the same value, the same
// issues. A compiled schema that accepted more, or normalised differently, would weaken validation unseen.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { SAMPLE } from '../../bench/bodies.js';
import {
  Cart,
  CartCheckoutResult,
  CartCommandPayload,
  CheckoutRequest,
  CreateCartRequest,
} from '../../functions/shared/schemas/carts.js';
import {
  CartPath,
  CustomerPath,
  DryRunQuery,
  IdempotencyKeyHeaders,
  OrderPath,
} from '../../functions/shared/schemas/ids.js';
import { AddOnRequest, CreateOrderRequest, Order, OrderCommandPayload } from '../../functions/shared/schemas/orders.js';
import { compiled } from '../../functions/shared/validation.js';

const CUSTOMER = '4a8c3e2d-1b6f-4C7E-9d2a-5f0e1b3c7a90';
const orderLine = { offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 5, termDuration: 'P1Y', friendlyName: 'x' };
const cartLine = {
  catalogItemId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S',
  quantity: 5,
  billingCycle: 'OneTime',
  termDuration: 'P1Y',
  participants: [{ key: 'transaction_reseller', value: '1234567' }],
  provisioningContext: { scope: 'shared' },
};

/** Each schema that runs compiled, with inputs it accepts as they are. */
const cases: [string, z.ZodMiniType, unknown[]][] = [
  [
    'CreateOrderRequest',
    CreateOrderRequest,
    [{ lineItems: [orderLine, { ...orderLine, quantity: 1 }], billingCycle: 'Monthly' }],
  ],
  [
    'AddOnRequest',
    AddOnRequest,
    [
      {
        lineItems: [{ ...orderLine, parentSubscriptionId: '1c2b75c1-74a5-472a-a729-7f8cefc477f9', lineItemNumber: 0 }],
      },
    ],
  ],
  ['OrderCommandPayload', OrderCommandPayload, [{ customerId: CUSTOMER, lineItems: [orderLine] }]],
  ['CreateCartRequest', CreateCartRequest, [{ lineItems: [cartLine], checkout: true }]],
  ['CartCommandPayload', CartCommandPayload, [{ customerId: CUSTOMER, lineItems: [cartLine] }]],
  ['CheckoutRequest', CheckoutRequest, [{}]],
  ['CustomerPath', CustomerPath, [{ customerId: CUSTOMER }]],
  ['OrderPath', OrderPath, [{ customerId: CUSTOMER, orderId: 'Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1' }]],
  ['CartPath', CartPath, [{ customerId: CUSTOMER, cartId: CUSTOMER }]],
  ['DryRunQuery', DryRunQuery, [{}, { dryRun: 'true' }]],
  ['IdempotencyKeyHeaders', IdempotencyKeyHeaders, [{}, { 'idempotency-key': '"order-1"', host: 'x' }]],
  ['Order', Order, [SAMPLE.order, SAMPLE.addOn]],
  ['Cart', Cart, [SAMPLE.cart]],
  ['CartCheckoutResult', CartCheckoutResult, [SAMPLE.checkout]],
];

type Json = unknown;
/** Every path to a value inside `value`, the root included. */
const pathsOf = (value: Json, prefix: (string | number)[] = []): (string | number)[][] => {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
};
const edit = (
  value: Json,
  path: (string | number)[],
  change: (parent: Record<string | number, Json>, key: string | number) => void,
): Json => {
  const copy = structuredClone(value) as Record<string | number, Json>;
  if (path.length === 0) return copy;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  change(parent, path.at(-1) as string | number);
  return copy;
};

/** Near misses of a valid input (one value replaced, removed or added) and arbitrary JSON. */
const inputs = (samples: unknown[]) => {
  const sample = fc.constantFrom(...samples);
  const variant = sample.chain((base) => {
    const paths = pathsOf(base);
    const at = fc.constantFrom(...paths);
    return fc.oneof(
      fc.constant(base),
      fc.tuple(at, fc.jsonValue({ maxDepth: 2 })).map(([path, v]) =>
        path.length === 0
          ? v
          : edit(base, path, (p, k) => {
              p[k] = v;
            }),
      ),
      at.map((path) =>
        edit(base, path, (p, k) => {
          if (Array.isArray(p)) p.splice(Number(k), 1);
          else delete p[k];
        }),
      ),
      fc.tuple(at, fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })).map(([path, key, v]) =>
        edit(base, path, (p, k) => {
          const target = p[k];
          if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, Json>)[key] = v;
        }),
      ),
    );
  });
  return fc.oneof({ weight: 4, arbitrary: variant }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
};

describe('compiled schemas answer as the interpreter does', () => {
  for (const [name, schema, samples] of cases) {
    it(name, () => {
      compiled(schema); // first use: the interpreter itself
      const fast = compiled(schema);
      expect(fast).not.toBe(schema);
      for (const sample of samples) expect(fast.safeParse(sample).success).toBe(true);
      fc.assert(
        fc.property(inputs(samples), (input) => {
          const expected = schema.safeParse(input);
          const actual = fast.safeParse(input);
          expect(actual.success).toBe(expected.success);
          if (expected.success) expect(actual.data).toEqual(expected.data);
          else expect(actual.error?.issues).toEqual(expected.error.issues);
        }),
        { numRuns: 300 },
      );
    });
  }
});
