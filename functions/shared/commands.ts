// One way to run a purchase, whichever entry point asked for it (HTTP, event, direct invoke): the service call,
// wrapped in idempotency when the caller gave a key, with caller errors turned into final outcomes.
import type { Preflight } from './catalog/preflight.js';
import { customerGuard } from './customers/guard.js';
import type { DuplicateGuard } from './duplicates/guard.js';
import { IdempotencyConflictError, IdempotencyKeyRequiredError, IdempotencyStoreError } from './errors.js';
import type { Journal } from './exactly-once/records.js';
import type { IdempotencyStore, KeyState, Outcome } from './idempotency.js';
import type { ProvisioningTracking } from './lifecycle/tracking.js';
import type { PurchasePolicy } from './policy/check.js';
import { toProblem } from './problem.js';
import {
  type Command,
  type ExactlyOnce,
  type Operation,
  type PerformOptions,
  payloadPrefix,
  type ServiceContext,
} from './purchase/model.js';
import type { SubscriptionSettings } from './subscriptions/intents.js';
import { uuidv5 } from './uuid.js';

export type { Command, PerformOptions } from './purchase/model.js';

/** How a keyed purchase paces the checkouts of its cart within one request. */
export type ExactlyOnceSettings = Omit<ExactlyOnce, 'journal'>;

export interface CommandDependencies {
  partnerCenter: ServiceContext['partnerCenter'];
  /** Absent when no table is configured: a request with a key is then refused (fail closed). */
  idempotency?: IdempotencyStore;
  /** False only when the deployment chose optional keys (IDEMPOTENCY_KEY_REQUIRED=false). */
  requireIdempotencyKey: boolean;
  exactlyOnce: ExactlyOnceSettings;
  /** The purchase policy (policy/check.ts): who may buy what, decided before anything is sent. */
  policy: PurchasePolicy;
  /** The catalog pre-flight (catalog/preflight.ts, PREFLIGHT): checks a purchase's lines before anything is sent. */
  preflight: Preflight;
  /** Refuses the same lines bought again under another key (duplicates/, DUPLICATE_WINDOW_HOURS); none when absent. */
  duplicates?: DuplicateGuard;
  /** Follows the orders of every purchase placed until they are provisioned (lifecycle/tracking.ts); none when absent. */
  tracking?: ProvisioningTracking;
  /** The subscription operations' store and clock (subscriptions/); keyed reductions fail closed without a store. */
  subscriptions?: SubscriptionSettings;
}

/** The operations that get a purchase's guards; any other command brings its own (Command.guard). */
const PURCHASES: readonly string[] = [
  'createOrder',
  'addOnToOrder',
  'createCart',
  'checkoutCart',
] satisfies Operation[];

/** A purchase's answer, as every entry point gives it back. */
export type Performed = Outcome & { replayed: boolean; reconciled?: boolean };

