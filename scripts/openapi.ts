// The OpenAPI 3.1 document of the API, built from the route table (`functions/shared/routes.ts`) and the zod schemas
// the handlers validate with: no payload schema is written twice. `npm run openapi` writes it to `openapi.json`; a
// test fails when that file is stale, and the local server serves it at `GET /openapi.json`.
//
// JSON Schema comes from zod's own conversion (`z.toJSONSchema`): request bodies and path parameters with
// `io: 'input'` (what a caller sends, before the pipes normalise it), responses with `io: 'output'`. What zod cannot
// carry over is handled here, keyed by schema, and fails the generation when a new case appears undocumented:
// - regex flags: JSON Schema patterns have none, so `/i` patterns (GUIDs) are rewritten to list both cases;
// - normalised enums (`billingCycle`, `participants[].key`): on the input side only the raw string is checkable, so
//   the accepted values are added as a description and examples;
// - refine/superRefine checks are not converted at all: each is documented in `refinements` below, and expressed
//   in JSON Schema where it can be exactly.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as z from 'zod/mini';
import { MAX_SEARCH_PRODUCTS } from '../functions/shared/catalog/search.js';
import type { DescribedRequest } from '../functions/shared/partner-center/client.js';
import { PROBLEM_CONTENT_TYPE, type Problem as ProblemShape } from '../functions/shared/problem.js';
import { type RouteKey, routeKey, routes } from '../functions/shared/routes.js';
import {
  Cart,
  CartCheckoutResult,
  CartLineItemInput,
  CheckoutRequest,
  CreateCartRequest,
} from '../functions/shared/schemas/carts.js';
import { CatalogQuery, CatalogSearchResult, PreflightReport } from '../functions/shared/schemas/catalog.js';
import { guid, MAX_BODY_BYTES, MAX_LINE_ITEMS, provisioningContext } from '../functions/shared/schemas/common.js';
import { CredentialsReport, NoPathParameters } from '../functions/shared/schemas/health.js';
import {
  CartPath,
  CustomerPath,
  DryRunQuery,
  IdempotencyKeyHeaders,
  OrderPath,
} from '../functions/shared/schemas/ids.js';
import {
  CartStatus,
  CustomerCheck,
  NoQuery,
  OrderList,
  OrderStatus,
  OrdersListQuery,
  PurchasePath,
  PurchasesAnswerSchema,
  SubscriptionList,
  SubscriptionsListQuery,
} from '../functions/shared/schemas/lifecycle.js';
import { AddOnRequest, CreateOrderRequest, Order, OrderLineItemInput } from '../functions/shared/schemas/orders.js';
import type { DryRunResult as DryRunShape } from '../functions/shared/services/context.js';
import {
  AutoRenewRequest,
  CancelRequest,
  ReduceRequest,
  ScheduleRequest,
  SubscriptionAnswer,
  SubscriptionPath,
  WindowsSchema,
} from '../functions/shared/subscriptions/schemas.js';
import packageJson from '../package.json' with { type: 'json' };

export const OPENAPI_FILE = new URL('../openapi.json', import.meta.url);

type JsonSchema = z.core.JSONSchema.BaseSchema;
type Io = 'input' | 'output';

// ---------------------------------------------------------------------------------------------------------------
// Response shapes that exist only as TypeScript types in functions/ (problem.ts, services/context.ts). They are
// checked against those types below, so the document cannot drift from what the code returns.

const FieldErrorSchema = z.object({
  path: z.string().check(z.describe('JSON pointer into the request, prefixed by /path, /query, /headers or /body.')),
  message: z.string(),
});

const ProblemSchema = z.looseObject({
  type: z
    .string()
    .check(
      z.regex(/^urn:partner-orders:problem:[a-z][a-z-]*$/),
      z.describe('urn:partner-orders:problem:{kind}; the kinds are listed with each response status.'),
    ),
  title: z.string(),
  status: z.int().check(z.gte(400), z.lte(599)),
  detail: z.string(),
  errors: z.optional(
    z
      .array(FieldErrorSchema)
      .check(
        z.describe(
          'Every bad field of the request (validation problems); for catalog-mismatch, every field the catalog does not offer, with the catalog fact.',
        ),
      ),
  ),
  upstream: z.optional(
    z
      .object({
        status: z.optional(z.int().check(z.gte(100), z.lte(599))),
        code: z.optional(z.string()),
        description: z.optional(z.string()),
        requestId: z.string().check(z.describe('The MS-RequestId sent to Partner Center.')),
        correlationId: z.string(),
      })
      .check(z.describe("Partner Center's answer, when the problem comes from Partner Center.")),
  ),
  earlier: z.optional(
    z
      .object({
        idempotencyKey: z.string(),
        caller: z.string(),
        orderIds: z.array(z.string()),
        at: z.string().check(z.describe('When the earlier purchase was answered (ISO 8601).')),
      })
      .check(z.describe('possible-duplicate: the earlier purchase of the same lines, within DUPLICATE_WINDOW_HOURS.')),
  ),
  cartId: z.optional(
    z
      .string()
      .check(
        z.describe(
          'Set when a cart was created but its checkout did not complete (with an Idempotency-Key, a retry with the ' +
            'same key checks out this cart), and when every order group of its checkout failed.',
        ),
      ),
  ),
  orderErrors: z.optional(
    z
      .array(z.unknown())
      .check(z.describe("checkout-failed: Partner Center's reasons, one per order group that placed no order.")),
  ),
  retryAfterSeconds: z.optional(z.number()),
  refundWindow: z.optional(
    z
      .object({
        kind: z.enum(['cancel', 'reduce']),
        refundableUntil: z.nullable(z.string()),
        removableSeats: z.optional(z.number()),
        seatWindows: z.optional(WindowsSchema.shape.seatWindows),
        requestedSeats: z.optional(z.number()),
        source: z.enum(['partner-center', 'derived']),
      })
      .check(z.describe('outside-refund-window: the window the change is outside of.')),
  ),
  alternative: z.optional(
    z.string().check(z.describe('outside-refund-window: what can be done instead (schedule it for renewal).')),
  ),
  policy: z.optional(
    z
      .object({
        decision: z.literal('deny'),
        action: z.string().check(z.describe('The Cedar action refused: CreateOrder, AddOn, CreateCart, CheckoutCart.')),
        principal: z
          .string()
          .check(z.describe('The caller as the policies name it, e.g. PartnerOrders::Role::"arn:…".')),
        policies: z
          .array(z.string())
          .check(z.describe('The @id of each deciding policy; empty when no policy permits the purchase.')),
      })
      .check(z.describe("policy-denied: the purchase policy's refusal (docs/authorization.md).")),
  ),
});

