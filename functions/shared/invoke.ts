// Direct invocation (Step Functions, another Lambda, `aws lambda invoke`) of the invoke-purchase function: a flat
// command payload — `command` (CreateOrder, CreateCart, CheckoutCart), the same fields as the event `detail`, plus
// `dryRun` and `idempotencyKey` — answered with the same JSON the HTTP route returns. Caller errors come back as a
// problem object; transient failures throw, so the caller's retry policy applies. An API Gateway event or an SQS
// batch is refused (entry-points.ts): the caller is always `Invoker::"invoke"`, whatever the payload says.
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { INVOKE_CALLER } from './caller.js';
import { type Command, perform } from './commands.js';
import { PossibleDuplicateError } from './duplicates/errors.js';
import { refuseTriggerShapes } from './entry-points.js';
import { credentialFields, DeadlineExceededError, ValidationError } from './errors.js';
import { forbiddenKey } from './forbidden-keys.js';
import type { HttpDependencies } from './http.js';
import { injectLambdaContext, logger } from './log.js';
import { toProblem } from './problem.js';
import { idempotencyKey } from './schemas/ids.js';
import { parseParts } from './validation.js';

const InvokeOptions = z.strictObject({
  dryRun: z.optional(z.boolean()),
  idempotencyKey: z.optional(idempotencyKey),
  allowDuplicate: z.optional(z.boolean()),
});

/** One kind of command the function takes: its payload schema (without `command`) and the command it makes. */
export interface InvokeCommand<P> {
  schema: z.ZodMiniType<P>;
  toCommand(payload: P): Command;
}

export const invokeCommand = <P>(schema: z.ZodMiniType<P>, toCommand: (payload: P) => Command): InvokeCommand<P> => ({
  schema,
  toCommand,
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

// biome-ignore lint/suspicious/noExplicitAny: each command has its own payload type
export function invokeHandler(commands: Record<string, InvokeCommand<any>>, deps: Omit<HttpDependencies, 'identity'>) {
  const names = Object.keys(commands);
  const invoke = async (event: unknown, context: Context): Promise<unknown> => {
    try {
      // Before anything else: a payload shaped like another trigger's event is not a command (entry-points.ts).
      refuseTriggerShapes(event);
      const forbidden = forbiddenKey(event);
      if (forbidden) throw new ValidationError([forbidden]);
      if (!event || typeof event !== 'object' || Array.isArray(event)) {
        throw new ValidationError([{ path: '', message: 'must be an object (a flat command)' }]);
      }
      const { command: name, dryRun, idempotencyKey: key, allowDuplicate, ...rest } = event as Record<string, unknown>;
      const kind = typeof name === 'string' && Object.hasOwn(commands, name) ? commands[name] : undefined;
      if (!kind) {
        throw new ValidationError([
          { path: '/command', message: `must be one of: ${names.join(', ')} (${JSON.stringify(name ?? null)} given)` },
        ]);
      }
      const { options, payload } = parseParts(
        { options: [InvokeOptions, { dryRun, idempotencyKey: key, allowDuplicate }], payload: [kind.schema, rest] },
        () => '',
      );
      const command = kind.toCommand(payload);
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
