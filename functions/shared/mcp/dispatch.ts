// The Streamable HTTP server's "make this API request" (api.ts): in process, through the route's own Lambda handler,
// as API Gateway would have invoked it for the same caller. The inner event copies the real event's request context
// (with IAM, the identity API Gateway verified) and its Authorization header (with a JWT, verified again by the
// route's handler against the route's own scope), and takes the route, path, query and body of the tool's request.
// Nothing else of the agent's request reaches the route: the route judges the call as it judges anyone's.
import type { Context } from 'aws-lambda';
import type { HttpContext, HttpEvent, HttpResult } from '../http.js';
import { logger } from '../log.js';
import { type FunctionName, type Route, routeKey, routes } from '../routes.js';
import { type ApiCall, methodOf, pathOf, type ServiceApi } from './api.js';

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;
/** The handler of a function folder, loaded when first asked for. */
export type HandlerOf = (name: FunctionName) => Promise<RouteHandler>;

const FUNCTION_OF = new Map((routes as readonly Route[]).map((route) => [routeKey(route) as string, route.function]));

function header(headers: HttpEvent['headers'] | undefined, lowerCaseName: string): string | undefined {
  for (const name in headers) if (name.toLowerCase() === lowerCaseName) return headers[name];
  return undefined;
}

/** The API Gateway event the route's handler would have received for this call from the same caller. */
export function innerEvent(outer: HttpEvent, correlationId: string | undefined, call: ApiCall): HttpEvent {
  const path = pathOf(call);
  const query = call.query ?? {};
  const authorization = header(outer.headers, 'authorization');
  return {
    version: '2.0',
    routeKey: call.route,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: {
      ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(authorization === undefined ? {} : { authorization }),
      ...(correlationId === undefined ? {} : { 'ms-correlationid': correlationId }),
      ...call.headers,
    },
    ...(Object.keys(query).length > 0 ? { queryStringParameters: { ...query } } : {}),
    ...(call.pathParameters ? { pathParameters: { ...call.pathParameters } } : {}),
    requestContext: {
      ...outer.requestContext,
      routeKey: call.route,
      http: { ...outer.requestContext.http, method: methodOf(call.route), path },
    },
    ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    isBase64Encoded: false,
  };
}

export function inProcessApi(outer: HttpEvent, context: HttpContext, handlerOf: HandlerOf): ServiceApi {
  return {
    async request(call) {
      const name = FUNCTION_OF.get(call.route);
      // The MCP route itself is never a tool's target: no request reaches it from inside.
      if (name === undefined || name === 'mcp') throw new Error(`${call.route} is not a route a tool may call`);
      const handler = await handlerOf(name);
      // A context of its own (the same deadline): the route's stack sets its own caller and correlation id on it.
      const inner = Object.create(context) as HttpContext;
      // Its log keys are its own (the route's stack resets them when it ends): the MCP request's keys stay as they were.
      const result = await logger.withKeys({}, () => handler(innerEvent(outer, context.correlationId, call), inner));
      const headers = Object.fromEntries(
        Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
      );
      let body: unknown = result.body ?? '';
      try {
        if (typeof body === 'string' && body !== '') body = JSON.parse(body);
      } catch {
        // Not JSON: shown as it came.
      }
      return { status: result.statusCode ?? 200, headers, body };
    },
  };
}
