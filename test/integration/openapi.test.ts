import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { routes } from '../../functions/shared/routes.js';
import { CustomerPath, IdempotencyKeyHeaders } from '../../functions/shared/schemas/ids.js';
import { openApiEndpoint } from '../../local/openapi-endpoint.js';
import packageJson from '../../package.json' with { type: 'json' };
import {
  buildOpenApi,
  caseInsensitivePattern,
  OPENAPI_FILE,
  renderOpenApi,
  requestComponents,
  routeDocs,
} from '../../scripts/openapi.js';

// biome-ignore lint/suspicious/noExplicitAny: the document is arbitrary JSON, read by walking it
type Json = any;

const doc: Json = buildOpenApi();
const PROBLEM_STATUSES = ['400', '403', '404', '409', '413', '415', '422', '429', '500', '502', '503', '504'];
const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const NCE = 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S';

/** Resolves a local JSON pointer (`#/components/schemas/Order`) in the document. */
function resolve(ref: string): Json {
  expect(ref.startsWith('#/'), ref).toBe(true);
  let node: Json = doc;
  for (const segment of ref.slice(2).split('/')) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    expect(node !== null && typeof node === 'object' && Object.hasOwn(node, key), `${ref} resolves`).toBe(true);
    node = node[key];
  }
  return node;
}

const deref = (node: Json): Json => (node && typeof node.$ref === 'string' ? deref(resolve(node.$ref)) : node);

function* walk(node: Json, path = '#'): Generator<[string, Json]> {
  if (node === null || typeof node !== 'object') return;
  yield [path, node];
  for (const [key, value] of Object.entries(node)) yield* walk(value, `${path}/${key}`);
}

const ANNOTATIONS = new Set(['description', 'examples', 'title', 'default', 'format']);
const typeOf = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? 'number' : typeof value;

/**
 * A small JSON Schema 2020-12 validator for the keywords this document uses. It throws on any other keyword, so a
 * new construct in the generated schemas is noticed here rather than silently ignored.
 */
function valid(schema: Json, value: unknown): boolean {
  if (schema === true || schema === undefined) return true;
  if (schema === false) return false;
  return Object.entries(schema).every(([keyword, arg]: [string, Json]) => {
    const object = value as Record<string, unknown>;
    switch (keyword) {
      case '$ref':
        return valid(resolve(arg), value);
      case 'type':
        return (Array.isArray(arg) ? arg : [arg]).some((t: string) =>
          t === 'integer' ? Number.isInteger(value) : typeOf(value) === t,
        );
      case 'enum':
        return arg.some((v: unknown) => JSON.stringify(v) === JSON.stringify(value));
      case 'const':
        return JSON.stringify(arg) === JSON.stringify(value);
      case 'properties':
        return (
          typeOf(value) !== 'object' ||
          Object.entries(arg).every(([key, sub]) => !Object.hasOwn(object, key) || valid(sub, object[key]))
        );
      case 'required':
        return typeOf(value) !== 'object' || arg.every((key: string) => Object.hasOwn(object, key));
      case 'additionalProperties':
        return (
          typeOf(value) !== 'object' ||
          Object.keys(object)
            .filter((key) => !Object.hasOwn(schema.properties ?? {}, key))
            .every((key) => valid(arg, object[key]))
        );
      case 'propertyNames':
        return typeOf(value) !== 'object' || Object.keys(object).every((key) => valid(arg, key));
      case 'maxProperties':
        return typeOf(value) !== 'object' || Object.keys(object).length <= arg;
      case 'items':
        return !Array.isArray(value) || value.every((item) => valid(arg, item));
      case 'minItems':
        return !Array.isArray(value) || value.length >= arg;
      case 'maxItems':
        return !Array.isArray(value) || value.length <= arg;
      case 'minimum':
        return typeof value !== 'number' || value >= arg;
      case 'maximum':
        return typeof value !== 'number' || value <= arg;
      case 'exclusiveMaximum':
        return typeof value !== 'number' || value < arg;
      case 'minLength':
        return typeof value !== 'string' || [...value].length >= arg;
      case 'maxLength':
        return typeof value !== 'string' || [...value].length <= arg;
      case 'pattern':
        return typeof value !== 'string' || new RegExp(arg, 'u').test(value);
      case 'anyOf':
        return arg.some((sub: Json) => valid(sub, value));
      case 'oneOf':
        return arg.filter((sub: Json) => valid(sub, value)).length === 1;
      case 'allOf':
        return arg.every((sub: Json) => valid(sub, value));
      case 'not':
        return !valid(arg, value);
      default:
        if (ANNOTATIONS.has(keyword)) return true;
        throw new Error(`the test validator does not know the keyword ${keyword}`);
    }
  });
}

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]: [string, Json]) =>
    Object.entries(item).map(([method, operation]: [string, Json]) => ({ path, method, operation })),
  );