const DescribedRequestSchema = z.object({
  method: z.enum(['GET', 'POST', 'PATCH', 'PUT']),
  url: z.string(),
  headers: z.record(z.string(), z.string()).check(z.describe('The headers that would be sent, the token redacted.')),
  body: z.optional(z.unknown()),
});

const DryRunResultSchema = z.object({
  dryRun: z.literal(true),
  requests: z.array(DescribedRequestSchema),
  idempotency: z.optional(
    z
      .enum(['new', 'replay', 'mismatch', 'in-progress', 'resume'])
      .check(
        z.describe(
          'With an Idempotency-Key: what the real request would do now (replay the stored answer, 422, 409, buy, or ' +
            '`resume`: an earlier attempt may have placed it, and the request checks out the same cart again).',
        ),
      ),
  ),
  storedStatus: z.optional(z.number().check(z.describe('For a replay: the status of the stored answer.'))),
  preflight: z.optional(PreflightReport),
  authorization: z.optional(
    z
      .object({
        decision: z.literal('allow'),
        principal: z.string(),
        actions: z.array(z.enum(['CreateOrder', 'AddOn', 'CreateCart', 'CheckoutCart'])),
        policies: z.array(z.string()).check(z.describe('The @id of each permit that allowed it.')),
      })
      .check(z.describe("The purchase policy's verdict; a refused dry run is answered 403 policy-denied instead.")),
  ),
});

/** `POST /customers/{customerId}/carts` with `checkout: true`: the cart and its checkout result, as they are. */
const CreateCartWithCheckoutResult = z.object({ cart: Cart, checkout: CartCheckoutResult });

type KnownKeys<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;
type Output<S extends z.core.$ZodType> = KnownKeys<z.output<S>>;
const drift: [
  Same<Output<typeof ProblemSchema>, ProblemShape>,
  Same<z.output<typeof FieldErrorSchema>, NonNullable<ProblemShape['errors']>[number]>,
  Same<NonNullable<z.output<typeof ProblemSchema>['upstream']>, NonNullable<ProblemShape['upstream']>>,
  Same<z.output<typeof DryRunResultSchema>, DryRunShape>,
  Same<z.output<typeof DescribedRequestSchema>, DescribedRequest>,
] = [true, true, true, true, true];
void drift;

// ---------------------------------------------------------------------------------------------------------------
// Components: request bodies converted on their input side, responses on their output side.

export const requestComponents = {
  CreateOrderRequest,
  AddOnRequest,
  OrderLineItemInput,
  CreateCartRequest,
  CartLineItemInput,
} as const;

export const responseComponents = {
  CatalogSearchResult,
  CredentialsReport,
  PreflightReport,
  Order,
  Cart,
  CartCheckoutResult,
  CreateCartWithCheckoutResult,
  OrderStatus,
  CartStatus,
  PurchasesAnswer: PurchasesAnswerSchema,
  OrderList,
  SubscriptionList,
  CustomerCheck,
  DryRunResult: DryRunResultSchema,
  SubscriptionAnswer,
  Problem: ProblemSchema,
} as const;

type ResponseComponent = keyof typeof responseComponents;

const componentRef = (name: string) => `#/components/schemas/${name}`;
const ref = (name: ResponseComponent | keyof typeof requestComponents) => ({ $ref: componentRef(name) });

// ---------------------------------------------------------------------------------------------------------------
// What zod's conversion cannot carry over.

interface Refinement {
  /** What the check enforces, in words: appended to the schema's description. */
  description: string;
  /** Writes the JSON Schema keywords that express the check exactly, when there are any. */
  express?: (json: JsonSchema) => void;
}

/** Rewrites `lineItems.items` without touching the object, which zod shares between schemas. */
const onEveryLine = (change: (items: JsonSchema) => JsonSchema) => (json: JsonSchema) => {
  const properties = json.properties ?? {};
  const lineItems = properties.lineItems;
  if (typeof lineItems !== 'object' || typeof lineItems.items !== 'object' || Array.isArray(lineItems.items)) {
    throw new Error('openapi: expected lineItems to be an array schema');
  }
  json.properties = { ...properties, lineItems: { ...lineItems, items: change(lineItems.items) } };
};

const lineNumbers = (field: string): Refinement => ({
  description:
    `\`${field}\` is given on every line or on none (then lines are numbered in order); when given, the values are ` +
    `unique and run from 0 to n-1. (Not expressible in JSON Schema: uniqueness of one property across items, and ` +
    `a bound that depends on the number of items.)`,
});

/**
 * Every refine/superRefine check of a schema that reaches the document, in the order of its checks. zod drops them
 * from JSON Schema; the generation fails when a schema has checks that are not listed here.
 */
const refinements = new Map<z.core.$ZodType, Refinement[]>([
  [
    provisioningContext,
    [
      {
        description: 'At most 50 entries.',
        express: (json) => {
          json.maxProperties = 50;
        },
      },
    ],
  ],
  [
    CreateOrderRequest,
    [
      lineNumbers('lineItemNumber'),
      {
        description:
          '`parentSubscriptionId` is refused on every line: add-ons go with PATCH /customers/{customerId}/orders/{orderId}.',
        express: onEveryLine((items) => ({ ...items, not: { required: ['parentSubscriptionId'] } })),
      },
    ],
  ],
  [
    AddOnRequest,
    [
      lineNumbers('lineItemNumber'),
      {
        description: 'Every line needs the `parentSubscriptionId` of the subscription it extends.',
        express: onEveryLine((items) => ({ ...items, required: ['parentSubscriptionId'] })),
      },
    ],
  ],
  [CreateCartRequest, [lineNumbers('id')]],
  [
    ScheduleRequest,
    [
      {
        description: 'At least one of the fields is named.',
        express: (json) => {
          json.minProperties = 1;
        },
      },
    ],
  ],
]);

const isLetter = (c: string) => /^[A-Za-z]$/.test(c);
const isLower = (c: string) => c === c.toLowerCase();
const otherCase = (c: string) => (isLower(c) ? c.toUpperCase() : c.toLowerCase());
const UNSUPPORTED_ESCAPE = /[xuckpPbB]/;

/**
 * JSON Schema patterns have no flags: a case-insensitive `/…/i` pattern is rewritten to list both cases
 * (`a` → `[aA]`, `[0-9a-f]` → `[0-9a-fA-F]`). Constructs whose rewrite would need more care throw instead.
 */
