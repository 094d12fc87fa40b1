// The local API: one node:http server that serves the route table by invoking the same Lambda handlers that
// API Gateway invokes in AWS. Routing is the route table's; validation and errors are the handlers' own.
import { createServer, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { RouteNotFoundError, ValidationError } from '../functions/shared/errors.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../functions/shared/problem.js';
import { type FunctionName, type Route, routeKey, routes } from '../functions/shared/routes.js';
import { GATEWAY_MAX_BODY_BYTES, PayloadTooLarge, readBody, toContext, toEvent, writeResult } from './api-gateway.js';

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Extra local-only endpoints (e.g. `/openapi.json`), answered before the route table. */
export type LocalEndpoint = (
  method: string,
  url: URL,
  body: Buffer,
) => Promise<APIGatewayProxyStructuredResultV2 | undefined>;

export interface LocalServerOptions {
  handlers: Record<FunctionName, LambdaHttpHandler>;
  /** The deployed functions' timeout, so deadlines behave locally as in AWS. */
  functionTimeoutMs?: number;
  extra?: LocalEndpoint[];
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

const compile = (route: Route): CompiledRoute => {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
};

const decode = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

const problemResult = (error: unknown): APIGatewayProxyStructuredResultV2 => {
  const { problem, headers } = toProblem(error);
  return {
    statusCode: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers },
    body: JSON.stringify(problem),
  };
};

export function createLocalServer(options: LocalServerOptions): Server {
  const compiled = (routes as readonly Route[]).map(compile);
  const timeoutMs = options.functionTimeoutMs ?? 29_000;

  const server = createServer(async (request, response) => {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://localhost');
    try {
      let body: Buffer;
      try {
        body = await readBody(request);
      } catch (error) {
        if (!(error instanceof PayloadTooLarge)) throw error;
        const limit = `is larger than API Gateway's ${GATEWAY_MAX_BODY_BYTES} bytes`;
        writeResult(response, problemResult(new ValidationError([{ path: '/body', message: limit }], 413)));
        request.resume();
        return;
      }
      for (const endpoint of options.extra ?? []) {
        const result = await endpoint(method, url, body);
        if (result) return writeResult(response, result);
      }
      const matches = compiled.flatMap((c) => {
        const m = c.pattern.exec(url.pathname);
        return m ? [{ ...c, values: m.slice(1) }] : [];
      });
      const match = matches.find((m) => m.route.method === method);
      if (!match) {
        const allowed = matches.map((m) => m.route.method);
        return writeResult(response, problemResult(new RouteNotFoundError(method, url.pathname, allowed)));
      }
      const pathParameters = Object.fromEntries(match.names.map((name, i) => [name, decode(match.values[i] ?? '')]));
      const event = toEvent(request, url, body, { routeKey: routeKey(match.route), pathParameters });
      const handler = options.handlers[match.route.function];
      writeResult(response, await handler(event, toContext(match.route.function, timeoutMs)));
    } catch (error) {
      // The handlers answer their own errors; reaching here is a bug in the server itself.
      if (!response.headersSent) writeResult(response, problemResult(error));
      else response.destroy();
    }
  });
  // Requests Node's parser refuses (a request line or headers over its limit, bad framing) get a problem too, as
  // API Gateway answers them itself, instead of a bare 400 or a reset connection.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const problem = {
      type: `urn:partner-orders:problem:${tooLarge ? 'too-large' : 'validation'}`,
      title: tooLarge ? 'Request header fields too large' : 'Invalid request',
      status,
      detail: tooLarge ? 'The request line and headers are larger than accepted.' : 'The request is not valid HTTP.',
    };
    const body = JSON.stringify(problem);
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
