// What the MCP tools (tools.ts) need from the service: "make this API request", one route of the route table at a
// time. Each transport answers it its own way, and neither judges anything itself:
//   stdio (cli/mcp.ts)            over HTTP with the CLI's own request layer (SigV4 or a JWT), as any command
//   Streamable HTTP (functions/mcp) in process, through the route's own Lambda handler with the caller's verified
//                                 identity (dispatch.ts)
// So an agent's request meets the same validation, policy, catalog pre-flight and idempotency as anyone's.
import type { RouteKey } from '../routes.js';

export interface ApiCall {
  /** The route, as the route table names it (`POST /customers/{customerId}/orders`). */
  route: RouteKey;
  /** The route's path parameters, unencoded. */
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** Request headers the route reads (`idempotency-key`), lower-case. */
  headers?: Record<string, string>;
  /** Sent as JSON; absent for a GET or a route that takes no body. */
  body?: unknown;
}

export interface ApiAnswer {
  status: number;
  /** Header names lower-case. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the text when it was not JSON. */
  body: unknown;
}

export interface ServiceApi {
  request(call: ApiCall): Promise<ApiAnswer>;
}

/** The request got no answer. `maybeReceived` is false only when the request provably never arrived. */
export class ApiUnreachable extends Error {
  override readonly name = 'ApiUnreachable';

  constructor(
    message: string,
    readonly maybeReceived: boolean,
  ) {
    super(message);
  }
}

/** `/customers/{customerId}/orders` with its parameters filled in, each encoded so that none can change the route. */
export function pathOf(call: Pick<ApiCall, 'route' | 'pathParameters'>): string {
  const template = call.route.slice(call.route.indexOf(' ') + 1);
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = call.pathParameters?.[name];
    if (value === undefined) throw new Error(`${call.route}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
}

export const methodOf = (route: RouteKey) => route.slice(0, route.indexOf(' ')) as 'GET' | 'POST' | 'PATCH';