/**
 * The purchase operations; the read-only ones (credentials check, catalog search, and after the purchase the order's
 * and cart's status and GET /purchases/{key}) take no dry run, key or body.
 */
const READ_ONLY = [
  'checkCredentials',
  'searchCatalog',
  'getOrderStatus',
  'getCart',
  'getPurchase',
  'checkCustomer',
  'listOrders',
  'listSubscriptions',
  'getSubscription',
  'mcp',
  'mcpEventStream',
];
const purchases = () => operations().filter((o) => !READ_ONLY.includes(o.operation.operationId));

const bodySchema = (path: string, method: string) =>
  doc.paths[path][method].requestBody.content['application/json'].schema;

describe('openapi.json', () => {
  it('is the generated document (run `npm run openapi` after changing routes or schemas)', () => {
    const file = readFileSync(OPENAPI_FILE, 'utf8');
    expect(file === renderOpenApi(), 'openapi.json is stale: run `npm run openapi`').toBe(true);
    expect(JSON.parse(file)).toEqual(doc);
  });

  it('is generated deterministically', () => {
    expect(renderOpenApi()).toBe(renderOpenApi());
  });

  it('is an OpenAPI 3.1 document', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: 'partner-orders', version: packageJson.version });
    expect(doc.info.description).toEqual(expect.any(String));
    expect(doc.servers.map((s: Json) => s.url)).toEqual([
      'http://127.0.0.1:3000',
      'https://{apiId}.execute-api.{region}.amazonaws.com',
    ]);
    for (const server of doc.servers) {
      for (const name of server.url.match(/\{(\w+)\}/g) ?? []) {
        expect(server.variables[name.slice(1, -1)].default).toEqual(expect.any(String));
      }
    }
    expect(doc.security).toEqual([{ sigv4: [] }]);
    expect(doc.components.securitySchemes.sigv4).toMatchObject({
      type: 'apiKey',
      name: 'Authorization',
      in: 'header',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
    expect(doc.components.securitySchemes.sigv4.description).toContain('Signature Version 4');
    expect(Object.keys(doc.components.schemas).sort()).toEqual(
      [
        'AddOnRequest',
        'Cart',
        'CartCheckoutResult',
        'CartLineItemInput',
        'CartStatus',
        'CatalogSearchResult',
        'CreateCartRequest',
        'CreateCartWithCheckoutResult',
        'CreateOrderRequest',
        'CredentialsReport',
        'CustomerCheck',
        'DryRunResult',
        'Order',
        'OrderList',
        'SubscriptionList',
        'OrderLineItemInput',
        'OrderStatus',
        'PreflightReport',
        'Problem',
        'PurchasesAnswer',
        'SubscriptionAnswer',
      ].sort(),
    );
    for (const [path, node] of walk(doc)) {
      // zod's standalone-document keywords do not belong inside an OpenAPI document.
      expect(node.$schema, path).toBeUndefined();
      expect(node.$id, path).toBeUndefined();
    }
  });

  it('resolves every $ref', () => {
    const refs = [...walk(doc)].filter(([, node]) => typeof node.$ref === 'string');
    expect(refs.length).toBeGreaterThan(20);
    for (const [path, node] of refs) expect(resolve(node.$ref), path).toBeDefined();
  });

  it('has every route of the route table, with its method, and nothing else', () => {
    expect(operations()).toHaveLength(routes.length);
    for (const route of routes) {
      const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.summary).toBe(route.summary);
      const declared = operation.parameters.map(deref).filter((p: Json) => p.in === 'path');
      const templated = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(declared.map((p: Json) => p.name)).toEqual(templated);
      for (const parameter of declared) {
        expect(parameter).toMatchObject({ required: true, schema: { type: 'string' } });
        expect(parameter.description).toEqual(expect.any(String));
      }
    }
    expect(operations().map((o) => o.operation.operationId)).toEqual([
      'createOrder',
      'listOrders',
      'addOnToOrder',
      'getOrderStatus',
      'createCart',
      'checkoutCart',
      'checkCredentials',
      'searchCatalog',
      'getCart',
      'checkCustomer',
      'listSubscriptions',
      'getPurchase',
      'getSubscription',
      'cancelSubscription',
      'reduceSeats',
      'changeAutoRenew',
      'scheduleRenewalChange',
      'cancelScheduledChange',
      'mcp',
      'mcpEventStream',
    ]);
  });

  it('documents dryRun, Idempotency-Key and MS-CorrelationId on every purchase, and only MS-CorrelationId on the check', () => {
    const check = operations().find((o) => o.operation.operationId === 'checkCredentials')?.operation;
    expect(check.parameters.map(deref).map((p: Json) => p.name)).toEqual(['MS-CorrelationId']);
    expect(check.requestBody).toBeUndefined();
    for (const { path, operation } of purchases()) {
      const parameters = operation.parameters.map(deref);
      const byName = (name: string) => parameters.find((p: Json) => p.name === name);
      expect(byName('dryRun'), path).toMatchObject({ in: 'query', schema: { enum: ['true', 'false'] } });
      expect(byName('Idempotency-Key'), path).toMatchObject({
        in: 'header',
        required: false,
        schema: { type: 'string', allOf: [{ pattern: '^[\\x20-\\x7E]{1,255}$' }, { pattern: '^[^,]*$' }] },
      });
      expect(byName('MS-CorrelationId'), path).toMatchObject({ in: 'header', required: false });
    }
    const key = deref({ $ref: '#/components/parameters/IdempotencyKey' }).schema;
    for (const value of ['order-2024-06-01 #1', 'x'.repeat(255), '', 'é', 'tab\there', 'x'.repeat(256), 'a1,a2']) {
      const byZod = IdempotencyKeyHeaders.safeParse({ 'idempotency-key': value }).success;
      expect(valid(key, value), JSON.stringify(value)).toBe(byZod);
    }
    const correlation = deref({ $ref: '#/components/parameters/CorrelationId' }).schema;
    expect(valid(correlation, CUSTOMER.toUpperCase())).toBe(true);
    expect(valid(correlation, 'not-a-guid')).toBe(false);
  });

  it('gives the credentials check its report on 200 and 503, and the problems otherwise', () => {
    const { responses } = operations().find((o) => o.operation.operationId === 'checkCredentials')?.operation ?? {};
    for (const status of ['200', '503']) {
      expect(responses[status].content['application/json'].schema).toEqual({
        $ref: '#/components/schemas/CredentialsReport',
      });
    }
    for (const status of PROBLEM_STATUSES.filter((s) => s !== '503')) {
      expect(deref(responses[status]).content['application/problem+json'].schema).toEqual({
        $ref: '#/components/schemas/Problem',
      });
    }
  });

  it('gives every purchase its success, dry-run and problem responses', () => {
    for (const { path, method, operation } of purchases()) {
      const where = `${method} ${path}`;
      const responses = operation.responses;
      for (const status of PROBLEM_STATUSES) {
        const response = deref(responses[status]);
        expect(response, `${where} ${status}`).toBeDefined();
        expect(response.content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
        expect(response.headers['MS-CorrelationId']).toBeDefined();
      }
      const success = Object.keys(responses).filter((status) => status.startsWith('2'));
      expect(success.length, where).toBeGreaterThan(0);
      for (const status of success) {
        expect(responses[status].headers).toHaveProperty('MS-CorrelationId');
        expect(responses[status].headers).toHaveProperty('Idempotent-Replayed');
      }
      const dryRun = responses['200'].content['application/json'].schema;
      const alternatives = dryRun.oneOf ?? [dryRun];
      expect(alternatives).toContainEqual({ $ref: '#/components/schemas/DryRunResult' });
    }
    const statuses = (operationId: string) =>
      Object.keys(operations().find((o) => o.operation.operationId === operationId)?.operation.responses ?? {});
    expect(statuses('createOrder')).toContain('201');
    expect(statuses('addOnToOrder')).not.toContain('201');
    expect(statuses('createCart')).toContain('201');
    expect(statuses('checkoutCart')).not.toContain('201');
    expect(deref(doc.components.responses.TooManyRequests).headers).toHaveProperty('Retry-After');
    expect(doc.paths['/customers/{customerId}/carts/{cartId}/checkout'].post.requestBody.required).toBe(false);
  });

  it('tells a dry-run answer apart from a real one (oneOf)', () => {
    const dryRun = {
      dryRun: true,
      requests: [{ method: 'POST', url: 'https://api.partnercenter.microsoft.com/v1/x', headers: {}, body: {} }],
    };
    const checkout = { orders: [{ id: 'o1', lineItems: [] }], orderErrors: [] };
    const cart = { id: 'c1', lineItems: [] };
    const response = (path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status].content['application/json'].schema;
    const checkout200 = response('/customers/{customerId}/carts/{cartId}/checkout', 'post', '200');
    expect(valid(checkout200, dryRun)).toBe(true);
    expect(valid(checkout200, checkout)).toBe(true);
    const addOn200 = response('/customers/{customerId}/orders/{orderId}', 'patch', '200');
    expect(valid(addOn200, dryRun)).toBe(true);
    expect(valid(addOn200, { id: 'o1' })).toBe(true);
    const cart201 = response('/customers/{customerId}/carts', 'post', '201');
    expect(valid(cart201, cart)).toBe(true);
    expect(valid(cart201, { cart, checkout })).toBe(true);
  });

  it('agrees with the zod schemas on request bodies, except the documented line-number rules', () => {
    const line = { offerId: NCE, quantity: 5, termDuration: 'P1Y' };
    const addOn = { offerId: NCE, quantity: 1, parentSubscriptionId: CUSTOMER };
    const samples: [string, unknown][] = [
      ['a valid order', { lineItems: [line], billingCycle: 'monthly' }],
      ['another spelling of a billing cycle', { lineItems: [line], billingCycle: 'OneTime' }],
      [
        'an unknown billing cycle (zod only: it is a plain string in JSON Schema)',
        { lineItems: [line], billingCycle: 'weekly' },
      ],
      ['an unknown field', { lineItems: [{ ...line, quantiy: 1 }] }],
      ['quantity 0', { lineItems: [{ ...line, quantity: 0 }] }],
      ['a fractional quantity', { lineItems: [{ ...line, quantity: 1.5 }] }],
      ['a bad offer id', { lineItems: [{ ...line, offerId: 'x' }] }],
      ['an upper-case legacy offer GUID', { lineItems: [{ ...line, offerId: CUSTOMER.toUpperCase() }] }],
      ['no line items', { lineItems: [] }],
      ['101 line items', { lineItems: Array.from({ length: 101 }, () => line) }],
      ['a bad term duration', { lineItems: [{ ...line, termDuration: '1 year' }] }],
      [
        '51 provisioning context entries',
        {
          lineItems: [
            { ...line, provisioningContext: Object.fromEntries([...Array(51).keys()].map((i) => [`k${i}`, 'v'])) },
          ],
        },
      ],
      ['an add-on line on POST', { lineItems: [addOn] }],
      [
        'duplicate line numbers',
        {
          lineItems: [
            { ...line, lineItemNumber: 0 },
            { ...line, lineItemNumber: 0 },
          ],
        },
      ],
      ['line numbers on some lines only', { lineItems: [{ ...line, lineItemNumber: 0 }, line] }],
    ];
    const expressedOnlyInWords = new Set([
      'an unknown billing cycle (zod only: it is a plain string in JSON Schema)',
      'duplicate line numbers',
      'line numbers on some lines only',
    ]);
    const check = (name: keyof typeof requestComponents, path: string, method: string, list: [string, unknown][]) => {
      const zodSchema = requestComponents[name] as z.ZodMiniType;
      const schema = bodySchema(path, method);
      for (const [title, body] of list) {
        const byZod = zodSchema.safeParse(body).success;
        const byJsonSchema = valid(schema, body);
        if (expressedOnlyInWords.has(title)) {
          expect([byZod, byJsonSchema], `${name}: ${title}`).toEqual([false, true]);
        } else {
          expect(byJsonSchema, `${name}: ${title}`).toBe(byZod);
        }
      }
    };
    check('CreateOrderRequest', '/customers/{customerId}/orders', 'post', samples);
    check('AddOnRequest', '/customers/{customerId}/orders/{orderId}', 'patch', [
      ['an add-on', { lineItems: [addOn] }],
      [
        'an add-on with an upper-case parentSubscriptionId',
        { lineItems: [{ ...addOn, parentSubscriptionId: CUSTOMER.toUpperCase() }] },
      ],
      ['a line without parentSubscriptionId', { lineItems: [addOn, line] }],
    ]);
    const cartLine = { catalogItemId: NCE, quantity: 5, billingCycle: 'monthly' };
    check('CreateCartRequest', '/customers/{customerId}/carts', 'post', [
      ['a cart', { lineItems: [cartLine], checkout: true }],
      ['participants', { lineItems: [{ ...cartLine, participants: [{ key: 'TransactionReseller', value: '123' }] }] }],
      [
        'a bad participant id',
        { lineItems: [{ ...cartLine, participants: [{ key: 'transaction_reseller', value: 'x' }] }] },
      ],
      ['no billing cycle', { lineItems: [{ catalogItemId: NCE, quantity: 5 }] }],
      [
        'duplicate line numbers',
        {
          lineItems: [
            { ...cartLine, id: 1 },
            { ...cartLine, id: 1 },
          ],
        },
      ],
    ]);
    const checkout = bodySchema('/customers/{customerId}/carts/{cartId}/checkout', 'post');
    expect([valid(checkout, {}), valid(checkout, { force: true })]).toEqual([true, false]);
  });

  it('documents in words what JSON Schema cannot say', () => {
    const schemas = doc.components.schemas;
    expect(schemas.CreateOrderRequest.description).toContain('lineItemNumber');
    expect(schemas.CreateOrderRequest.description).toContain('parentSubscriptionId');
    expect(schemas.AddOnRequest.description).toContain('parentSubscriptionId');
    expect(schemas.CreateCartRequest.description).toContain('`id`');
    expect(schemas.CreateOrderRequest.properties.billingCycle.description).toContain('one_time');
    expect(schemas.CreateOrderRequest.properties.billingCycle.examples).toContain('one_time');
  });

  it('matches path parameters as the zod path schemas do, GUIDs in any case', () => {
    const customerId = doc.paths['/customers/{customerId}/orders'].post.parameters[0].schema;
    for (const value of [CUSTOMER, CUSTOMER.toUpperCase(), 'not-a-guid', `${CUSTOMER}0`]) {
      expect(valid(customerId, value), value).toBe(CustomerPath.safeParse({ customerId: value }).success);
    }
  });

  it('has examples that their schemas accept', () => {
    const found = [...walk(doc)].filter(
      ([path, node]) => Array.isArray(node.examples) && !path.endsWith('/properties'),
    );
    expect(found.length).toBeGreaterThan(0);
    for (const [path, node] of found) {
      for (const example of node.examples) expect(valid(node, example), `${path}: ${example}`).toBe(true);
    }
    const badRequest = doc.components.responses.BadRequest.content['application/problem+json'];
    expect(valid(badRequest.schema, badRequest.example)).toBe(true);
  });

  it('documents every route of the table (routeDocs is keyed by RouteKey)', () => {
    expect(Object.keys(routeDocs).sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });
});

