// `partner-orders mcp`: a Model Context Protocol server on stdio for AI agents (docs/agents.md). Every tool is one
// request to the service's HTTP API through the CLI's own request layer (request.ts, sign.ts, http.ts), so the
// service judges it exactly as it judges a person's command: validation, policy, catalog pre-flight, idempotency.
// The server adds one rule of its own: a purchase needs a quote (a dry run) of the identical request, and its
// idempotency key is derived from that quote, so an agent's retry never buys twice and never buys what it did not
// preview. Loaded only for `mcp`: the SDK and zod stay out of every other command.
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import * as z from 'zod/mini';
import { CreateCartRequest } from '../functions/shared/schemas/carts.js';
import { customerId, orderId } from '../functions/shared/schemas/ids.js';
import { CreateOrderRequest } from '../functions/shared/schemas/orders.js';
import { type Command, type CommonOptions, type Env, parseCommandLine } from './args.js';
import { type ApiResponse, send, Unreachable } from './http.js';
import { toApiRequest } from './request.js';
import { type CredentialProvider, signRequest } from './sign.js';
import { UsageError } from './usage-error.js';

/** How long a quote may be placed after it was made (a placed quote stays placeable: its retries must replay). */
export const QUOTE_TTL_MS = 10 * 60_000;

/** The idempotency key of the purchase a quote stands for. */
export const keyForQuote = (quoteId: string) => `mcp-${quoteId}`;

export const MCP_HELP = `Usage: partner-orders mcp [--endpoint URL] [--region REGION] [--sign|--no-sign] [--allow-purchases]

A Model Context Protocol server on stdio, for an AI agent's MCP client to launch (docs/agents.md).
Its tools call the API at --endpoint (or PARTNER_ORDERS_ENDPOINT), signed with SigV4 for AWS hosts as every
command is, or with the JWT in PARTNER_ORDERS_TOKEN (an API with the JWT authorizer; --no-sign). Read-only unless --allow-purchases (or PARTNER_ORDERS_MCP_WRITES=true): only then are place_order and
place_cart offered, and each needs a quote_order/quote_cart of the identical request made within 10 minutes.
`;

export interface McpOptions {
  env?: Env;
  fetch?: typeof fetch;
  credentials?: CredentialProvider;
}

interface Quote {
  tool: 'order' | 'cart';
  hash: string;
  quotedAt: number;
  /** Set once the purchase was sent: from then on the quote is only ever retried, never expires in this process. */
  placed?: boolean;
}

/** The request bodies as the CLI's commands type them (the API judges them again: the same schemas). */
type OrderBody = Extract<Command, { name: 'order create' }>['body'];
type CartBody = Extract<Command, { name: 'cart create' }>['body'];

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

const text = (value: unknown, isError = false): ToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }],
  ...(isError ? { isError: true } : {}),
});

/** Object keys sorted at every depth: two requests equal in meaning hash alike whatever order the model wrote. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

const hashOf = (value: unknown) =>
  createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');

/** The connection every command takes (--endpoint, --region, --sign/--no-sign, PARTNER_ORDERS_ENDPOINT), judged alike. */
function connection(flags: string[], env: Env): Pick<CommonOptions, 'endpoint' | 'signing'> {
  const invocation = parseCommandLine(['credentials', 'check', ...flags], env);
  if (invocation.kind !== 'run') throw new UsageError('unexpected help or version request', undefined);
  const { endpoint, signing } = invocation.command;
  return { endpoint, ...(signing ? { signing } : {}) };
}