export function caseInsensitivePattern(source: string): string {
  const unsupported = (what: string) => new Error(`openapi: cannot rewrite ${what} in /${source}/i for JSON Schema`);
  const escapeAt = (at: number) => {
    const next = source[at + 1] ?? '';
    if (UNSUPPORTED_ESCAPE.test(next)) throw unsupported(`\\${next}`);
    return `\\${next}`;
  };
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i] ?? '';
    if (c === '\\') {
      out += escapeAt(i);
      i += 2;
    } else if (source.startsWith('(?<', i) && !/^\(\?<[=!]/.test(source.slice(i))) {
      throw unsupported('a named group');
    } else if (c === '[') {
      let j = i + 1;
      const negated = source[j] === '^';
      if (negated) j++;
      const items: string[] = [];
      while (j < source.length && source[j] !== ']') {
        let item: string;
        if (source[j] === '\\') {
          item = escapeAt(j);
          j += 2;
        } else {
          item = source[j] ?? '';
          j++;
          const end = source[j + 1];
          if (source[j] === '-' && end !== undefined && end !== ']') {
            if (end === '\\') throw unsupported('a range ending in an escape');
            item = `${item}-${end}`;
            j += 2;
          }
        }
        items.push(item);
      }
      if (source[j] !== ']') throw unsupported('an unterminated character class');
      const added: string[] = [];
      for (const item of items) {
        if (item.startsWith('\\')) continue;
        const [from = '', to = from] = item.length === 3 ? [item[0], item[2]] : [item];
        if (!isLetter(from) && !isLetter(to)) continue;
        if (!isLetter(from) || !isLetter(to) || isLower(from) !== isLower(to)) throw unsupported(`the range ${item}`);
        const counterpart = from === to ? otherCase(from) : `${otherCase(from)}-${otherCase(to)}`;
        if (!items.includes(counterpart) && !added.includes(counterpart)) added.push(counterpart);
      }
      out += `[${negated ? '^' : ''}${[...items, ...added].join('')}]`;
      i = j + 1;
    } else {
      out += isLetter(c) ? `[${c}${otherCase(c)}]` : c;
      i++;
    }
  }
  return out;
}

/** The values a normalising pipe (`pipe(string, pipe(transform, enum))`) ends in, if it ends in an enum. */
function outputEnum(schema: z.core.$ZodType): string[] | undefined {
  const def = schema._zod.def;
  if (def.type === 'pipe') return outputEnum((def as z.core.$ZodPipeDef).out);
  if (def.type === 'enum') return Object.values((def as z.core.$ZodEnumDef).entries).map(String);
  return undefined;
}

/** The regexes zod turns into `pattern`: those of the schema's checks (and of the schema, for format schemas). */
function patternsOf(schema: z.core.$ZodType): Set<RegExp> {
  const patterns = new Set((schema._zod.bag as { patterns?: Set<RegExp> }).patterns ?? []);
  for (const check of [schema, ...(schema._zod.def.checks ?? [])]) {
    const { pattern } = check._zod.def as { pattern?: unknown };
    if (pattern instanceof RegExp) patterns.add(pattern);
  }
  return patterns;
}

/** What else a normalising pipe accepts, shown on one of its values and checked against the schema itself. */
function otherSpellings(schema: z.core.$ZodType, values: string[]): string {
  const value = values.find((v) => v.includes('_')) ?? values[0] ?? '';
  const camel = value.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const candidates = [camel, camel.charAt(0).toUpperCase() + camel.slice(1), value.toUpperCase()];
  const accepted = [...new Set(candidates)].filter((spelling) => {
    const result = z.safeParse(schema, spelling);
    return spelling !== value && result.success && result.data === value;
  });
  if (accepted.length === 0) return '';
  return (
    ` Also accepted in camelCase, PascalCase or upper case (${accepted.join(', ')} for ${value}), and sent to ` +
    'Partner Center as listed.'
  );
}

const describe = (json: JsonSchema, text: string) => {
  json.description = json.description ? `${json.description} ${text}` : text;
};

const override =
  (io: Io) =>
  ({ zodSchema, jsonSchema }: { zodSchema: z.core.$ZodType; jsonSchema: JsonSchema }) => {
    const def = zodSchema._zod.def;

    // Regex flags.
    for (const pattern of patternsOf(zodSchema)) {
      if (/[^iu]/.test(pattern.flags)) throw new Error(`openapi: /${pattern.source}/${pattern.flags}: flags lost`);
      if (!pattern.flags.includes('i')) continue;
      const rewritten = caseInsensitivePattern(pattern.source);
      if (jsonSchema.pattern === pattern.source) jsonSchema.pattern = rewritten;
      for (const part of jsonSchema.allOf ?? []) {
        if (typeof part === 'object' && part.pattern === pattern.source) part.pattern = rewritten;
      }
    }

    // Normalised enums: the caller's spelling is any string the transform maps onto one of the values.
    if (io === 'input' && def.type === 'pipe') {
      const { in: from, out } = def as z.core.$ZodPipeDef;
      const values = from._zod.def.type === 'enum' ? undefined : outputEnum(out);
      if (values) {
        describe(jsonSchema, `One of: ${values.join(', ')}.${otherSpellings(zodSchema, values)}`);
        jsonSchema.examples = values;
      }
    }

    // Refinements.
    const custom = (def.checks ?? []).filter((check) => check._zod.def.check === 'custom').length;
    if (custom > 0) {
      const documented = refinements.get(zodSchema) ?? [];
      if (documented.length !== custom) {
        throw new Error(
          `openapi: a schema at ${JSON.stringify(jsonSchema).slice(0, 120)}… has ${custom} refine/superRefine ` +
            `check(s) that JSON Schema drops, and ${documented.length} documented in scripts/openapi.ts (refinements)`,
        );
      }
      for (const refinement of documented) {
        refinement.express?.(jsonSchema);
        describe(jsonSchema, refinement.description);
      }
    }
  };

/** zod's `$schema`/`$id` belong to standalone documents; OpenAPI 3.1's dialect already is JSON Schema 2020-12. */
function bare(json: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = JSON.parse(JSON.stringify(json)) as JsonSchema;
  return rest;
}

const convert = (schema: z.core.$ZodType, io: Io) =>
  bare(z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'throw', override: override(io) }));

function convertComponents(components: Record<string, z.core.$ZodType>, io: Io): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'throw',
    override: override(io),
    uri: componentRef,
  });
  if ('__shared' in schemas) throw new Error('openapi: zod extracted shared definitions; give them a component id');
  return Object.fromEntries(Object.entries(schemas).map(([id, json]) => [id, bare(json)]));
}

// ---------------------------------------------------------------------------------------------------------------
// The routes.

