// The local API: one node:http server that serves the route table by invoking the same Lambda handlers that
// API Gateway invokes in AWS. Routing is the route table's; validation and errors are the handlers' own.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { RouteNotFoundError, ValidationError } from '../functions/shared/errors.js';
import { logger } from '../functions/shared/log.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../functions/shared/problem.js';
import { type FunctionName, type Route, routeKey, routes } from '../functions/shared/routes.js';
import { GATEWAY_MAX_BODY_BYTES, PayloadTooLarge, readBody, toContext, toEvent, writeResult } from './api-gateway.js';
import { hostGuard } from './host-guard.js';

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Where the request came in: the server's own address as the client reached it (`http://127.0.0.1:3100`). */
export interface LocalRequestInfo {
  origin: string;
}

/** Extra local-only endpoints (e.g. `/openapi.json`), answered before the route table. */
export type LocalEndpoint = (
  method: string,
  url: URL,
  body: Buffer,
  local?: LocalRequestInfo,
) => Promise<APIGatewayProxyStructuredResultV2 | undefined>;

/**
 * How long a client may take to send its request. Node's defaults (60 s for the headers, 300 s for the whole
 * request, checked every 30 s) held a stalled request for minutes; API Gateway does not wait that long either.
 */
export const REQUEST_TIMEOUTS: Readonly<{ headersMs: number; requestMs: number; checkEveryMs: number }> = {
  /** The request line and headers. */
  headersMs: 10_000,
  /** The whole request, body included (from its first byte). The handler's own time is not counted. */
  requestMs: 30_000,
  /** How often Node checks the two above: the most a timeout can be late. */
  checkEveryMs: 1_000,
};

export interface LocalServerOptions {
  handlers: Record<FunctionName, LambdaHttpHandler>;
  /** The deployed functions' timeout, so deadlines behave locally as in AWS. */
  functionTimeoutMs?: number;
  extra?: LocalEndpoint[];
  /** Overrides of REQUEST_TIMEOUTS (tests use short ones). */
  timeouts?: Partial<typeof REQUEST_TIMEOUTS>;
  /** Host names answered besides loopback (ALLOWED_HOSTS; local/host-guard.ts). */
  allowedHosts?: readonly string[];
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

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The caller's MS-CorrelationId when it is a GUID (as the handlers take it), else a new one. */
function correlationIdOf(request: IncomingMessage): string {
  const given = request.headers['ms-correlationid'];
  return typeof given === 'string' && GUID.test(given) ? given.toLowerCase() : randomUUID();
}

/**
 * Every answer carries MS-CorrelationId, as the handlers' do: the server's own answers (404, 405, 413, local-only
 * endpoints) get the caller's or a new one.
 */
function withCorrelationId(
  result: APIGatewayProxyStructuredResultV2,
  request: IncomingMessage,
): APIGatewayProxyStructuredResultV2 {
  const headers = result.headers ?? {};
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'ms-correlationid')) return result;
  return { ...result, headers: { ...headers, 'MS-CorrelationId': correlationIdOf(request) } };
}

const problemResult = (error: unknown, detail?: (detail: string) => string): APIGatewayProxyStructuredResultV2 => {
  const { problem, headers } = toProblem(error);
  if (detail) problem.detail = detail(problem.detail);
  return {
    statusCode: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers },
    body: JSON.stringify(problem),
  };
};

/** `http://host:port` of the server as this socket reached it (IPv6 in brackets). */
function originOf(socket: Socket): string {
  let address = socket.localAddress ?? '127.0.0.1';
  if (address.startsWith('::ffff:') && address.includes('.')) address = address.slice('::ffff:'.length);
  return `http://${address.includes(':') ? `[${address}]` : address}:${socket.localPort}`;
}

/**
 * The request target as a URL on this server. The path is kept exactly as sent: `//customers/…` is that path (a
 * doubled slash), not a URL whose host is `customers`. An absolute-form target (`GET http://other/x`, as sent to a
 * proxy) keeps only its path and query.
 */