/** The server, its tools registered; `writes` adds the two that buy. */
export function createMcpServer(options: {
  endpoint: URL;
  signing?: { region: string };
  /** A JWT for an API with the JWT authorizer (PARTNER_ORDERS_TOKEN): sent as `Authorization: Bearer`, never logged. */
  bearerToken?: string;
  writes: boolean;
  fetch?: typeof fetch;
  credentials?: CredentialProvider;
  now?: () => number;
}): McpServer {
  const now = options.now ?? Date.now;
  const quotes = new Map<string, Quote>();
  const common: CommonOptions = {
    endpoint: options.endpoint,
    ...(options.signing ? { signing: options.signing } : {}),
    whatIf: false,
  };

  /** One command, as the CLI sends it: the same URL, headers and signature. */
  async function call(command: Command): Promise<ApiResponse> {
    const request = toApiRequest(command);
    const headers = command.signing
      ? await signRequest(request.url, request, {
          region: command.signing.region,
          ...(options.credentials ? { credentials: options.credentials } : {}),
        })
      : options.bearerToken
        ? { ...request.headers, authorization: `Bearer ${options.bearerToken}` }
        : request.headers;
    return send(request, headers, options.fetch ?? fetch);
  }

  /** The API's answer as a tool result: 2xx as data, anything else as a tool error carrying the problem document. */
  function result(response: ApiResponse, extra: Record<string, unknown> = {}, unknownOutcomeKey?: string): ToolResult {
    const body = response.json ? response.json.value : response.text;
    const replayed = response.headers.get('idempotent-replayed') === 'true';
    const ok = response.status >= 200 && response.status < 300;
    const answer = { status: response.status, ...(replayed ? { idempotentReplayed: true } : {}), ...extra, body };
    if (ok) return text(answer);
    if (unknownOutcomeKey !== undefined && response.status >= 500) {
      return text({ ...answer, whatToDo: unknownOutcome(unknownOutcomeKey) }, true);
    }
    return text(answer, true);
  }

  async function guarded(run: () => Promise<ToolResult>, unknownOutcomeKey?: string): Promise<ToolResult> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof Unreachable) {
        return text(
          {
            error: error.message,
            ...(error.maybeReceived && unknownOutcomeKey !== undefined
              ? { whatToDo: unknownOutcome(unknownOutcomeKey) }
              : { whatToDo: 'nothing was received by the service: check that it is running, then call again' }),
          },
          true,
        );
      }
      return text({ error: (error as Error).message }, true);
    }
  }

  const server = new McpServer(
    { name: 'partner-orders', version: '1' },
    {
      instructions:
        "Buys Microsoft Partner Center products for a partner's customers through the partner-orders service. " +
        'Find what to buy with search_catalog. Before any purchase call quote_order (or quote_cart): it sends ' +
        'nothing to Partner Center and answers with the requests that would be sent, the verdicts of the purchase ' +
        'policy, the catalog pre-flight and the idempotency store, and a quoteId. Show the quote to the user and ' +
        'buy only what they approved, with place_order (or place_cart) and that quoteId and the identical request. ' +
        (options.writes ? '' : 'This server is read-only: it cannot place purchases. ') +
        'A refusal is a tool error carrying an RFC 9457 problem: tell the user its title and detail; do not try to ' +
        'work around a policy refusal.',
    },
  );

  server.registerTool(
    'search_catalog',
    {
      title: 'Search the catalog',
      description:
        "Finds products the customer can buy, by words in their name. Answers each product's SKUs with the " +
        'purchasable catalog id (offerId for quote_order, catalogItemId for quote_cart), the terms and billing ' +
        'cycles offered, and the quantity bounds. Reads only.',
      inputSchema: {
        customerId,
        search: z.string().check(z.minLength(1)),
        targetView: z.optional(z.string()),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ customerId, search, targetView }) =>
      guarded(async () =>
        result(
          await call({
            ...common,
            name: 'catalog search',
            customerId,
            search,
            json: true,
            ...(targetView === undefined ? {} : { targetView }),
          }),
        ),
      ),
  );

  const verdicts =
    'In the answer: `requests` are the Partner Center requests a purchase would send; `authorization` is the ' +
    "purchase policy's decision for you as the caller (allow, or the policy that refuses); `preflight` is the " +
    "catalog's verdict per line (pass; refused: Partner Center would refuse it, with the reason; unavailable or " +
    'unchecked: the catalog could not be asked or the check is off, so Partner Center will judge); `idempotency` ' +
    "is the purchase key's state (new: nothing was bought with it yet); `duplicate`, when present, says the same " +
    'lines were bought recently: placing would be refused (409 possible-duplicate); tell the user, a person can ' +
    'buy them again on purpose, this server cannot. ' +
    'A refusal (policy denied, invalid field) is a tool error with the problem: no quote is given. The quoteId is ' +
    `good for ${QUOTE_TTL_MS / 60_000} minutes; placing it buys exactly this request, once.`;

  async function quote(
    tool: Quote['tool'],
    customer: string,
    body: Record<string, unknown>,
    command: Command,
  ): Promise<ToolResult> {
    const quoteId = randomUUID();
    const response = await call({ ...command, whatIf: true, idempotencyKey: keyForQuote(quoteId) });
    if (response.status < 200 || response.status >= 300) return result(response);
    quotes.set(quoteId, { tool, hash: hashOf({ tool, customerId: customer, body }), quotedAt: now() });
    return result(response, {
      quoteId,
      expiresAt: new Date(now() + QUOTE_TTL_MS).toISOString(),
      idempotencyKey: keyForQuote(quoteId),
      ...(options.writes
        ? {}
        : { note: 'this server is read-only: a person must place the purchase (or start the server with writes on)' }),
    });
  }

  /** The quote this purchase may be placed under, or the reason it may not. */
  function quoteFor(tool: Quote['tool'], quoteId: string, customer: string, body: Record<string, unknown>) {
    const found = quotes.get(quoteId);
    if (!found || found.tool !== tool) {
      return `no quote ${quoteId} for a ${tool} here: call quote_${tool} first (a restarted server forgets its quotes)`;
    }
    if (found.hash !== hashOf({ tool, customerId: customer, body })) {
      return `the request differs from what quote ${quoteId} previewed: call quote_${tool} with this request and show the user the new quote`;
    }
    if (!found.placed && now() - found.quotedAt > QUOTE_TTL_MS) {
      return `quote ${quoteId} is older than ${QUOTE_TTL_MS / 60_000} minutes: quote again`;
    }
    return found;
  }

  const refusal = (reason: string) =>
    text({ status: 'not-sent', detail: reason, whatToDo: 'nothing was sent to the service' }, true);

  server.registerTool(
    'quote_order',
    {
      title: 'Quote an order (dry run)',
      description:
        'The dry run of an order: call it before place_order, every time. Nothing is sent to Partner Center and ' +
        `nothing is bought. ${verdicts}`,
      inputSchema: { customerId, order: CreateOrderRequest },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ customerId, order }) =>
      guarded(() =>
        quote('order', customerId, order, { ...common, name: 'order create', customerId, body: order as OrderBody }),
      ),
  );

  server.registerTool(
    'quote_cart',
    {
      title: 'Quote a cart (dry run)',
      description:
        'The dry run of a cart (checkout: true buys it in the same call): call it before place_cart, every time. ' +
        `Nothing is sent to Partner Center and nothing is bought. ${verdicts}`,
      inputSchema: { customerId, cart: CreateCartRequest },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ customerId, cart }) =>
      guarded(() =>
        quote('cart', customerId, cart, {
          ...common,
          name: 'cart create',
          customerId,
          body: cart as CartBody,
        }),
      ),
  );

  if (options.writes) {
    const placeNote =
      'Buys with real money. Requires the quoteId of a quote of the identical request made within the last ' +
      `${QUOTE_TTL_MS / 60_000} minutes, approved by the user. The purchase's idempotency key is mcp-<quoteId>: ` +
      'calling again with the same quoteId never buys twice (the answer is the first one, replayed: ' +
      'idempotentReplayed true). If the outcome is unknown (a 5xx, or no answer), tell the user the purchase may or ' +
      'may not have been placed and call this tool again with the same quoteId and request to find out; never ' +
      'quote again to retry, which would be a second purchase. A refusal is a tool error carrying the problem.';

    server.registerTool(
      'place_order',
      {
        title: 'Place a quoted order',
        description: `Places an order previewed by quote_order. ${placeNote}`,
        inputSchema: { quoteId: z.string(), customerId, order: CreateOrderRequest },
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      },
      ({ quoteId, customerId, order }) => {
        const found = quoteFor('order', quoteId, customerId, order);
        if (typeof found === 'string') return refusal(found);
        const key = keyForQuote(quoteId);
        found.placed = true;
        return guarded(
          async () =>
            result(
              await call({
                ...common,
                name: 'order create',
                customerId,
                body: order as OrderBody,
                idempotencyKey: key,
              }),
              { quoteId, idempotencyKey: key },
              key,
            ),
          key,
        );
      },
    );

    server.registerTool(
      'place_cart',
      {
        title: 'Place a quoted cart',
        description: `Creates (and with checkout: true checks out) a cart previewed by quote_cart. ${placeNote}`,
        inputSchema: { quoteId: z.string(), customerId, cart: CreateCartRequest },
        annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      },
      ({ quoteId, customerId, cart }) => {
        const found = quoteFor('cart', quoteId, customerId, cart);
        if (typeof found === 'string') return refusal(found);
        const key = keyForQuote(quoteId);
        found.placed = true;
        return guarded(
          async () =>
            result(
              await call({
                ...common,
                name: 'cart create',
                customerId,
                body: cart as CartBody,
                idempotencyKey: key,
              }),
              { quoteId, idempotencyKey: key },
              key,
            ),
          key,
        );
      },
    );
  }

  server.registerTool(
    'purchase_status',
    {
      title: 'Status of a purchase by its key',
      description:
        'What became of a purchase, by its idempotency key (mcp-<quoteId> for purchases placed here): in progress, ' +
        'completed (with the order or cart), or failed. Use it after an unknown outcome. Reads only.',
      inputSchema: { idempotencyKey: z.string().check(z.minLength(1)) },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ idempotencyKey }) =>
      guarded(async () => result(await call({ ...common, name: 'purchase show', key: idempotencyKey }))),
  );

  server.registerTool(
    'order_status',
    {
      title: 'Status of an order',
      description:
        "An order with each line's provisioning status and one overall state (for example pending, provisioned). " +
        'Reads only.',
      inputSchema: { customerId, orderId },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ customerId, orderId }) =>
      guarded(async () => result(await call({ ...common, name: 'order status', customerId, orderId, json: true }))),
  );

  /** One page of a customer's list (the CLI's `order list` / `subscription list`, as JSON). */
  const listPage = (
    name: 'order list' | 'subscription list',
    customerId: string,
    filter: { billingType: string } | { orderId: string } | undefined,
    continuationToken: string | undefined,
  ) =>
    guarded(async () =>
      result(
        await call({
          ...common,
          name,
          customerId,
          all: false,
          json: true,
          ...(filter === undefined ? {} : { filter }),
          ...(continuationToken === undefined ? {} : { continuationToken }),
        }),
      ),
    );

  server.registerTool(
    'list_orders',
    {
      title: "List a customer's orders",
      description:
        "A customer's orders, one page at a time: pass the answer's continuationToken to read the next page. " +
        'Reads only.',
      inputSchema: {
        customerId,
        billingType: z.optional(z.string()),
        continuationToken: z.optional(z.string()),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ customerId, billingType, continuationToken }) =>
      listPage('order list', customerId, billingType === undefined ? undefined : { billingType }, continuationToken),
  );

  server.registerTool(
    'list_subscriptions',
    {
      title: "List a customer's subscriptions",
      description:
        "A customer's subscriptions (optionally only one order's), one page at a time: pass the answer's " +
        'continuationToken to read the next page. Reads only.',
      inputSchema: {
        customerId,
        orderId: z.optional(z.string()),
        continuationToken: z.optional(z.string()),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ customerId, orderId, continuationToken }) =>
      listPage('subscription list', customerId, orderId === undefined ? undefined : { orderId }, continuationToken),
  );

  return server;
}

