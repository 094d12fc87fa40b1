// The HTTP stack every API function shares. The onion, outermost first:
//   injectLambdaContext  request-scoped log keys, cleared after each invocation (API Gateway v2 already
//                        lower-cases header names, so no header normaliser is needed)
//   correlation          MS-CorrelationId in (validated) or generated; echoed on every response, errors included
//   accessLog            one line per request: route, status, duration, customer, upstream ids
//   problemDetails       any error → RFC 9457 application/problem+json, never a stack trace
//   apiGatewayOnly       API Gateway HTTP API events only (entry-points.ts): a direct invocation is refused
//   authenticate         who is asking (identity/http.ts): a verified JWT, or API Gateway's IAM authorizer; before
//                        anything is read or parsed
//   bodyLimit            413 above MAX_BODY_BYTES, before anything is parsed
//   jsonBody             application/json in UTF-8 only, parsed strictly (json-text.ts: no key twice, no
//                        __proto__, no bytes that were not UTF-8)
// then the route's operation: parse path, query, headers and body with their zod schemas → the command → perform
// (idempotency when keyed, functions/shared/commands.ts) → respond.
import { randomUUID } from 'node:crypto';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { type Command, type CommandDependencies, perform } from './commands.js';
import { requireApiGatewayEvent } from './entry-points.js';
import {
  credentialFields,
  DeadlineExceededError,
  PartnerCenterError,
  UpstreamUnavailableError,
  ValidationError,
} from './errors.js';
import type { HttpCaller, HttpIdentity } from './identity/http.js';
import { parseJsonText, utf8 } from './json-text.js';
import { injectLambdaContext, logger } from './log.js';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.js';
import type { RouteKey } from './routes.js';
import { MAX_BODY_BYTES } from './schemas/common.js';
import { DryRunQuery, IdempotencyKeyHeaders } from './schemas/ids.js';
import { parseParts } from './validation.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export interface HttpContext extends Context {
  correlationId?: string;
  /** Set by `authenticate` before the route runs: who is asking. */
  caller?: HttpCaller;
}
type HttpRequest = Request<HttpEvent, HttpResult, Error, HttpContext>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The first header of that name in any case, without allocating (this runs on every request). */
function headerValue(headers: HttpEvent['headers'] | undefined, lowerCaseName: string): string | undefined {
  for (const name in headers) {
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return headers[name];
  }
  return undefined;
}

/** Partner Center wants a GUID here; a caller's own id is accepted and passed on so that both logs line up. */
const correlation = (): MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext> => {
  const echo = (request: HttpRequest) => {
    if (request.response && request.context.correlationId) {
      request.response.headers = { ...request.response.headers, 'MS-CorrelationId': request.context.correlationId };
    }
  };
  return {
    before: (request) => {
      const given = headerValue(request.event?.headers, 'ms-correlationid');
      request.context.correlationId = given && GUID.test(given) ? given.toLowerCase() : randomUUID();
      logger.appendKeys({ correlationId: request.context.correlationId });
      if (given !== undefined && !GUID.test(given)) {
        throw new ValidationError([{ path: '/headers/ms-correlationid', message: 'must be a GUID' }]);
      }
    },
    after: echo,
    onError: echo,
  };
};

/** When the request reached accessLog, kept on middy's request object itself (not in a WeakMap: one entry per request). */
const STARTED_AT = Symbol('startedAt');
type TimedRequest = HttpRequest & { [STARTED_AT]?: number };

const accessLog = (): MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext> => {
  const log = (request: TimedRequest) => {
    const status = request.response?.statusCode ?? 500;
    const error = request.error;
    const now = performance.now();
    const attributes: Record<string, unknown> = {
      route: request.event?.routeKey,
      status,
      durationMs: Math.round(now - (request[STARTED_AT] ?? now)),
    };
    if (error instanceof PartnerCenterError || error instanceof UpstreamUnavailableError) {
      attributes.upstreamRequestId = error.ids.requestId;
    }
    if (status >= 500) logger.error('request failed', { ...attributes, ...credentialFields(error), error });
    else if (status >= 400) logger.warn('request refused', { ...attributes, reason: error?.message });
    else logger.info('request completed', attributes);
  };
  return {
    before: (request: TimedRequest) => {
      request[STARTED_AT] = performance.now();
    },
    after: log,
    onError: log,
  };
};

const problemDetails = (): MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext> => ({
  onError: (request) => {
    const { problem, headers } = toProblem(request.error);
    request.response = {
      statusCode: problem.status,
      headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers },
      body: JSON.stringify(problem),
    };
  },
});

const apiGatewayOnly = (): MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext> => ({
  before: ({ event, context }) => requireApiGatewayEvent(event, context.functionName || 'This function'),
});

const authenticate = (identity: HttpIdentity): MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext> => ({
  before: async (request) => {
    request.context.caller = await identity.identify(request.event);
  },
});

/** The caller `authenticate` established; a dispatch run outside the stack has none, and is refused. */
export function callerOf(context: HttpContext): HttpCaller {
  if (!context.caller) throw new Error('no caller: the HTTP stack did not authenticate this request');
  return context.caller;
}

const bodyLimit = (maxBytes: number): MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext> => ({
  before: ({ event }) => {
    if (!event.body) return;
    // API Gateway always sends text; anything else (a hand-made event) is refused here, not crashed on below.
    if (typeof event.body !== 'string') throw new ValidationError([{ path: '/body', message: 'must be a JSON text' }]);
    const bytes = Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    if (bytes > maxBytes) {
      throw new ValidationError(
        [{ path: '/body', message: `is ${bytes} bytes; at most ${maxBytes} are accepted` }],
        413,
        'The request body is too large.',
      );
    }
  },
});

