// The MCP server's tools, defined once for both transports (docs/agents.md): each is one request of the route table,
// made through a ServiceApi (api.ts), so the service judges an agent's request exactly as a person's. The one rule of
// the server's own: a purchase, or an after-purchase change, needs a quote (a dry run) of the identical request by
// the same principal, and its idempotency key derives from that quote (quotes.ts), so an agent's retry never buys
// twice and never buys what it did not preview. Without `writes` the tools that buy or change are not listed.
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import * as z from 'zod/mini';
import { config as zodConfig } from 'zod/v4/core';
import type { RouteKey } from '../routes.js';
import { CreateCartRequest } from '../schemas/carts.js';
import { customerId, orderId } from '../schemas/ids.js';
import { CreateOrderRequest } from '../schemas/orders.js';
import { AutoRenewRequest, ReduceRequest, ScheduleRequest, subscriptionId } from '../subscriptions/schemas.js';
import { type ApiAnswer, type ApiCall, ApiUnreachable, type ServiceApi } from './api.js';
import { keyForQuote, QUOTE_TTL_MS, type QuoteKind, type QuoteStore, requestHash, whyNot } from './quotes.js';

// The SDK loads zod's classic API, which installs zod's English messages for every schema in the process. The
// service's own messages (validation.ts) are written over zod/mini's bare issues, and the routes this process runs
// (the mcp function's, the local server's) must answer as they do everywhere else: the messages are taken back out.
zodConfig({ localeError: undefined });

export interface McpToolsOptions {
  api: ServiceApi;
  quotes: QuoteStore;
  /** Who is asking (caller.ts's name): quotes are theirs only. */
  principal: string;
  /** Adds the tools that buy or change what was bought. */
  writes: boolean;
  now?: () => number;
}

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

const text = (value: unknown, isError = false): ToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }],
  ...(isError ? { isError: true } : {}),
});

const unknownOutcome = (key: string, placeTool: string) =>
  'The outcome is unknown: the purchase may or may not have been placed. Tell the user exactly that, then call ' +
  `${placeTool} again with the same quoteId and request (idempotency key ${key}): it cannot buy twice, and its ` +
  'answer says what happened. Or read it with purchase_status. Do not quote again to retry.';

/** The API's answer as a tool result: 2xx as data, anything else as a tool error carrying the problem document. */
function result(answer: ApiAnswer, extra: Record<string, unknown> = {}, unknown?: () => string): ToolResult {
  const replayed = answer.headers['idempotent-replayed'] === 'true';
  const shown = {
    status: answer.status,
    ...(replayed ? { idempotentReplayed: true } : {}),
    ...extra,
    body: answer.body,
  };
  if (answer.status >= 200 && answer.status < 300) return text(shown);
  if (unknown && answer.status >= 500) return text({ ...shown, whatToDo: unknown() }, true);
  return text(shown, true);
}

async function guarded(run: () => Promise<ToolResult>, unknown?: () => string): Promise<ToolResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ApiUnreachable) {
      return text(
        {
          error: error.message,
          whatToDo:
            error.maybeReceived && unknown
              ? unknown()
              : error.maybeReceived
                ? 'the service may have received the request but did not answer: call again'
                : 'nothing was received by the service: check that it is running, then call again',
        },
        true,
      );
    }
    return text({ error: (error as Error).message }, true);
  }
}

/** A query of the parameters given (an absent optional one is not sent). */
const defined = (query: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));

const READ = { readOnlyHint: true, openWorldHint: true } as const;
const WRITE = { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;

/** An after-purchase change, as the model writes it: the operation and that operation's own request. */
const SubscriptionChange = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('cancel') }),
  z.strictObject({ action: z.literal('reduce'), seatsToRemove: ReduceRequest.shape.seatsToRemove }),
  z.strictObject({ action: z.literal('auto-renew'), enabled: AutoRenewRequest.shape.enabled }),
  z.strictObject({ action: z.literal('schedule'), changes: ScheduleRequest }),
  z.strictObject({ action: z.literal('cancel-schedule') }),
]);
type SubscriptionChange = z.infer<typeof SubscriptionChange>;

