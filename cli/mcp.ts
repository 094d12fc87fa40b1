// `partner-orders mcp`: a Model Context Protocol server on stdio for AI agents (docs/agents.md). The tools are the
// service's own (functions/shared/mcp/tools.ts, the same as the API's `POST /mcp` serves); here each is one request
// to the service's HTTP API through the CLI's own request layer (http.ts, sign.ts), so the service judges it exactly
// as it judges a person's command: validation, policy, catalog pre-flight, idempotency. Quotes are kept in this
// process (a restarted server forgets them; nothing was placed under them yet). Loaded only for `mcp`: the SDK and
// zod stay out of every other command.
import { parseArgs } from 'node:util';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type ApiCall, ApiUnreachable, methodOf, pathOf, type ServiceApi } from '../functions/shared/mcp/api.js';
import { memoryQuotes } from '../functions/shared/mcp/quotes.js';
import { createMcpServer as createTools } from '../functions/shared/mcp/tools.js';
import { type CommonOptions, type Env, parseCommandLine } from './args.js';
import { send, Unreachable } from './http.js';
import type { ApiRequest } from './request.js';
import { type CredentialProvider, signRequest } from './sign.js';
import { UsageError } from './usage-error.js';

export { keyForQuote, QUOTE_TTL_MS } from '../functions/shared/mcp/quotes.js';

export const MCP_HELP = `Usage: partner-orders mcp [--endpoint URL] [--region REGION] [--sign|--no-sign] [--allow-purchases]

A Model Context Protocol server on stdio, for an AI agent's MCP client to launch (docs/agents.md).
Its tools call the API at --endpoint (or PARTNER_ORDERS_ENDPOINT), signed with SigV4 for AWS hosts as every
command is, or with the JWT in PARTNER_ORDERS_TOKEN (an API with the JWT authorizer; --no-sign). Read-only unless --allow-purchases (or PARTNER_ORDERS_MCP_WRITES=true): only then are place_order,
place_cart and place_subscription_change offered, and each needs a quote of the identical request made within 10 minutes.
A deployed API also serves these tools itself over Streamable HTTP at POST /mcp.
`;

export interface McpOptions {
  env?: Env;
  fetch?: typeof fetch;
  credentials?: CredentialProvider;
}

/** The connection every command takes (--endpoint, --region, --sign/--no-sign, PARTNER_ORDERS_ENDPOINT), judged alike. */
function connection(flags: string[], env: Env): Pick<CommonOptions, 'endpoint' | 'signing'> {
  const invocation = parseCommandLine(['credentials', 'check', ...flags], env);
  if (invocation.kind !== 'run') throw new UsageError('unexpected help or version request', undefined);
  const { endpoint, signing } = invocation.command;
  return { endpoint, ...(signing ? { signing } : {}) };
}

interface HttpApiOptions {
  endpoint: URL;
  signing?: { region: string };
  /** A JWT for an API with the JWT authorizer (PARTNER_ORDERS_TOKEN): sent as `Authorization: Bearer`, never logged. */
  bearerToken?: string;
  fetch?: typeof fetch;
  credentials?: CredentialProvider;
}

/** The tools' "make this API request" over HTTP: the same URL, headers and signature as the CLI's commands. */
export function httpServiceApi(options: HttpApiOptions): ServiceApi {
  return {
    async request(call: ApiCall) {
      const url = new URL(options.endpoint);
      url.pathname = `${options.endpoint.pathname.replace(/\/+$/, '')}${pathOf(call)}`;
      for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
      const headers: Record<string, string> = {
        accept: 'application/json, application/problem+json',
        ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...call.headers,
      };
      const request: ApiRequest = {
        method: methodOf(call.route),
        url,
        headers,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      };
      const sent = options.signing
        ? await signRequest(url, request, {
            region: options.signing.region,
            ...(options.credentials ? { credentials: options.credentials } : {}),
          })
        : options.bearerToken
          ? { ...headers, authorization: `Bearer ${options.bearerToken}` }
          : headers;
      try {
        const response = await send(request, sent, options.fetch ?? fetch);
        return {
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: response.json ? response.json.value : response.text,
        };
      } catch (error) {
        if (error instanceof Unreachable) throw new ApiUnreachable(error.message, error.maybeReceived);
        throw error;
      }
    },
  };
}

/** The stdio server: the shared tools over the HTTP API, quotes in this process; `writes` adds the ones that buy. */
export function createMcpServer(options: HttpApiOptions & { writes: boolean; now?: () => number }): McpServer {
  return createTools({
    api: httpServiceApi(options),
    quotes: memoryQuotes(),
    // Every quote here is this process's: the API identifies the caller behind it on each request.
    principal: 'stdio',
    writes: options.writes,
    ...(options.now ? { now: options.now } : {}),
  });
}

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