describe('caseInsensitivePattern', () => {
  it('lists both cases where /i did', () => {
    expect(caseInsensitivePattern('^[0-9a-f]{4}$')).toBe('^[0-9a-fA-F]{4}$');
    expect(caseInsensitivePattern('^ab\\d[A-Za-z_-]$')).toBe('^[aA][bB]\\d[A-Za-z_-]$');
    expect(caseInsensitivePattern('[^x]')).toBe('[^xX]');
    expect(() => caseInsensitivePattern('\\u00e9')).toThrow(/cannot rewrite/);
    expect(() => caseInsensitivePattern('[0-z]')).toThrow(/cannot rewrite/);
  });
});

describe('GET /openapi.json on the local server', () => {
  it('serves the generated document', async () => {
    const result = await openApiEndpoint('GET', new URL('http://x/openapi.json'), Buffer.alloc(0));
    expect(result?.statusCode).toBe(200);
    expect(result?.headers?.['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(result?.body))).toEqual(doc);
  });

  it('leaves every other request to the route table', async () => {
    expect(await openApiEndpoint('GET', new URL('http://x/openapi.yaml'), Buffer.alloc(0))).toBeUndefined();
    expect(await openApiEndpoint('GET', new URL('http://x/customers/openapi.json'), Buffer.alloc(0))).toBeUndefined();
    expect(await openApiEndpoint('POST', new URL('http://x/openapi.json'), Buffer.alloc(0))).toBeUndefined();
  });
});