/** A scope's MS-RequestId per step (UUIDv5 of scope and step), each computed once per request. */
const requestIds = (scope: string) => {
  const ids = new Map<string, string>();
  return (step: string) => {
    let id = ids.get(step);
    if (id === undefined) {
      id = uuidv5(`${scope}|${step}`);
      ids.set(step, id);
    }
    return id;
  };
};

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
  if (command.guard) {
    // A change to a subscription (subscriptions/) has its own guards: its policy actions, its clock and its record.
    command = command.guard(options, deps);
  } else {
    // Fail closed: anything else without guards of its own is refused rather than run under a purchase's.
    if (!PURCHASES.includes(command.operation)) throw new Error(`${command.operation} is not a purchase`);
    // Innermost: the orders a purchase placed are followed once it ran, never on a replay or a dry run.
    if (deps.tracking) command = deps.tracking.follow(command, options);
    // Inside the command, so that a replay is answered without it and a resumed purchase is not checked twice.
    command = deps.preflight.guard(command, options);
    // An unknown customer is 404 customer-not-found at its field; a repeat of a recent purchase is refused before the
    // catalog is read (duplicates/guard.ts).
    command = customerGuard(command, options);
    if (deps.duplicates) command = deps.duplicates.guard(command, options);
    // Outermost, so the policy decides before the pre-flight reads anything: who may buy comes first. (Its decision
    // and the duplicate read start together, below; each is judged in this order once the purchase runs.)
    command = deps.policy.guard(command, options);
  }
  const scope =
    idempotencyKey === undefined
      ? undefined
      : JSON.stringify([options.caller, command.operation, command.customerId, idempotencyKey]);
  if (scope && !deps.idempotency) {
    throw new IdempotencyStoreError(new Error('IDEMPOTENCY_TABLE_NAME is not configured'));
  }
  const store = scope ? deps.idempotency : undefined;
  const journal =
    scope && store && idempotencyKey !== undefined
      ? store.journal(scope, {
          caller: options.caller,
          operation: command.operation,
          customerId: command.customerId,
          idempotencyKey,
          input: command.input,
        })
      : undefined;
  // Writes made once the purchase was answered (the journal's `settled`, the duplicate record, tracking's start) run
  // beside the stored outcome's own write rather than before it; the answer waits for all of them all the same.
  const afterAnswer: Promise<void>[] = [];
  const ctx: ServiceContext = {
    partnerCenter: deps.partnerCenter,
    afterAnswer: (write) => {
      afterAnswer.push(write);
    },
    correlationId: options.correlationId,
    deadline: options.deadline,
    dryRun,
    payloadPath: payloadPrefix(options.idempotencyKeyPath),
    // Each step of the call gets its own MS-RequestId, the same on every retry with this key, even one after a
    // Lambda timeout that never recorded its result.
    ...(scope ? { requestIdFor: requestIds(scope) } : {}),
    // What was asked goes into the journal with its first write, for the reconciler and GET /purchases/{key}.
    ...(dryRun ? {} : { exactlyOnce: { ...deps.exactlyOnce, ...(journal ? { journal } : {}) } }),
  };
  const call = scope && {
    scope,
    fingerprint: { operation: command.operation, customerId: command.customerId, input: command.input },
  };
  // The policy decision and the duplicate record are asked for now, beside the idempotency lock; each guard judges by
  // its answer once the purchase runs (purchase/early.ts). The catalog pre-flight is not started early: warm, every
  // fact it needs is cached and its check is CPU work; a fact it must read waits until the policy allowed the purchase
  // and the journal said it was not sent, so a refused or resumed purchase reads nothing from Partner Center.
  command.start?.(ctx);
  try {
    if (!call || !store) {
      const { status, body, reconciled } = await command.run(ctx);
      return { status, body, replayed: false, ...(reconciled ? { reconciled } : {}) };
    }
    if (dryRun) {
      // What the key would do: a dry run tells the truth about a replay, a mismatch, a request in flight or a purchase
      // whose outcome is unknown (its journal: the same body resumes its cart, another body is a mismatch).
      const [state, planned] = await Promise.all([keyState(store, call, journal), command.run(ctx)]);
      return { status: planned.status, body: { ...(planned.body as object), ...describeKey(state) }, replayed: false };
    }
    return await store.run(call, () => finalOutcome(command, ctx), options.context);
  } finally {
    // None of them throws (each logs its own failure); whatever the answer, it leaves only once they are done.
    await Promise.allSettled(afterAnswer);
  }
}

/** The stored outcome's state, or, while none is stored, what the key's journal says. */
async function keyState(
  store: IdempotencyStore,
  call: { scope: string; fingerprint: unknown },
  journal: Journal | undefined,
): Promise<KeyState | { idempotency: 'resume' }> {
  const state = await store.peek(call);
  if (state.idempotency !== 'new' || !journal) return state;
  try {
    return (await journal.read()).placed === 'maybe' ? { idempotency: 'resume' } : state;
  } catch (error) {
    if (error instanceof IdempotencyConflictError) return { idempotency: 'mismatch' };
    throw error;
  }
}

const describeKey = (state: KeyState | { idempotency: 'resume' }) =>
  state.idempotency === 'replay' ? { idempotency: 'replay', storedStatus: state.status } : state;
