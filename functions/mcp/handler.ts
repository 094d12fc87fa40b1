// POST /mcp: the Model Context Protocol's Streamable HTTP transport, stateless (no session id) with JSON answers, as a
// route of the API (docs/agents.md). The same HTTP stack as every route (http.ts): API Gateway events only, the caller
// identified before anything is read (IAM: API Gateway's verified identity; JWT: the token, verified here). Per
// request a server with the shared tools (functions/shared/mcp/tools.ts) is built for that caller: each tool call is
// dispatched in process to the route's own handler with the caller's identity (shared/mcp/dispatch.ts), and quotes
// live on the idempotency table so that any invocation can place them. The tools that buy or change are listed only
// when the deployment turns them on (MCP_WRITES=true; CDK context `mcpWrites`). GET /mcp answers 405: a stateless
// server offers no event stream.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { readConfig } from '../shared/config.js';
import { IdempotencyStoreError, ValidationError } from '../shared/errors.js';
import { callerOf, type HttpContext, type HttpEvent, type HttpResult, httpStack } from '../shared/http.js';
import { IDEMPOTENCY_CLIENT_CONFIG } from '../shared/idempotency.js';
import { type HttpIdentity, identityFrom } from '../shared/identity/http.js';
import { type HandlerOf, inProcessApi } from '../shared/mcp/dispatch.js';
import { dynamoDBQuotes } from '../shared/mcp/dynamodb-quotes.js';
import type { QuoteStore } from '../shared/mcp/quotes.js';
import { createMcpServer } from '../shared/mcp/tools.js';
import { PROBLEM_CONTENT_TYPE } from '../shared/problem.js';

export interface McpDependencies {
  identity: HttpIdentity;
  /** The route handlers the tools' requests are dispatched to. */
  handlerOf: HandlerOf;
  /** Where quotes are kept: the idempotency table (none configured: every quote is refused with a 503). */
  quotes: QuoteStore;
  /** Lists the tools that buy or change (MCP_WRITES). */
  writes: boolean;
  now?: () => number;
}

const methodNotAllowed = (): HttpResult => ({
  statusCode: 405,
  headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, Allow: 'POST' },
  body: JSON.stringify({
    type: 'urn:partner-orders:problem:method-not-allowed',
    title: 'Method not allowed',
    status: 405,
    detail: 'This MCP server is stateless: it offers no event stream. Send JSON-RPC messages with POST.',
  }),
});

/** The request as the SDK's web-standard transport takes it (headers only: the body was parsed by the stack). */
function toRequest(event: HttpEvent): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && name !== 'host' && name !== 'content-length') headers.set(name, value);
  }
  return new Request(`https://${event.requestContext.domainName || 'localhost'}${event.rawPath}`, {
    method: 'POST',
    headers,
  });
}

export const createHandler = (deps: McpDependencies) =>
  httpStack(async (event: HttpEvent, context: HttpContext) => {
    if (event.routeKey === 'GET /mcp') return methodNotAllowed();
    if (event.routeKey !== 'POST /mcp') {
      throw new ValidationError([{ path: '/routeKey', message: `${event.routeKey} is not served here` }], 400);
    }
    const server = createMcpServer({
      api: inProcessApi(event, context, deps.handlerOf),
      quotes: deps.quotes,
      // The agent is the verified caller, a principal of its own in the policy: its quotes are its own.
      principal: callerOf(context).caller,
      writes: deps.writes,
      ...(deps.now ? { now: deps.now } : {}),
    });
    // Stateless: a new transport per request, no session id, one JSON answer (Lambda does not stream here).
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await server.connect(transport);
    try {
      const response = await transport.handleRequest(toRequest(event), { parsedBody: event.body });
      const body = await response.text();
      return {
        statusCode: response.status,
        headers: { ...Object.fromEntries(response.headers), 'Cache-Control': 'no-store' },
        ...(body === '' ? {} : { body }),
      };
    } finally {
      await server.close();
    }
  }, deps.identity);

/** No table: quotes cannot be kept, so none is given (a 503 tool error, as a keyed purchase without one answers). */
const noQuotes: QuoteStore = {
  save: () => Promise.reject(new IdempotencyStoreError(new Error('IDEMPOTENCY_TABLE_NAME is not configured'))),
  get: () => Promise.reject(new IdempotencyStoreError(new Error('IDEMPOTENCY_TABLE_NAME is not configured'))),
  markPlaced: () => Promise.reject(new IdempotencyStoreError(new Error('IDEMPOTENCY_TABLE_NAME is not configured'))),
};

/** The idempotency table's quotes, or none. */
export function quotesFrom(config: { idempotencyTableName?: string; idempotencyTtlSeconds: number }): QuoteStore {
  return config.idempotencyTableName
    ? dynamoDBQuotes({
        tableName: config.idempotencyTableName,
        client: new DynamoDBClient(IDEMPOTENCY_CLIENT_CONFIG),
        placedTtlSeconds: config.idempotencyTtlSeconds,
      })
    : noQuotes;
}

// Each route's own deployed handler, loaded (and wired from this function's environment) the first time a tool needs
// it: one bundle, but a container that only lists tools never loads the purchase path.
const HANDLERS = {
  'create-order': () => import('../create-order/handler.js'),
  'create-cart': () => import('../create-cart/handler.js'),
  'credentials-health': () => import('../credentials-health/handler.js'),
  catalog: () => import('../catalog/handler.js'),
  status: () => import('../status/handler.js'),
  subscriptions: () => import('../subscriptions/handler.js'),
} as const;

const config = readConfig();
export const handler = createHandler({
  identity: identityFrom(config),
  handlerOf: async (name) => {
    if (name === 'mcp') throw new Error('the MCP route does not call itself');
    return (await HANDLERS[name]()).handler;
  },
  quotes: quotesFrom(config),
  writes: process.env.MCP_WRITES === 'true',
});
