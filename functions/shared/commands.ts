// One way to run a purchase, whichever entry point asked for it (HTTP, event, direct invoke): the service call,
// wrapped in idempotency when the caller gave a key, with caller errors turned into final outcomes.
import type { Context } from 'aws-lambda';
import { IdempotencyStoreError } from './errors.js';
import type { IdempotencyStore, Outcome } from './idempotency.js';
import { toProblem } from './problem.js';
import type { ServiceContext, ServiceResult } from './services/context.js';
import { uuidv5 } from './uuid.js';

/** A validated request, ready to run. `input` is what a repeated key must match (the fingerprint). */
export interface Command {
  operation: 'createOrder' | 'addOnToOrder' | 'createCart' | 'checkoutCart';
  customerId: string;
  input: unknown;
  run(ctx: ServiceContext): Promise<ServiceResult>;
}

export interface PerformOptions {
  /** Who is asking (an IAM principal, a JWT subject, an event source): keys never cross callers. */
  caller: string;
  idempotencyKey?: string;
  dryRun: boolean;
  correlationId: string;
  deadline: number;
  context?: Context;
}

export interface CommandDependencies {
  partnerCenter: ServiceContext['partnerCenter'];
  /** Absent when no table is configured: a request with a key is then refused (fail closed). */
  idempotency?: IdempotencyStore;
}

/**
 * Outcomes that are the same whenever the request is repeated: successes and the caller's own errors. Throttling
 * (429), conflicts of the moment (409: order or checkout in progress) and every 5xx are not, so they are not stored.
 */
const isFinal = (status: number) => status < 400 || (status < 500 && status !== 409 && status !== 429);

async function finalOutcome(command: Command, ctx: ServiceContext): Promise<Outcome> {
  try {
    const { status, body } = await command.run(ctx);
    return { status, body };
  } catch (error) {
    const { problem, headers } = toProblem(error);
    if (isFinal(problem.status)) return { status: problem.status, body: problem, headers };
    throw error;
  }
}

export async function perform(
  command: Command,
  options: PerformOptions,
  deps: CommandDependencies,
): Promise<Outcome & { replayed: boolean }> {
  const scope =
    options.idempotencyKey === undefined
      ? undefined
      : JSON.stringify([options.caller, command.operation, command.customerId, options.idempotencyKey]);
  const ctx: ServiceContext = {
    partnerCenter: deps.partnerCenter,
    correlationId: options.correlationId,
    deadline: options.deadline,
    dryRun: options.dryRun,
    // Each step of the call gets its own MS-RequestId, the same on every retry with this key, even one after a
    // Lambda timeout that never recorded its result.
    ...(scope ? { requestIdFor: (step: string) => uuidv5(`${scope}|${step}`) } : {}),
  };
  if (!scope || options.dryRun) {
    const { status, body } = await command.run(ctx);
    return { status, body, replayed: false };
  }
  if (!deps.idempotency) throw new IdempotencyStoreError(new Error('IDEMPOTENCY_TABLE_NAME is not configured'));
  return deps.idempotency.run(
    { scope, fingerprint: { operation: command.operation, customerId: command.customerId, input: command.input } },
    () => finalOutcome(command, ctx),
    options.context,
  );
}
