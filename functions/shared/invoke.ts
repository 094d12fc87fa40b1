// Direct invocation (Step Functions, another Lambda, `aws lambda invoke`): a flat command payload — the same shape
// as the event `detail`, plus `dryRun` and `idempotencyKey` — answered with the same JSON the HTTP route returns.
// Caller errors come back as a problem object; transient failures throw, so the caller's retry policy applies.
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { INVOKE_CALLER } from './caller.js';
import { type Command, perform } from './commands.js';
import { PossibleDuplicateError } from './duplicates/errors.js';
import { credentialFields, DeadlineExceededError, ValidationError } from './errors.js';
import { forbiddenKey } from './forbidden-keys.js';
import type { HttpDependencies, HttpEvent, HttpResult } from './http.js';
import { injectLambdaContext, logger } from './log.js';
import { toProblem } from './problem.js';
import { idempotencyKey } from './schemas/ids.js';
import { parseParts } from './validation.js';

const InvokeOptions = z.strictObject({
  dryRun: z.optional(z.boolean()),
  idempotencyKey: z.optional(idempotencyKey),
  allowDuplicate: z.optional(z.boolean()),
});

/** Thrown for failures worth retrying (throttling, Partner Center or AWS unavailable, a key in flight). */
export class RetryableError extends Error {
  override readonly name = 'PartnerOrdersRetryableError';
  constructor(
    readonly problem: { status: number; title: string; detail: string },
    cause: unknown,
  ) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`, { cause });
  }
}

/** Statuses a caller must fix, as opposed to ones a later retry may get past. */
const isCallerError = (status: number) => status >= 400 && status < 500 && status !== 409 && status !== 429;

type Schema<P> = z.ZodMiniType<P> | ((payload: unknown) => z.ZodMiniType<P>);

export function invokeHandler<P>(toCommand: (payload: P) => Command, schema: Schema<P>, deps: HttpDependencies) {
  const invoke = async (event: unknown, context: Context): Promise<unknown> => {
    try {
      const forbidden = forbiddenKey(event);
      if (forbidden) throw new ValidationError([forbidden]);
      const {
        dryRun,
        idempotencyKey: key,
        allowDuplicate,
        ...rest
      } = (event && typeof event === 'object' ? event : {}) as Record<string, unknown>;
      const { options, payload } = parseParts(
        {
          options: [InvokeOptions, { dryRun, idempotencyKey: key, allowDuplicate }],
          payload: [typeof schema === 'function' ? schema(rest) : schema, rest],
        },
        () => '',
      );
      const command = toCommand(payload);
      logger.appendKeys({ customerId: command.customerId, operation: command.operation, entryPoint: 'invoke' });
      const outcome = await perform(
        command,
        {
          caller: INVOKE_CALLER,
          ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
          idempotencyKeyPath: '/idempotencyKey',
          dryRun: options.dryRun ?? false,
          ...(options.allowDuplicate ? { allowDuplicate: true } : {}),
          correlationId: randomUUID(),
          deadline:
            Date.now() + Math.min(context.getRemainingTimeInMillis() - deps.deadlineMarginMs, deps.maxRequestMs),
          context,
        },
        deps,
      );
      logger.info('invocation completed', {
        status: outcome.status,
        replayed: outcome.replayed,
        reconciled: outcome.reconciled ?? false,
      });
      return outcome.reconciled ? { ...(outcome.body as object), reconciled: true } : outcome.body;
    } catch (error) {
      const { problem } = toProblem(error);
      // A possible duplicate is the caller's to decide (allowDuplicate): answered, not retried.
      if (isCallerError(problem.status) || error instanceof PossibleDuplicateError) {
        logger.warn('invocation refused', { status: problem.status, reason: problem.detail });
        return problem;
      }
      logger.error('invocation failed', { status: problem.status, ...credentialFields(error), error });
      throw new RetryableError(problem, error);
    }
  };
  // Just before Lambda's own timeout: a retryable error the caller's retry policy knows (Step Functions retries
  // PartnerOrdersRetryableError), not middy's TimeoutError, which it would not retry.
  return middy<unknown, unknown, Error, Context>({
    timeoutEarlyResponse: () => {
      const deadline = new DeadlineExceededError();
      const { problem } = toProblem(deadline);
      logger.error('invocation failed', { status: problem.status, error: deadline });
      throw new RetryableError(problem, deadline);
    },
  })
    .use(injectLambdaContext())
    .handler(invoke);
}

/**
 * An API Gateway HTTP API (payload v2) event, as API Gateway builds it. Anything short of that is a direct invocation
 * and is judged by the invocation schema: a payload that merely has `requestContext` and `routeKey` keys used to be
 * taken for an HTTP event and fail inside the HTTP stack with a 500.
 */
const isHttpEvent = (event: unknown): event is HttpEvent => {
  if (typeof event !== 'object' || event === null) return false;
  const { version, routeKey, requestContext } = event as Record<string, unknown>;
  return (
    version === '2.0' &&
    typeof routeKey === 'string' &&
    typeof requestContext === 'object' &&
    requestContext !== null &&
    typeof (requestContext as { http?: unknown }).http === 'object'
  );
};

/** A function with two doors: API Gateway events get the HTTP answer, anything else the invocation answer. */
export interface EntryPoint {
  (event: HttpEvent, context: Context): Promise<HttpResult>;
  (event: unknown, context: Context): Promise<unknown>;
}

export function entryPoint(
  http: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  invoke: (event: unknown, context: Context) => Promise<unknown>,
): EntryPoint {
  return ((event: unknown, context: Context) =>
    isHttpEvent(event) ? http(event, context) : invoke(event, context)) as EntryPoint;
}