type PathParameters<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParameters<Rest>
  : never;
type RoutePath<K extends RouteKey> = K extends `${string} ${infer P}` ? P : never;
type PathParameter = PathParameters<(typeof routes)[number]['path']>;

interface RouteDoc<K extends RouteKey> {
  operationId: string;
  description?: string;
  /** The zod schema the handler parses the path parameters with. */
  path: z.ZodMiniType<unknown, { [N in PathParameters<RoutePath<K>>]: string }>;
  /** The zod schema the handler parses the body with; a request component is referenced, anything else inlined. */
  body?: { schema: z.core.$ZodType; required: boolean; description: string };
  /**
   * Purchases (the default) take `?dryRun`, `Idempotency-Key` and a body; a read-only route (`false`) takes none:
   * a report answers its own statuses (200 and 503 with the report), a read with `query` answers 200 or a problem.
   */
  command?: false;
  /** A read-only route's query parameters: the zod schema the handler parses them with. */
  query?: z.core.$ZodType;
  /** The status and the possible bodies when the request is carried out (a `?dryRun=true` 200 is added to all). */
  success: { status: 200 | 201; description: string; bodies: ResponseComponent[] };
  /** A route that is not this API's JSON (the MCP transport): its request body and answers, written out. */
  custom?: { requestBody?: object; responses: Record<string, object> };
}

const subscriptionChange = (
  operationId: string,
  description: string,
  body?: RouteDoc<RouteKey>['body'],
): RouteDoc<'POST /customers/{customerId}/subscriptions/{subscriptionId}/cancel'> => ({
  operationId,
  description: `${description} Reads the subscription first (one GET): a change outside its window is refused with 422 \`outside-refund-window\` and nothing is sent. Judged by the purchase policy (its subscription actions). docs/after-purchase.md.`,
  path: SubscriptionPath,
  ...(body ? { body } : {}),
  success: {
    status: 200,
    description: 'The subscription as it is afterwards (also when it already was as asked: `alreadyDone`).',
    bodies: ['SubscriptionAnswer'],
  },
});

const subscriptionRoutes = {
  'GET /customers/{customerId}/subscriptions/{subscriptionId}': {
    operationId: 'getSubscription',
    description:
      'Reads the subscription (one GET) and answers it with its refund windows known before anything is sent: ' +
      '`windows.refundableUntil` (cancel with a prorated refund until then), `windows.removableSeats` and ' +
      '`windows.seatWindows` (how many seats can still be removed, until when), and what is scheduled for renewal. ' +
      'Read-only: the JWT read scope.',
    command: false,
    path: SubscriptionPath,
    query: NoQuery,
    success: { status: 200, description: 'The subscription and its windows.', bodies: ['SubscriptionAnswer'] },
  } satisfies RouteDoc<'GET /customers/{customerId}/subscriptions/{subscriptionId}'>,
  'POST /customers/{customerId}/subscriptions/{subscriptionId}/cancel': subscriptionChange(
    'cancelSubscription',
    'Cancels the subscription (PATCH status deleted) within its refund window: 7 days after purchase or renewal. Deletes what was scheduled for renewal.',
    { schema: CancelRequest, required: false, description: 'No body, or `{}`.' },
  ),
  'POST /customers/{customerId}/subscriptions/{subscriptionId}/reduce': subscriptionChange(
    'reduceSeats',
    'Removes seats within the window of the seats removed (7 days after they were added). The absolute quantity is worked out once and recorded under the Idempotency-Key before the PATCH: a retry never removes seats twice. Deletes what was scheduled for renewal.',
    { schema: ReduceRequest, required: true, description: 'How many seats to remove.' },
  ),
  'POST /customers/{customerId}/subscriptions/{subscriptionId}/auto-renew': subscriptionChange(
    'changeAutoRenew',
    'Turns auto-renew on or off (PATCH autoRenewEnabled). Turning it off deletes what was scheduled for renewal.',
    { schema: AutoRenewRequest, required: true, description: '`{ "enabled": false }`.' },
  ),
  'POST /customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes': subscriptionChange(
    'scheduleRenewalChange',
    'Schedules changes for the next term (PATCH scheduledNextTermInstructions): quantity, term, billing cycle, product. Needs auto-renew on. Any immediate change before renewal deletes them.',
    { schema: ScheduleRequest, required: true, description: 'What the next term should be; the rest stays.' },
  ),
  'POST /customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes/cancel': subscriptionChange(
    'cancelScheduledChange',
    'Cancels the changes scheduled for the next term (PATCH scheduledNextTermInstructions null: not documented by Partner Center).',
    { schema: CancelRequest, required: false, description: 'No body, or `{}`.' },
  ),
} as const;

const problemRef = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** The MCP routes (functions/mcp, docs/agents.md): JSON-RPC 2.0 messages of the Model Context Protocol. */
const mcpRoutes = {
  'POST /mcp': {
    operationId: 'mcp',
    description:
      'The Model Context Protocol (Streamable HTTP transport, stateless: no `Mcp-Session-Id`, one JSON answer per ' +
      'request) for AI agents: `initialize`, `tools/list`, `tools/call`. Send `Accept: application/json, ' +
      "text/event-stream`. Each tool call is one request of this API, dispatched to its route with the caller's " +
      'identity and judged as that route judges it (its JWT scope, the policy); a refusal is a tool result with ' +
      '`isError` carrying the problem. The tools that buy or change are listed only when the deployment turns them ' +
      'on (`-c mcpWrites=true`), and each needs a quote of the identical request. docs/agents.md.',
    command: false,
    path: NoPathParameters,
    success: { status: 200, description: 'The JSON-RPC answer.', bodies: [] },
    custom: {
      requestBody: {
        description: 'A JSON-RPC 2.0 message of the Model Context Protocol, or a batch of them.',
        required: true,
        content: { 'application/json': { schema: { type: ['object', 'array'] } } },
      },
      responses: {
        '200': {
          description: 'The JSON-RPC answer to the request (an MCP error in `error`, a tool refusal in `result`).',
          headers: { 'MS-CorrelationId': { $ref: '#/components/headers/CorrelationId' } },
          content: { 'application/json': { schema: { type: ['object', 'array'] } } },
        },
        '202': { description: 'A notification or a response was accepted; nothing to answer.' },
        '400': problemRef('BadRequest'),
        '403': problemRef('Forbidden'),
        '406': { description: 'The `Accept` header does not name both application/json and text/event-stream.' },
        '413': problemRef('ContentTooLarge'),
        '415': problemRef('UnsupportedMediaType'),
      },
    },
  } satisfies RouteDoc<'POST /mcp'>,
  'GET /mcp': {
    operationId: 'mcpEventStream',
    description: 'A stateless MCP server offers no server-sent event stream: always 405, as the transport allows.',
    command: false,
    path: NoPathParameters,
    success: { status: 200, description: 'Never.', bodies: [] },
    custom: {
      responses: {
        '405': {
          description: 'No event stream: send messages with POST.',
          headers: { Allow: { schema: { type: 'string' }, description: '`POST`' } },
          content: { 'application/problem+json': { schema: ref('Problem') } },
        },
      },
    },
  } satisfies RouteDoc<'GET /mcp'>,
} as const;