/** `application/json`, with no parameter but a UTF-8 charset: `+json` variants and other charsets are not JSON here. */
const JSON_CONTENT_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/**
 * An absent or empty body is left undefined for the route's schema to judge; anything else must be a JSON text in
 * UTF-8, uncompressed, read without guessing (json-text.ts): a key twice in one object, a `__proto__` key or bytes
 * that were not UTF-8 are refused with the path they are at.
 */
const jsonBody = (): MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext> => ({
  before: (request) => {
    const { body, headers, isBase64Encoded } = request.event;
    if (!body) {
      request.event.body = undefined;
      return;
    }
    const encoding = headerValue(headers, 'content-encoding');
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new ValidationError(
        [{ path: '/headers/content-encoding', message: 'is not accepted: send the JSON uncompressed' }],
        415,
      );
    }
    const contentType = headerValue(headers, 'content-type');
    if (contentType === undefined || !JSON_CONTENT_TYPE.test(contentType.trim())) {
      throw new ValidationError([{ path: '/headers/content-type', message: 'must be application/json (UTF-8)' }], 415);
    }
    let text = body;
    if (isBase64Encoded) {
      const decoded = utf8(Buffer.from(body, 'base64'), '/body');
      if ('error' in decoded) throw new ValidationError([decoded.error]);
      text = decoded.text;
    }
    const parsed = parseJsonText(text, '/body');
    if ('error' in parsed) throw new ValidationError([parsed.error]);
    request.event.body = parsed.value as never;
  },
});

/** What a route needs: schemas for its path and body, and the command they make. */
export interface Operation<Path, Body> {
  path: z.ZodMiniType<Path>;
  body: z.ZodMiniType<Body>;
  /** Treat an absent body as `{}` (checkout takes no options). */
  bodyOptional?: boolean;
  command(input: { path: Path; body: Body }): Command;
}

export const operation = <Path, Body>(definition: Operation<Path, Body>) => definition;

export interface HttpDependencies extends CommandDependencies {
  /** How callers are identified (identity/http.ts): the deployment's mode, never the payload's. */
  identity: HttpIdentity;
  /** Upper bound for a request with no Lambda deadline, and what is kept back from the Lambda's deadline. */
  maxRequestMs: number;
  deadlineMarginMs: number;
}

const NO_HEADERS = Object.freeze({});
const idempotencyKeyOf = (headers: HttpEvent['headers'] | undefined) => {
  const key = headers?.['idempotency-key'];
  const allow = headers?.['allow-duplicate'];
  if (allow !== undefined)
    return { ...(key === undefined ? {} : { 'idempotency-key': key }), 'allow-duplicate': allow };
  return key === undefined ? NO_HEADERS : { 'idempotency-key': key };
};

export function httpHandler(
  operations: Partial<Record<RouteKey, Operation<unknown, unknown>>>,
  dependencies: HttpDependencies,
) {
  const dispatch = async (event: HttpEvent, context: HttpContext): Promise<HttpResult> => {
    const op = operations[event.routeKey as RouteKey];
    if (!op) throw new ValidationError([{ path: '/routeKey', message: `${event.routeKey} is not served here` }], 400);
    const { path, query, body, headers } = parseParts({
      path: [op.path, event.pathParameters ?? {}],
      query: [DryRunQuery, event.queryStringParameters ?? {}],
      // The one header an operation reads; the others were never validated, so they are not copied either.
      headers: [IdempotencyKeyHeaders, idempotencyKeyOf(event.headers)],
      body: [op.body, event.body === undefined && op.bodyOptional ? {} : event.body],
    });
    const command = op.command({ path, body });
    logger.appendKeys({ customerId: command.customerId, operation: command.operation });

    const remaining = context.getRemainingTimeInMillis?.() ?? dependencies.maxRequestMs;
    const idempotencyKey = headers['idempotency-key'];
    const { caller, groups } = callerOf(context);
    const outcome = await perform(
      command,
      {
        caller,
        callerGroups: groups,
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        idempotencyKeyPath: '/headers/idempotency-key',
        dryRun: query.dryRun === 'true',
        ...(headers['allow-duplicate'] === 'true' ? { allowDuplicate: true } : {}),
        correlationId: context.correlationId ?? randomUUID(),
        deadline: Date.now() + Math.min(remaining - dependencies.deadlineMarginMs, dependencies.maxRequestMs),
        context,
      },
      dependencies,
    );
    const problem = outcome.status >= 400;
    return {
      statusCode: outcome.status,
      headers: {
        'Content-Type': problem ? PROBLEM_CONTENT_TYPE : 'application/json',
        ...outcome.headers,
        ...(outcome.replayed ? { 'Idempotent-Replayed': 'true' } : {}),
        ...(outcome.reconciled ? { 'Idempotent-Reconciled': 'true' } : {}),
      },
      body: JSON.stringify(outcome.body),
    };
  };

  return httpStack(dispatch, dependencies.identity);
}

/** The onion above around any HTTP dispatch: the command routes' and the health check's. */
export function httpStack(
  dispatch: (event: HttpEvent, context: HttpContext) => Promise<HttpResult>,
  identity: HttpIdentity,
) {
  // Just before Lambda's own timeout middy gives up on the handler; the answer is then a 504 "outcome unknown, retry
  // with the same key", not the 500 "a bug" its default TimeoutError became (found by the reliability suites).
  return middy<HttpEvent, HttpResult, Error, HttpContext>({
    timeoutEarlyResponse: () => {
      throw new DeadlineExceededError();
    },
  })
    .use(injectLambdaContext())
    .use(correlation())
    .use(accessLog())
    .use(problemDetails())
    .use(apiGatewayOnly())
    .use(authenticate(identity))
    .use(bodyLimit(MAX_BODY_BYTES))
    .use(jsonBody())
    .handler(dispatch);
}