function requestUrl(target: string, origin: string): URL {
  if (target.startsWith('/')) return new URL(`${origin}${target}`);
  try {
    const absolute = new URL(target);
    return new URL(`${origin}${absolute.pathname}${absolute.search}`);
  } catch {
    return new URL(`${origin}/${target}`);
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** A problem written straight to the socket, for requests Node's parser refused or gave up on. */
function rawProblem(socket: Socket, status: 400 | 408 | 431): void {
  const problem =
    status === 408
      ? {
          type: 'urn:partner-orders:problem:request-timeout',
          title: 'Request timeout',
          status,
          detail: 'The request was not received in time: send the headers and the body without pausing.',
        }
      : status === 431
        ? {
            type: 'urn:partner-orders:problem:too-large',
            title: 'Request header fields too large',
            status,
            detail: 'The request line and headers are larger than accepted.',
          }
        : {
            type: 'urn:partner-orders:problem:validation',
            title: 'Invalid request',
            status,
            detail: 'The request is not valid HTTP.',
          };
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `MS-CorrelationId: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createLocalServer(options: LocalServerOptions): Server {
  const compiled = (routes as readonly Route[]).map(compile);
  const timeoutMs = options.functionTimeoutMs ?? 29_000;
  const timeouts = { ...REQUEST_TIMEOUTS, ...options.timeouts };
  const guard = hostGuard(options.allowedHosts);

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const method = request.method ?? 'GET';
    const origin = originOf(request.socket);
    const url = requestUrl(request.url ?? '/', origin);
    const started = performance.now();
    /** The server's own answers (the handlers log theirs): one DEBUG line each. */
    const answer = (result: APIGatewayProxyStructuredResultV2) => {
      const sent = withCorrelationId(result, request);
      writeResult(response, sent);
      logger.debug('local server answered', {
        method,
        path: url.pathname,
        status: sent.statusCode,
        durationMs: Math.round(performance.now() - started),
        correlationId: sent.headers?.['MS-CorrelationId'] ?? sent.headers?.['ms-correlationid'],
      });
    };
    try {
      // Before anything else: a request for another name, or from another site's page, reaches no handler.
      const refusal = guard(request.headers);
      if (refusal) {
        request.resume();
        const problem = {
          type: `urn:partner-orders:problem:${refusal.status === 421 ? 'host-not-allowed' : 'origin-not-allowed'}`,
          title: refusal.status === 421 ? 'Not this server' : 'Cross-site request refused',
          status: refusal.status,
          detail: refusal.detail,
        };
        logger.warn('local server refused a request', {
          method,
          path: url.pathname,
          host: request.headers.host,
          origin: request.headers.origin,
          status: refusal.status,
        });
        return answer({
          statusCode: refusal.status,
          headers: { 'Content-Type': PROBLEM_CONTENT_TYPE },
          body: JSON.stringify(problem),
        });
      }
      let body: Buffer;
      try {
        body = await readBody(request);
      } catch (error) {
        // Not received in time (the clientError handler below has answered 408) or cut off by the client: the stream
        // failed, and there is no one left to answer.
        if (!(error instanceof PayloadTooLarge)) return;
        const limit = `is larger than API Gateway's ${GATEWAY_MAX_BODY_BYTES} bytes`;
        answer(problemResult(new ValidationError([{ path: '/body', message: limit }], 413)));
        request.resume();
        return;
      }
      for (const endpoint of options.extra ?? []) {
        const result = await endpoint(method, url, body, { origin });
        if (result) return answer(result);
      }
      const matches = compiled.flatMap((c) => {
        const m = c.pattern.exec(url.pathname);
        return m ? [{ ...c, values: m.slice(1) }] : [];
      });
      const match = matches.find((m) => m.route.method === method);
      if (!match) {
        const allowed = matches.map((m) => m.route.method);
        // API Gateway routes the path as sent; a doubled slash is the usual slip (an endpoint ending in '/').
        const hint = url.pathname.includes('//')
          ? (detail: string) => `${detail}: the path has an empty segment ('//'); remove the doubled slash.`
          : undefined;
        return answer(problemResult(new RouteNotFoundError(method, url.pathname, allowed), hint));
      }
      const pathParameters = Object.fromEntries(match.names.map((name, i) => [name, decode(match.values[i] ?? '')]));
      const event = toEvent(request, url, body, { routeKey: routeKey(match.route), pathParameters });
      const handler = options.handlers[match.route.function];
      writeResult(response, await handler(event, toContext(match.route.function, timeoutMs)));
    } catch (error) {
      // The handlers answer their own errors; reaching here is a bug in the server itself.
      if (!response.headersSent && !response.destroyed) answer(problemResult(error));
      else response.destroy();
    }
  };

  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: timeouts.checkEveryMs,
    },
    (request, response) => void handle(request, response),
  );
  // Requests Node's parser refuses (a request line or headers over its limit, bad framing) or gives up on (headers
  // or body not received in time) get a problem too, as API Gateway answers them itself, instead of a bare 400 or a
  // reset connection.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // A response already begun on this socket cannot be replaced: only closing it is left.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || error.code === 'ECONNRESET' || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    rawProblem(socket, status);
  });
  return server;
}