/** One entry per row of the route table: the type checker refuses a route without its documentation. */
export const routeDocs: { [K in RouteKey]: RouteDoc<K> } = {
  'POST /customers/{customerId}/orders': {
    operationId: 'createOrder',
    path: CustomerPath,
    body: { schema: CreateOrderRequest, required: true, description: 'The order: one subscription per line.' },
    success: { status: 201, description: 'The order was placed.', bodies: ['Order'] },
  },
  'PATCH /customers/{customerId}/orders/{orderId}': {
    operationId: 'addOnToOrder',
    path: OrderPath,
    body: {
      schema: AddOnRequest,
      required: true,
      description: 'Add-ons, each extending a subscription of the order (`parentSubscriptionId`).',
    },
    success: { status: 200, description: 'The add-ons were purchased; the updated order.', bodies: ['Order'] },
  },
  'POST /customers/{customerId}/carts': {
    operationId: 'createCart',
    description:
      'With `checkout: true` the cart is checked out in the same call and the answer is `{ cart, checkout }`. The ' +
      'created cart is recorded under the Idempotency-Key before its checkout: if the checkout does not complete, ' +
      'the problem carries `cartId`, and a retry with the same key checks out that cart and never creates a second ' +
      'one. A checkout in which some order groups failed succeeds with `checkout.partial: true` (see ' +
      '`checkout.orderErrors`); one in which every group failed is a 422 `checkout-failed`.',
    path: CustomerPath,
    body: { schema: CreateCartRequest, required: true, description: 'The cart, and whether to check it out.' },
    success: {
      status: 201,
      description: 'The cart was created (a Cart), and checked out when asked (`{ cart, checkout }`).',
      bodies: ['Cart', 'CreateCartWithCheckoutResult'],
    },
  },
  'GET /health/credentials': {
    operationId: 'checkCredentials',
    description:
      'Redeems a Partner Center token now with the stored credentials (nothing cached, nothing stored) and reports ' +
      'the auth mode, whether a token was acquired and how old the stored refresh token is. Never a secret value. ' +
      '200 when a token was acquired; 503, with the same report and Entra’s error and AADSTS code, when not.',
    command: false,
    path: NoPathParameters,
    success: { status: 200, description: 'A token was acquired.', bodies: ['CredentialsReport'] },
  },
  'GET /customers/{customerId}/catalog': {
    operationId: 'searchCatalog',
    description:
      "Reads the customer's own view of the catalog (Partner Center's products of the view, page by page, then the " +
      'SKUs of the products whose title or id holds every word of `search`, and their availabilities) and answers the ' +
      `matches (at most ${MAX_SEARCH_PRODUCTS}; \`truncated\` when there were more), each SKU with its quantity bounds and its ` +
      'purchasable availabilities: the catalog id to paste into `offerId` or `catalogItemId`, with its terms and the ' +
      'billing cycles offered for each. Catalog ids change over time: look them up shortly before buying. Answers ' +
      'are cached for a few minutes (CATALOG_CACHE_SECONDS). Read-only: the JWT read scope.',
    command: false,
    path: CustomerPath,
    query: CatalogQuery,
    success: { status: 200, description: 'The matching products (possibly none).', bodies: ['CatalogSearchResult'] },
  },
  'GET /customers/{customerId}/orders/{orderId}': {
    operationId: 'getOrderStatus',
    description:
      'Reads the order and its lines’ provisioning status from Partner Center (two reads) and answers the order with ' +
      'each line’s `provisioningStatus` and `quantityProvisioningInformation` merged in, and one overall `state`: ' +
      '`pending`, `provisioning`, `provisioned`, `cancelled` or `unknown` (a status value this service does not ' +
      'know). Read-only: the JWT read scope. docs/after-purchase.md.',
    command: false,
    path: OrderPath,
    query: NoQuery,
    success: { status: 200, description: 'The order and its state.', bodies: ['OrderStatus'] },
  },
  'GET /customers/{customerId}/carts/{cartId}': {
    operationId: 'getCart',
    description:
      'Reads the cart from Partner Center: its status (`Active`, `Ordered`) and when it expires (7 days after ' +
      'creation; an expired or unknown cart is a 404 from Partner Center). Read-only: the JWT read scope.',
    command: false,
    path: CartPath,
    query: NoQuery,
    success: { status: 200, description: 'The cart, its status and expiry.', bodies: ['CartStatus'] },
  },
  'GET /customers/{customerId}': {
    operationId: 'checkCustomer',
    description:
      'One read of Partner Center (`GET /v1/customers/{id}`): 200 with the company name when the customer exists and ' +
      'is this partner’s; 404 `customer-not-found` at `/path/customerId` when Partner Center does not know it (60003), ' +
      'refuses its id (900118) or the partner has no commerce relationship with it (20002). Read-only: the JWT read scope.',
    command: false,
    path: CustomerPath,
    query: NoQuery,
    success: { status: 200, description: 'The customer is this partner’s.', bodies: ['CustomerCheck'] },
  },
  'GET /customers/{customerId}/orders': {
    operationId: 'listOrders',
    description:
      'One page of Partner Center’s list of the customer’s orders; send `continuationToken` back for the next one. ' +
      'The list lags: an order can take up to 15 minutes to appear in it (get-all-of-a-customer-s-orders); a ' +
      'purchase just placed is read by id (`GET …/orders/{orderId}`) or by key (`GET /purchases/{key}`). Read-only: ' +
      'the JWT read scope.',
    command: false,
    path: CustomerPath,
    query: OrdersListQuery,
    success: { status: 200, description: 'A page of orders.', bodies: ['OrderList'] },
  },
  'GET /customers/{customerId}/subscriptions': {
    operationId: 'listSubscriptions',
    description:
      'One page of Partner Center’s list of the customer’s subscriptions (or those one order created, `orderId`); ' +
      'send `continuationToken` back for the next one. Read-only: the JWT read scope.',
    command: false,
    path: CustomerPath,
    query: SubscriptionsListQuery,
    success: { status: 200, description: 'A page of subscriptions.', bodies: ['SubscriptionList'] },
  },
  'GET /purchases/{idempotencyKey}': {
    operationId: 'getPurchase',
    description:
      'What became of the purchases the caller sent with this Idempotency-Key (one per operation and customer): ' +
      '`in-progress`, `succeeded` (with the order ids), `refused` (with the problem), `not-placed`, or `unknown` (an ' +
      'attempt was sent and its outcome is not known yet). Scoped to the caller, like the key itself: another ' +
      'caller’s purchases with the same key are not found (404). Reads only this service’s records, never Partner ' +
      'Center. Read-only: the JWT read scope.',
    command: false,
    path: PurchasePath,
    query: NoQuery,
    success: { status: 200, description: 'The purchases sent with the key.', bodies: ['PurchasesAnswer'] },
  },
  'POST /customers/{customerId}/carts/{cartId}/checkout': {
    operationId: 'checkoutCart',
    description:
      'Places the orders of the cart. A checkout can succeed for some order groups and fail for others: the result ' +
      'is returned as it is, with `orders` and `orderErrors`, and the caller must inspect `orderErrors`.',
    path: CartPath,
    body: { schema: CheckoutRequest, required: false, description: 'No body, or `{}`: checkout takes no options.' },
    success: {
      status: 200,
      description: 'The checkout result (partial failures included).',
      bodies: ['CartCheckoutResult'],
    },
  },
  ...subscriptionRoutes,
  ...mcpRoutes,
};

