// One way to run a purchase, whichever entry point asked for it (HTTP, event, direct invoke): the service call,
// wrapped in idempotency when the caller gave a key, with caller errors turned into final outcomes.
import type { Context } from 'aws-lambda';
import type { Preflight } from './catalog/preflight.js';
import { customerGuard } from './customers/guard.js';
import type { DuplicateGuard } from './duplicates/guard.js';
import { IdempotencyConflictError, IdempotencyKeyRequiredError, IdempotencyStoreError } from './errors.js';
import type { ExactlyOnce } from './exactly-once/place-once.js';
import type { IdempotencyStore, KeyState, Outcome } from './idempotency.js';
import type { ProvisioningTracking } from './lifecycle/tracking.js';
import type { PurchasePolicy } from './policy/check.js';
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
  /** Who is asking (caller.ts: an IAM role, a JWT subject, an event source): keys never cross callers. */
  caller: string;
  /** The groups or app roles a JWT caller's token claims (caller.ts `jwtGroups`), for the purchase policy. */
  callerGroups?: readonly string[];
  idempotencyKey?: string;
  /** Where the key is read from, for the problem when it is required and missing (`/headers/idempotency-key`). */
  idempotencyKeyPath: string;
  dryRun: boolean;
  /** The caller says a purchase of the same lines as a recent one is meant (Allow-Duplicate; duplicates/). */
  allowDuplicate?: boolean;
  correlationId: string;
  deadline: number;
  context?: Context;
}

/** How pessimistic to be about Partner Center (config.ts: RECONCILE_SETTLE_SECONDS, CLOCK_SKEW_SECONDS). */
export type ReconcileSettings = Pick<ExactlyOnce, 'settleMs' | 'skewMs' | 'retryDelayMs'> &
  Partial<Pick<ExactlyOnce, 'now' | 'sleep'>>;

export interface CommandDependencies {
  partnerCenter: ServiceContext['partnerCenter'];
  /** Absent when no table is configured: a request with a key is then refused (fail closed). */
  idempotency?: IdempotencyStore;
  /** False only when the deployment chose optional keys (IDEMPOTENCY_KEY_REQUIRED=false). */
  requireIdempotencyKey: boolean;
  reconcile: ReconcileSettings;
  /** The purchase policy (policy/check.ts): who may buy what, decided before anything is sent. */
  policy: PurchasePolicy;
  /** The catalog pre-flight (catalog/preflight.ts, PREFLIGHT): checks a purchase's lines before anything is sent. */
  preflight: Preflight;
  /** Refuses the same lines bought again under another key (duplicates/, DUPLICATE_WINDOW_HOURS); none when absent. */
  duplicates?: DuplicateGuard;
  /** Follows the orders of every purchase placed until they are provisioned (lifecycle/tracking.ts); none when absent. */
  tracking?: ProvisioningTracking;
}

/** A purchase's answer, as every entry point gives it back. */
export type Performed = Outcome & { replayed: boolean; reconciled?: boolean };

/**
 * Outcomes that are the same whenever the request is repeated: successes and the caller's own errors. Throttling
 * (429), conflicts of the moment (409: order or checkout in progress) and every 5xx are not, so they are not stored.
 */
const isFinal = (status: number) => status < 400 || (status < 500 && status !== 409 && status !== 429);

async function finalOutcome(command: Command, ctx: ServiceContext): Promise<Outcome & { reconciled?: boolean }> {
  try {
    const { status, body, reconciled } = await command.run(ctx);
    return { status, body, ...(reconciled ? { reconciled } : {}) };
  } catch (error) {
    // The key used with another request is this request's problem, not the key's outcome: never stored under it.
    if (error instanceof IdempotencyConflictError) throw error;
    const { problem, headers } = toProblem(error);
    if (isFinal(problem.status)) return { status: problem.status, body: problem, headers };
    throw error;
  }
}

export async function perform(
  command: Command,
  options: PerformOptions,
  deps: CommandDependencies,
): Promise<Performed> {
  const { idempotencyKey, dryRun } = options;
  if (idempotencyKey === undefined && !dryRun && deps.requireIdempotencyKey) {
    throw new IdempotencyKeyRequiredError(options.idempotencyKeyPath);
  }
  // Innermost: the orders a purchase placed are followed once it ran, never on a replay or a dry run.
  if (deps.tracking) command = deps.tracking.follow(command, options);
  // Inside the command, so that a replay is answered without it and a resumed purchase is not checked twice.
  command = deps.preflight.guard(command, options);
  // An unknown customer is 404 customer-not-found at its field; a repeat of a recent purchase is refused before the
  // catalog is read (duplicates/guard.ts).
  command = customerGuard(command, options);
  if (deps.duplicates) command = deps.duplicates.guard(command, options);
  // Outermost, so the policy decides before the pre-flight reads anything: who may buy comes first.
  command = deps.policy.guard(command, options);
  const scope =
    idempotencyKey === undefined
      ? undefined
      : JSON.stringify([options.caller, command.operation, command.customerId, idempotencyKey]);
  if (scope && !deps.idempotency) {
    throw new IdempotencyStoreError(new Error('IDEMPOTENCY_TABLE_NAME is not configured'));
  }
  const store = scope ? deps.idempotency : undefined;
  const ctx: ServiceContext = {
    partnerCenter: deps.partnerCenter,
    correlationId: options.correlationId,
    deadline: options.deadline,
    dryRun,
    // Each step of the call gets its own MS-RequestId, the same on every retry with this key, even one after a
    // Lambda timeout that never recorded its result.
    ...(scope ? { requestIdFor: (step: string) => uuidv5(`${scope}|${step}`) } : {}),
    ...(scope && store && !dryRun && idempotencyKey !== undefined
      ? {
          exactlyOnce: {
            // What was asked goes into the journal with its first write, for the reconciler and GET /purchases/{key}.
            records: store.records(scope, {
              caller: options.caller,
              operation: command.operation,
              customerId: command.customerId,
              idempotencyKey,
              input: command.input,
            }),
            ...deps.reconcile,
          },
        }
      : {}),
  };
  const call = scope && {
    scope,
    fingerprint: { operation: command.operation, customerId: command.customerId, input: command.input },
  };
  if (!call || !store) {
    const { status, body, reconciled } = await command.run(ctx);
    return { status, body, replayed: false, ...(reconciled ? { reconciled } : {}) };
  }
  if (dryRun) {
    // What the key would do: a dry run tells the truth about a replay, a mismatch or a request in flight.
    const [state, planned] = await Promise.all([store.peek(call), command.run(ctx)]);
    return { status: planned.status, body: { ...(planned.body as object), ...describeKey(state) }, replayed: false };
  }
  return store.run(call, () => finalOutcome(command, ctx), options.context);
}

const describeKey = (state: KeyState) =>
  state.idempotency === 'replay' ? { idempotency: 'replay', storedStatus: state.status } : state;