const CHANGE_ROUTES = {
  cancel: 'POST /customers/{customerId}/subscriptions/{subscriptionId}/cancel',
  reduce: 'POST /customers/{customerId}/subscriptions/{subscriptionId}/reduce',
  'auto-renew': 'POST /customers/{customerId}/subscriptions/{subscriptionId}/auto-renew',
  schedule: 'POST /customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes',
  'cancel-schedule': 'POST /customers/{customerId}/subscriptions/{subscriptionId}/scheduled-changes/cancel',
} as const satisfies Record<SubscriptionChange['action'], RouteKey>;

function changeCall(customer: string, subscription: string, change: SubscriptionChange): ApiCall {
  const body =
    change.action === 'reduce'
      ? { seatsToRemove: change.seatsToRemove }
      : change.action === 'auto-renew'
        ? { enabled: change.enabled }
        : change.action === 'schedule'
          ? change.changes
          : {};
  return {
    route: CHANGE_ROUTES[change.action],
    pathParameters: { customerId: customer, subscriptionId: subscription },
    body,
  };
}

/** The server, its tools registered; one per stdio process, one per HTTP request (the stateless transport). */
export function createMcpServer(options: McpToolsOptions): McpServer {
  const { api, quotes, principal, writes } = options;
  const now = options.now ?? Date.now;

  const server = new McpServer(
    { name: 'partner-orders', version: '1' },
    {
      instructions:
        "Buys Microsoft Partner Center products for a partner's customers through the partner-orders service. " +
        'Find what to buy with search_catalog. Before any purchase call quote_order (or quote_cart): it sends ' +
        'nothing to Partner Center and answers with the requests that would be sent, the verdicts of the purchase ' +
        'policy, the catalog pre-flight and the idempotency store, and a quoteId. Show the quote to the user and ' +
        'buy only what they approved, with place_order (or place_cart) and that quoteId and the identical request. ' +
        'Cancelling, reducing or changing a subscription works the same way: quote_subscription_change, then ' +
        'place_subscription_change. ' +
        (writes ? '' : 'This server is read-only: it cannot place purchases or change subscriptions. ') +
        'A refusal is a tool error carrying an RFC 9457 problem: tell the user its title and detail; do not try to ' +
        'work around a policy refusal.',
    },
  );

  const read = (call: ApiCall) => guarded(async () => result(await api.request(call)));

  server.registerTool(
    'search_catalog',
    {
      title: 'Search the catalog',
      description:
        "Finds products the customer can buy, by words in their name. Answers each product's SKUs with the " +
        'purchasable catalog id (offerId for quote_order, catalogItemId for quote_cart), the terms and billing ' +
        'cycles offered, and the quantity bounds. Reads only.',
      inputSchema: { customerId, search: z.string().check(z.minLength(1)), targetView: z.optional(z.string()) },
      annotations: READ,
    },
    ({ customerId, search, targetView }) =>
      read({
        route: 'GET /customers/{customerId}/catalog',
        pathParameters: { customerId },
        query: defined({ search, targetView }),
      }),
  );

  const verdicts =
    'In the answer: `requests` are the Partner Center requests the purchase would send; `authorization` is the ' +
    "purchase policy's decision for you as the caller (allow, or the policy that refuses); `preflight` is the " +
    "catalog's verdict per line (pass; refused: Partner Center would refuse it, with the reason; unavailable or " +
    'unchecked: the catalog could not be asked or the check is off, so Partner Center will judge); `idempotency` ' +
    "is the purchase key's state (new: nothing was bought with it yet); `duplicate`, when present, says the same " +
    'lines were bought recently: placing would be refused (409 possible-duplicate); tell the user, a person can ' +
    'buy them again on purpose, this server cannot. ' +
    'A refusal (policy denied, invalid field) is a tool error with the problem: no quote is given. The quoteId is ' +
    `good for ${QUOTE_TTL_MS / 60_000} minutes; placing it buys exactly this request, once.`;

  /** A dry run of `call` under the key its quote would place it with; the quote is kept only when it was accepted. */
  async function quote(kind: QuoteKind, call: ApiCall): Promise<ToolResult> {
    const quoteId = randomUUID();
    const key = keyForQuote(quoteId);
    const answer = await api.request({
      ...call,
      query: { ...call.query, dryRun: 'true' },
      headers: { ...call.headers, 'idempotency-key': key },
    });
    if (answer.status < 200 || answer.status >= 300) return result(answer);
    const expiresAt = now() + QUOTE_TTL_MS;
    await quotes.save({ id: quoteId, principal, kind, hash: requestHash({ kind, call }), expiresAt });
    return result(answer, {
      quoteId,
      expiresAt: new Date(expiresAt).toISOString(),
      idempotencyKey: key,
      ...(writes
        ? {}
        : { note: 'this server is read-only: a person must carry this out (or a server with writes on)' }),
    });
  }

  /** `call` under the key of `quoteId`, if that quote is this principal's, of this kind and this very request. */
  async function place(kind: QuoteKind, quoteId: string, call: ApiCall, tools: [string, string]): Promise<ToolResult> {
    const [quoteTool, placeTool] = tools;
    const key = keyForQuote(quoteId);
    const unknown = () => unknownOutcome(key, placeTool);
    return guarded(async () => {
      const found = await quotes.get(quoteId);
      const reason = whyNot(
        found,
        { id: quoteId, principal, kind, hash: requestHash({ kind, call }), now: now() },
        quoteTool,
      );
      if (reason !== undefined) {
        return text({ status: 'not-sent', detail: reason, whatToDo: 'nothing was sent to the service' }, true);
      }
      if (!found?.placed) await quotes.markPlaced(quoteId);
      return result(
        await api.request({ ...call, headers: { ...call.headers, 'idempotency-key': key } }),
        { quoteId, idempotencyKey: key },
        unknown,
      );
    }, unknown);
  }

  const orderCall = (customerId: string, order: unknown): ApiCall => ({
    route: 'POST /customers/{customerId}/orders',
    pathParameters: { customerId },
    body: order,
  });
  const cartCall = (customerId: string, cart: unknown): ApiCall => ({
    route: 'POST /customers/{customerId}/carts',
    pathParameters: { customerId },
    body: cart,
  });

  server.registerTool(
    'quote_order',
    {
      title: 'Quote an order (dry run)',
      description:
        'The dry run of an order: call it before place_order, every time. Nothing is sent to Partner Center and ' +
        `nothing is bought. ${verdicts}`,
      inputSchema: { customerId, order: CreateOrderRequest },
      annotations: READ,
    },
    ({ customerId, order }) => guarded(() => quote('order', orderCall(customerId, order))),
  );

  server.registerTool(
    'quote_cart',
    {
      title: 'Quote a cart (dry run)',
      description:
        'The dry run of a cart (checkout: true buys it in the same call): call it before place_cart, every time. ' +
        `Nothing is sent to Partner Center and nothing is bought. ${verdicts}`,
      inputSchema: { customerId, cart: CreateCartRequest },
      annotations: READ,
    },
    ({ customerId, cart }) => guarded(() => quote('cart', cartCall(customerId, cart))),
  );

  const placeNote =
    'Buys with real money. Requires the quoteId of a quote of the identical request made within the last ' +
    `${QUOTE_TTL_MS / 60_000} minutes, approved by the user. The purchase's idempotency key is mcp-<quoteId>: ` +
    'calling again with the same quoteId never buys twice (the answer is the first one, replayed: ' +
    'idempotentReplayed true). If the outcome is unknown (a 5xx, or no answer), tell the user the purchase may or ' +
    'may not have been placed and call this tool again with the same quoteId and request to find out; never ' +
    'quote again to retry, which would be a second purchase. A refusal is a tool error carrying the problem.';

  if (writes) {
    server.registerTool(
      'place_order',
      {
        title: 'Place a quoted order',
        description: `Places an order previewed by quote_order. ${placeNote}`,
        inputSchema: { quoteId: z.string(), customerId, order: CreateOrderRequest },
        annotations: WRITE,
      },
      ({ quoteId, customerId, order }) =>
        place('order', quoteId, orderCall(customerId, order), ['quote_order', 'place_order']),
    );

    server.registerTool(
      'place_cart',
      {
        title: 'Place a quoted cart',
        description: `Creates (and with checkout: true checks out) a cart previewed by quote_cart. ${placeNote}`,
        inputSchema: { quoteId: z.string(), customerId, cart: CreateCartRequest },
        annotations: WRITE,
      },
      ({ quoteId, customerId, cart }) =>
        place('cart', quoteId, cartCall(customerId, cart), ['quote_cart', 'place_cart']),
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
      annotations: READ,
    },
    ({ idempotencyKey }) => read({ route: 'GET /purchases/{idempotencyKey}', pathParameters: { idempotencyKey } }),
  );

  server.registerTool(
    'order_status',
    {
      title: 'Status of an order',
      description:
        "An order with each line's provisioning status and one overall state (for example pending, provisioned). " +
        'Reads only.',
      inputSchema: { customerId, orderId },
      annotations: READ,
    },
    ({ customerId, orderId }) =>
      read({ route: 'GET /customers/{customerId}/orders/{orderId}', pathParameters: { customerId, orderId } }),
  );

  server.registerTool(
    'list_orders',
    {
      title: "List a customer's orders",
      description:
        "A customer's orders, one page at a time: pass the answer's continuationToken to read the next page. " +
        'Reads only.',
      inputSchema: { customerId, billingType: z.optional(z.string()), continuationToken: z.optional(z.string()) },
      annotations: READ,
    },
    ({ customerId, billingType, continuationToken }) =>
      read({
        route: 'GET /customers/{customerId}/orders',
        pathParameters: { customerId },
        query: defined({ billingType, continuationToken }),
      }),
  );

  server.registerTool(
    'list_subscriptions',
    {
      title: "List a customer's subscriptions",
      description:
        "A customer's subscriptions (optionally only one order's), one page at a time: pass the answer's " +
        'continuationToken to read the next page. Reads only.',
      inputSchema: { customerId, orderId: z.optional(z.string()), continuationToken: z.optional(z.string()) },
      annotations: READ,
    },
    ({ customerId, orderId, continuationToken }) =>
      read({
        route: 'GET /customers/{customerId}/subscriptions',
        pathParameters: { customerId },
        query: defined({ orderId, continuationToken }),
      }),
  );

  server.registerTool(
    'get_subscription',
    {
      title: 'A subscription and its refund windows',
      description:
        'A subscription with its refund windows: whether it can still be cancelled for a refund and until when ' +
        '(refundableUntil, cancellable), how many seats can be removed now (removableSeats, seatWindows), and what ' +
        'is scheduled for the next term. Read it before quoting a cancel or a reduction. Reads only.',
      inputSchema: { customerId, subscriptionId },
      annotations: READ,
    },
    ({ customerId, subscriptionId }) =>
      read({
        route: 'GET /customers/{customerId}/subscriptions/{subscriptionId}',
        pathParameters: { customerId, subscriptionId },
      }),
  );

  const changeNote =
    'The change is one of: cancel (within the refund window: 7 days after purchase or renewal), reduce ' +
    '(seatsToRemove, within the window of the seats removed), auto-renew (enabled true or false), schedule ' +
    '(changes for the next term: quantity, termDuration, billingCycle, catalogItemId), cancel-schedule.';

  server.registerTool(
    'quote_subscription_change',
    {
      title: 'Quote a subscription change (dry run)',
      description:
        'The dry run of a change to a subscription after its purchase: call it before place_subscription_change, ' +
        `every time. Nothing is changed. ${changeNote} The answer shows the request that would be sent, the ` +
        "policy's decision for you, and whether the refund window still allows it; a refusal is a tool error with " +
        `the problem and no quote. The quoteId is good for ${QUOTE_TTL_MS / 60_000} minutes.`,
      inputSchema: { customerId, subscriptionId, change: SubscriptionChange },
      annotations: READ,
    },
    ({ customerId, subscriptionId, change }) =>
      guarded(() => quote('subscription-change', changeCall(customerId, subscriptionId, change))),
  );

  if (writes) {
    server.registerTool(
      'place_subscription_change',
      {
        title: 'Carry out a quoted subscription change',
        description:
          'Carries out a change previewed by quote_subscription_change: a cancel or reduction refunds money, a ' +
          `schedule or auto-renew change decides what is bought at renewal. ${changeNote} Requires the quoteId of ` +
          `a quote of the identical change made within the last ${QUOTE_TTL_MS / 60_000} minutes, approved by ` +
          'the user; its key is mcp-<quoteId>, so calling again with the same quoteId never changes twice. On an ' +
          'unknown outcome call again with the same quoteId; never quote again to retry.',
        inputSchema: { quoteId: z.string(), customerId, subscriptionId, change: SubscriptionChange },
        annotations: WRITE,
      },
      ({ quoteId, customerId, subscriptionId, change }) =>
        place('subscription-change', quoteId, changeCall(customerId, subscriptionId, change), [
          'quote_subscription_change',
          'place_subscription_change',
        ]),
    );
  }

  return server;
}