const pathParameterDescriptions: Record<PathParameter, string> = {
  subscriptionId: 'The Partner Center subscription id: a GUID, any case.',
  customerId: "The customer's Entra tenant id: a GUID, any case (sent to Partner Center in lower case).",
  orderId: "The Partner Center order id (e.g. Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1): 1-128 letters, digits, '_' or '-'.",
  cartId: 'The id of a cart created by POST /customers/{customerId}/carts: a GUID, any case.',
  idempotencyKey:
    'The Idempotency-Key the purchase was sent with (1-255 printable ASCII characters, no comma), percent-encoded.',
};

// ---------------------------------------------------------------------------------------------------------------
// Parameters, headers and responses shared by every operation.

/**
 * The `Idempotency-Key` header as the handlers parse it. Its input side is a bare string (a Structured Field string
 * `"…"` is unquoted first), so the key is documented by its output side: the 1-255 printable ASCII characters.
 */
function idempotencyKeySchema(): JsonSchema {
  const schema = convert(IdempotencyKeyHeaders, 'output').properties?.['idempotency-key'];
  if (typeof schema !== 'object') throw new Error('openapi: IdempotencyKeyHeaders has no idempotency-key');
  return schema;
}

const parameters = {
  dryRun: {
    name: 'dryRun',
    in: 'query',
    required: false,
    description:
      'Validate the request and answer 200 with the exact requests that would be sent to Partner Center (token ' +
      "redacted), sending nothing: PowerShell's -WhatIf. Unknown query parameters are refused.",
  },
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Required for a purchase (a 400 `idempotency-key-required` without it) unless the deployment made keys ' +
      'optional; not needed for a dry run. A key of your choice (1-255 printable ASCII characters, no comma; a ' +
      'Structured Field string `"…"` is accepted, the quotes not being part of the key) that makes retrying safe. A ' +
      'request repeated with the same key answers with the final outcome of the first one (`Idempotent-Replayed: ' +
      'true`) instead of buying again; after an attempt whose answer was lost, Partner Center is read and what it ' +
      'placed is answered (`Idempotent-Reconciled: true`) before anything is sent again. While the first is still ' +
      'in progress the repeat gets 409; the same key with a different request gets 422. Keys are scoped to the ' +
      'authenticated caller (an IAM role, not its session). A new key for the same lines as a purchase placed for ' +
      'the customer within DUPLICATE_WINDOW_HOURS (24) is refused 409 `possible-duplicate` naming the earlier key, ' +
      'unless the request carries the header `Allow-Duplicate: true`.',
    schema: idempotencyKeySchema(),
  },
  CorrelationId: {
    name: 'MS-CorrelationId',
    in: 'header',
    required: false,
    description:
      'A GUID of yours, passed on to Partner Center and echoed on the response, to tie your logs to ours and to ' +
      "Partner Center's. Generated when absent; a value that is not a GUID is refused (400).",
    schema: convert(guid('correlation id'), 'input'),
  },
};

const headers = {
  CorrelationId: {
    description: 'The correlation id of this request: yours, or generated. Every response carries it.',
    schema: convert(guid('correlation id'), 'output'),
  },
  IdempotentReplayed: {
    description:
      'Present, `true`, when this is the stored answer to an earlier request with the same Idempotency-Key: nothing ' +
      'was sent to Partner Center again.',
    schema: convert(z.literal('true'), 'output'),
  },
  IdempotentReconciled: {
    description:
      'Present, `true`, when an earlier attempt with this Idempotency-Key lost its answer and the purchase it placed ' +
      'was found in Partner Center: this is that purchase, and nothing was bought again.',
    schema: convert(z.literal('true'), 'output'),
  },
  RetryAfter: {
    description: 'Seconds to wait before trying again.',
    schema: convert(z.int().check(z.gte(0)), 'output'),
  },
};

const headerRef = (name: keyof typeof headers) => ({ $ref: `#/components/headers/${name}` });

interface ProblemStatus {
  status: number;
  name: string;
  description: string;
  retryAfter?: boolean;
}