const unknownOutcome = (key: string) =>
  'The outcome is unknown: the purchase may or may not have been placed. Tell the user exactly that, then call the ' +
  `same place tool again with the same quoteId and request (idempotency key ${key}): it cannot buy twice, and its ` +
  'answer says what happened. Or read it with purchase_status. Do not quote again to retry.';

/** `partner-orders mcp …`: serves until the client closes stdin. Returns an exit code only for a usage error. */
export async function mcpMain(
  argv: string[],
  stdout: { write(chunk: string): unknown },
  stderr: { write(chunk: string): unknown },
  options: McpOptions = {},
): Promise<number | undefined> {
  const env = options.env ?? process.env;
  let writes: boolean;
  let flags: string[];
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        endpoint: { type: 'string' },
        region: { type: 'string' },
        sign: { type: 'boolean' },
        'no-sign': { type: 'boolean' },
        'allow-purchases': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      stdout.write(MCP_HELP);
      return 0;
    }
    writes = values['allow-purchases'] === true || env.PARTNER_ORDERS_MCP_WRITES === 'true';
    flags = argv.filter((arg) => arg !== '--allow-purchases');
  } catch (error) {
    stderr.write(`partner-orders: ${(error as Error).message}\npartner-orders: run 'partner-orders mcp --help'\n`);
    return 2;
  }
  let target: ReturnType<typeof connection>;
  try {
    target = connection(flags, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    stderr.write(`partner-orders: ${error.message}\n`);
    return 2;
  }
  const bearerToken = env.PARTNER_ORDERS_TOKEN || undefined;
  if (bearerToken && target.signing) {
    stderr.write('partner-orders: PARTNER_ORDERS_TOKEN is for an API with the JWT authorizer: add --no-sign\n');
    return 2;
  }
  const server = createMcpServer({
    ...target,
    writes,
    ...(bearerToken ? { bearerToken } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  // stdout is the protocol's channel: everything for a person goes to stderr.
  stderr.write(
    `partner-orders: MCP server on stdio for ${target.endpoint.origin}${target.endpoint.pathname.replace(/\/$/, '')}` +
      `${target.signing ? ` (SigV4, ${target.signing.region})` : bearerToken ? ' (JWT from PARTNER_ORDERS_TOKEN)' : ''}, ${writes ? 'purchases ALLOWED (quote first)' : 'read-only'}\n`,
  );
  await server.connect(new StdioServerTransport());
  return undefined;
}