/** Every status an operation may answer with a problem (README, "Errors"). */
const problemStatuses: ProblemStatus[] = [
  {
    status: 400,
    name: 'BadRequest',
    description:
      '`validation`: a bad id, body, query parameter or header, malformed JSON or a `__proto__` key; `errors` names ' +
      'every bad field and nothing was sent to Partner Center. Or `partner-center-rejected`: Partner Center refused ' +
      'the request (its `upstream.code` passed through).',
  },
  {
    status: 403,
    name: 'Forbidden',
    description:
      "`policy-denied`: the purchase policy refused it, or for a read the policy's `Read` action (`policy.action`); " +
      '`policy.policies` names the deciding policies and `errors[0].path` the field, and nothing was sent or read. ' +
      'Or `partner-center-rejected`: Partner Center refused the ' +
      'request (`upstream.code` says why).',
  },
  {
    status: 404,
    name: 'NotFound',
    description: '`partner-center-rejected`: Partner Center does not know the customer, order or cart.',
  },
  {
    status: 409,
    name: 'Conflict',
    description:
      '`idempotency-in-progress`: a request with the same Idempotency-Key is still in progress; retry with the same ' +
      'key after it finishes to get its result. Or `partner-center-rejected`: Partner Center answered 409.',
    retryAfter: true,
  },
  {
    status: 413,
    name: 'ContentTooLarge',
    description: `\`too-large\`: the body is larger than ${MAX_BODY_BYTES / 1024} KiB.`,
  },
  { status: 415, name: 'UnsupportedMediaType', description: '`media-type`: the body is not `application/json`.' },
  {
    status: 422,
    name: 'UnprocessableContent',
    description:
      '`idempotency-mismatch`: the Idempotency-Key was already used with a different request; use a new key for a ' +
      "new request. Or `catalog-mismatch`: a line asks for what the customer's catalog does not offer (availability " +
      'not found or not purchasable, a term or billing cycle it is not sold with, a quantity outside its bounds, a ' +
      'trial not billed `none`); `errors` names each field and the catalog fact, and nothing was sent. Or ' +
      '`outside-refund-window`: a cancel or seat reduction past its window (`refundWindow` names it, `alternative` ' +
      'what to do instead); nothing was sent. Or `subscription-state`: the subscription does not allow the change ' +
      '(not active, auto-renew off for a schedule, no seat left); nothing was sent.',
  },
  {
    status: 429,
    name: 'TooManyRequests',
    description:
      '`throttled`: Partner Center was still throttling after waiting within the deadline; nothing was purchased.',
    retryAfter: true,
  },
  {
    status: 500,
    name: 'InternalServerError',
    description: '`internal`: a bug; the details are only in our logs, under the MS-CorrelationId.',
  },
  {
    status: 502,
    name: 'BadGateway',
    description:
      '`credentials`: our Partner Center credentials are missing, malformed or refused. `upstream-error`: Partner ' +
      'Center kept failing (retrying with the same Idempotency-Key is safe). `upstream-unreachable`: Partner Center ' +
      'could not be reached. `upstream-protocol`: Partner Center answered 2xx with a body that is not the resource; ' +
      'the purchase may have been placed, so check before buying again.',
  },
  {
    status: 503,
    name: 'ServiceUnavailable',
    description:
      '`credentials`: Secrets Manager or Entra ID could not be reached. `idempotency-unavailable`: the request could ' +
      'not be recorded against its Idempotency-Key, so nothing was sent to Partner Center; retry with the same key. ' +
      "`catalog-unavailable`: the customer's catalog could not be read to check the purchase (PREFLIGHT=on), so " +
      'nothing was sent; retry with the same key. `policy-unavailable`: the purchase policy could not be evaluated, so ' +
      'nothing was sent; retry with the same key.',
    retryAfter: true,
  },
  {
    status: 504,
    name: 'GatewayTimeout',
    description:
      '`upstream-timeout`: Partner Center did not answer within the deadline and the outcome is unknown; retry with ' +
      'the same Idempotency-Key, which reuses the same MS-RequestId.',
  },
];

const validationExample = {
  type: 'urn:partner-orders:problem:validation',
  title: 'Invalid request',
  status: 400,
  detail: 'The request is not valid.',
  errors: [
    { path: '/path/customerId', message: 'must be a GUID (customer tenant id)' },
    { path: '/body/lineItems/0/quantiy', message: 'is not a known field' },
  ],
};

const problemResponse = ({ status, description, retryAfter }: ProblemStatus) => ({
  description,
  headers: {
    'MS-CorrelationId': headerRef('CorrelationId'),
    ...(retryAfter ? { 'Retry-After': headerRef('RetryAfter') } : {}),
  },
  content: {
    [PROBLEM_CONTENT_TYPE]: {
      schema: ref('Problem'),
      ...(status === 400 ? { example: validationExample } : {}),
    },
  },
});

const successHeaders = {
  'MS-CorrelationId': headerRef('CorrelationId'),
  'Idempotent-Replayed': headerRef('IdempotentReplayed'),
  'Idempotent-Reconciled': headerRef('IdempotentReconciled'),
};

const DRY_RUN_DESCRIPTION = 'With `?dryRun=true`: the requests that would be sent to Partner Center; nothing was sent.';

/** A body schema that shares its status with the dry run must not also match a dry-run answer (`oneOf`). */
const notDryRun = (name: ResponseComponent) => ({ ...ref(name), not: { required: ['dryRun'] } });

function successResponses(success: RouteDoc<RouteKey>['success']) {
  const json = (schema: object) => ({ 'application/json': { schema } });
  const alternatives = success.bodies.map((name) => (success.status === 200 ? notDryRun(name) : ref(name)));
  const schemaOf = (list: object[]) => (list.length === 1 ? (list[0] ?? {}) : { oneOf: list });
  if (success.status === 200) {
    return {
      '200': {
        description: `${success.description} ${DRY_RUN_DESCRIPTION}`,
        headers: successHeaders,
        content: json(schemaOf([...alternatives, ref('DryRunResult')])),
      },
    };
  }
  return {
    '200': { description: DRY_RUN_DESCRIPTION, headers: successHeaders, content: json(ref('DryRunResult')) },
    [String(success.status)]: {
      description: success.description,
      headers: successHeaders,
      content: json(schemaOf(alternatives)),
    },
  };
}

/** A read-only report: the same body with its success status and with 503 when the check failed. */
function reportResponses(success: RouteDoc<RouteKey>['success']) {
  const content = { 'application/json': { schema: ref(success.bodies[0] ?? 'Problem') } };
  return {
    [String(success.status)]: {
      description: success.description,
      headers: { 'MS-CorrelationId': headerRef('CorrelationId') },
      content,
    },
    '503': { description: 'The check ran and failed: the report says why (no secret values).', content },
  };
}

/** A read's answer: the body on its success status (problems otherwise, 503 included). */
function readResponses(success: RouteDoc<RouteKey>['success']) {
  return {
    [String(success.status)]: {
      description: success.description,
      headers: { 'MS-CorrelationId': headerRef('CorrelationId') },
      content: { 'application/json': { schema: ref(success.bodies[0] ?? 'Problem') } },
    },
  };
}

const queryParameterDescriptions: Record<string, string> = {
  search:
    "Words to find, in any case and order: every one must be in the product's title or id (`Microsoft 365 E3`, " +
    '`CFQ7TTC0LFLZ`).',
  targetView: 'The catalog view to search (default `OnlineServices`: new commerce licence-based products).',
  billingType: 'Only the orders of this billing cycle (`monthly`, `annual`, …; any case).',
  orderId: 'Only the subscriptions this order created.',
  continuationToken: 'The `continuationToken` of the previous page, as it was answered: the next page.',
};

/** A read's query parameters, from the schema its handler parses them with; unknown ones are refused (400). */
function queryParameters(schema: z.core.$ZodType) {
  const json = convert(schema, 'input');
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const description = queryParameterDescriptions[name];
    if (!description) throw new Error(`openapi: query parameter ${name} has no description`);
    return { name, in: 'query', required: required.has(name), description, schema: property };
  });
}

const placeholders = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');

function pathParameters(path: string, schema: z.core.$ZodType) {
  const json = convert(schema, 'input');
  const properties = json.properties ?? {};
  const names = placeholders(path);
  const declared = Object.keys(properties);
  if (declared.length !== names.length || names.some((name) => !declared.includes(name))) {
    throw new Error(`openapi: ${path} has parameters ${names.join(', ')}; its path schema has ${declared.join(', ')}`);
  }
  return names.map((name) => ({
    name,
    in: 'path',
    required: true,
    description: pathParameterDescriptions[name as PathParameter],
    schema: properties[name],
  }));
}

const requestComponentName = (schema: z.core.$ZodType) =>
  (Object.keys(requestComponents) as (keyof typeof requestComponents)[]).find(
    (name) => requestComponents[name] === schema,
  );

function requestBody(body: NonNullable<RouteDoc<RouteKey>['body']>) {
  const name = requestComponentName(body.schema);
  return {
    description: body.description,
    required: body.required,
    content: { 'application/json': { schema: name ? ref(name) : convert(body.schema, 'input') } },
  };
}

const sorted = <T>(record: Record<string, T>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function queryParameter() {
  const dryRun = convert(DryRunQuery, 'input').properties?.dryRun;
  if (!dryRun) throw new Error('openapi: DryRunQuery has no dryRun');
  return { ...parameters.dryRun, schema: dryRun };
}

const DESCRIPTION = `Microsoft Partner Center orders and carts (the PowerShell cmdlets New-PartnerCustomerOrder,
New-PartnerCustomerCart and Submit-PartnerCustomerCart) as an HTTP API.

- Every request is validated before anything is sent to Partner Center: a bad request gets an RFC 9457
  \`application/problem+json\` answer naming every bad field. Unknown fields and query parameters are refused.
- Bodies are JSON, at most ${MAX_BODY_BYTES / 1024} KiB and ${MAX_LINE_ITEMS} line items.
- \`?dryRun=true\` on every route shows the exact requests that would be sent, and sends nothing.
- Retries to Partner Center reuse the same MS-RequestId, so they cannot buy twice; an \`Idempotency-Key\` extends
  that to your own retries.
- Every response carries \`MS-CorrelationId\`.

In AWS every route needs AWS Signature Version 4 (IAM) authentication; the local server (\`npm start\`) needs none.`;

/** Where `npm start` listens by default: the local server `openapi.json` names. */
export const DEFAULT_LOCAL_URL = 'http://127.0.0.1:3000';

/**
 * The OpenAPI 3.1 document of the API, from the route table and the zod schemas. `localUrl` is the local server's
 * address as it advertises itself in `servers` (`GET /openapi.json` passes the address it was reached at).
 */
export function buildOpenApi(options: { localUrl?: string } = {}): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const doc: RouteDoc<RouteKey> = routeDocs[routeKey(route)];
    const problems = Object.fromEntries(
      problemStatuses.map(({ status, name }) => [String(status), { $ref: `#/components/responses/${name}` }]),
    );
    const operation = doc.custom
      ? {
          operationId: doc.operationId,
          summary: route.summary,
          ...(doc.description ? { description: doc.description } : {}),
          parameters: [{ $ref: '#/components/parameters/CorrelationId' }],
          ...(doc.custom.requestBody ? { requestBody: doc.custom.requestBody } : {}),
          responses: doc.custom.responses,
        }
      : doc.command === false
        ? {
            operationId: doc.operationId,
            summary: route.summary,
            ...(doc.description ? { description: doc.description } : {}),
            parameters: [
              ...pathParameters(route.path, doc.path),
              ...(doc.query ? queryParameters(doc.query) : []),
              { $ref: '#/components/parameters/CorrelationId' },
            ],
            responses: {
              ...problems,
              ...(doc.query ? readResponses(doc.success) : reportResponses(doc.success)),
            },
          }
        : {
            operationId: doc.operationId,
            summary: route.summary,
            ...(doc.description ? { description: doc.description } : {}),
            parameters: [
              ...pathParameters(route.path, doc.path),
              { $ref: '#/components/parameters/dryRun' },
              { $ref: '#/components/parameters/IdempotencyKey' },
              { $ref: '#/components/parameters/CorrelationId' },
            ],
            ...(doc.body ? { requestBody: requestBody(doc.body) } : {}),
            responses: { ...successResponses(doc.success), ...problems },
          };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }

  const document = {
    openapi: '3.1.0',
    info: { title: 'partner-orders', version: packageJson.version, description: DESCRIPTION },
    servers: [
      {
        url: options.localUrl ?? DEFAULT_LOCAL_URL,
        description: 'Local server (npm start), on the Partner Center simulator',
      },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
        description: 'API Gateway HTTP API, $default stage (the ApiUrl output of the stack)',
        variables: {
          apiId: { default: 'apiId', description: 'The id of the deployed HTTP API' },
          region: { default: 'us-east-1', description: 'The AWS region it is deployed in' },
        },
      },
    ],
    security: [{ sigv4: [] }],
    paths,
    components: {
      schemas: sorted({
        ...convertComponents(requestComponents, 'input'),
        ...convertComponents(responseComponents, 'output'),
      }),
      parameters: {
        dryRun: queryParameter(),
        IdempotencyKey: parameters.IdempotencyKey,
        CorrelationId: parameters.CorrelationId,
      },
      headers,
      responses: Object.fromEntries(problemStatuses.map((problem) => [problem.name, problemResponse(problem)])),
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description:
            'AWS Signature Version 4 (IAM authorization): sign each request for the `execute-api` service with ' +
            'credentials allowed `execute-api:Invoke` on the API (e.g. `awscurl --service execute-api`). A stack ' +
            'deployed with `-c authorizer=jwt` takes a JWT bearer token instead.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
  };
  return JSON.parse(JSON.stringify(document)) as object;
}

/** The document as `openapi.json` holds it: two-space indentation and a trailing newline. */
export const renderOpenApi = () => `${JSON.stringify(buildOpenApi(), null, 2)}\n`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OPENAPI_FILE, renderOpenApi());
}
