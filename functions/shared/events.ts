// Event-triggered ordering: EventBridge commands (`CreateOrder`, `CreateCart`) arrive through SQS; each runs the same
// command as the HTTP route, idempotently (key: `detail.idempotencyKey`, required: an event without one is rejected
// with `idempotency-key-required`, since a producer's SDK retry of PutEvents gets a new event id; the deploy option
// `eventIdAsKey` keys such events by their event id instead), and its
// outcome is published back to the bus. Rejected commands are acknowledged with an `OrderRejected` event; transient
// failures go back to the queue (and, after N receives, to the DLQ).
import { randomUUID } from 'node:crypto';
import type { Context, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { eventCaller } from './caller.js';
import { type Command, type CommandDependencies, perform } from './commands.js';
import {
  CheckoutAfterCartError,
  credentialFields,
  OutcomeUnknownError,
  PartnerCenterError,
  ValidationError,
} from './errors.js';
import { parseJsonText } from './json-text.js';
import { logger } from './log.js';
import { type Problem, toProblem } from './problem.js';
import { CartCommandPayload } from './schemas/carts.js';
import { idempotencyKey } from './schemas/ids.js';
import { OrderCommandPayload } from './schemas/orders.js';
import { createCartCommand } from './services/carts.js';
import { orderCommand } from './services/orders.js';
import { describeIssues, parseParts } from './validation.js';

/** bus.ts SERVICE_EVENT_SOURCE, spelled out: importing that module would bundle the EventBridge client here. */
export const OUTCOME_SOURCE = 'partner-orders';
export const COMMAND_TYPES = ['CreateOrder', 'CreateCart'] as const;
export type OutcomeType =
  | 'OrderCreated'
  | 'CartCreated'
  | 'CartCheckedOut'
  | 'CartPartiallyCheckedOut'
  | 'OrderRejected';

/** What EventBridge delivers to the queue (the parts we read; the rest is passed over). */
const EventEnvelope = z.looseObject({
  id: z.string().check(z.minLength(1)),
  source: z.string(),
  'detail-type': z.enum(COMMAND_TYPES, { error: `must be one of: ${COMMAND_TYPES.join(', ')}` }),
  detail: z.record(z.string(), z.unknown()),
  time: z.optional(z.string()),
});

const DetailOptions = z.strictObject({ idempotencyKey: z.optional(idempotencyKey) });

export interface OutcomeEvent {
  detailType: OutcomeType;
  detail: {
    /** The command's EventBridge event id (or SQS message id when the body was not an event). */
    commandId: string;
    command?: string;
    customerId?: string;
    idempotencyKey?: string;
    correlationId: string;
    result?: unknown;
    problem?: Problem;
    /** The purchase was found by reading Partner Center after an attempt whose answer was lost. */
    reconciled?: boolean;
  };
}

export interface EventDependencies extends CommandDependencies {
  /** Publishes outcome events to the bus; throws when any entry was not accepted. */
  publish(events: OutcomeEvent[]): Promise<void>;
  /** Keeps a message invisible for `seconds` (redeliveryDelaySeconds: Retry-After or backoff) before it comes again. */
  delay(record: SQSRecord, seconds: number): Promise<void>;
  /**
   * Waits while a throttled record keeps its place (the deployed handler: a timer). Absent, a throttled record goes
   * back to the queue at once (handlers built by hand in tests).
   */
  holdThrottled?: (ms: number, record: SQSRecord) => Promise<void>;
  deadlineMarginMs: number;
  /** An event without `detail.idempotencyKey` is keyed by its event id (EVENT_ID_AS_IDEMPOTENCY_KEY) instead of refused. */
  eventIdAsKey?: boolean;
  /**
   * A command put longer ago than this is refused (its key may have expired: a DLQ redrive resets SQS retention, so a
   * command redriven twice can outlive it and buy again). The key lifetime less a day (order-events/handler.ts).
   */
  maxCommandAgeMs?: number;
}

/** A failure that another delivery of the same message may get past: the record is reported to SQS as failed. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Parsed {
  commandId: string;
  commandType: (typeof COMMAND_TYPES)[number];
  command: Command;
  caller: string;
  idempotencyKey?: string;
  checkout: boolean;
}

/** Without `detail.idempotencyKey`: the event id where the deployment accepts it, else none (perform refuses). */
const keyOf = (
  given: string | undefined,
  eventId: string,
  deps: Pick<EventDependencies, 'eventIdAsKey' | 'requireIdempotencyKey'>,
) => given ?? (deps.eventIdAsKey || !deps.requireIdempotencyKey ? eventId : undefined);

function parseRecord(
  record: SQSRecord,
  deps: Pick<EventDependencies, 'eventIdAsKey' | 'requireIdempotencyKey' | 'maxCommandAgeMs'>,
): Parsed {
  // Strictly (json-text.ts): a detail with a key twice (`"quantity":1,"quantity":9999`) is refused at its path.
  const parsed = parseJsonText(record.body, '');
  if ('error' in parsed) throw new ValidationError([parsed.error]);
  const body = parsed.value;
  const envelope = EventEnvelope.safeParse(body);
  if (!envelope.success) throw new ValidationError(describeIssues(envelope.error.issues, ''));
  const { id, source, detail, time } = envelope.data;
  const put = time === undefined ? Number.NaN : Date.parse(time);
  if (deps.maxCommandAgeMs !== undefined && Date.now() - put > deps.maxCommandAgeMs) {
    throw new ValidationError([
      {
        path: '/time',
        message: `is older than the idempotency key lifetime allows (${Math.floor(deps.maxCommandAgeMs / 86_400_000)} days): its key may be forgotten and the command bought again. Put it again with a new key if it is still wanted`,
      },
    ]);
  }
  const commandType = envelope.data['detail-type'];
  const { idempotencyKey: key, ...rest } = detail;
  if (commandType === 'CreateOrder') {
    const { options, payload } = parseParts(
      { options: [DetailOptions, { idempotencyKey: key }], payload: [OrderCommandPayload, rest] },
      () => '/detail',
    );
    return {
      commandId: id,
      commandType,
      command: orderCommand(payload),
      caller: eventCaller(source),
      ...withKey(keyOf(options.idempotencyKey, id, deps)),
      checkout: false,
    };
  }
  const { options, payload } = parseParts(
    { options: [DetailOptions, { idempotencyKey: key }], payload: [CartCommandPayload, rest] },
    () => '/detail',
  );
  const { customerId, ...cart } = payload;
  return {
    commandId: id,
    commandType,
    command: createCartCommand(customerId, cart),
    caller: eventCaller(source),
    ...withKey(keyOf(options.idempotencyKey, id, deps)),
    checkout: cart.checkout === true,
  };
}

const withKey = (key: string | undefined) => (key === undefined ? {} : { idempotencyKey: key });

/** The event's own id when the body is an event at all, so a rejection can be matched to what was sent. */
function eventIdOf(record: SQSRecord): string {
  try {
    const id = (JSON.parse(record.body) as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : record.messageId;
  } catch {
    return record.messageId;
  }
}

/** A checkout in which some order groups failed has its own type, so that rules can route it. */
const successType = (parsed: Parsed, result: unknown): OutcomeType => {
  if (parsed.commandType === 'CreateOrder') return 'OrderCreated';
  if (!parsed.checkout) return 'CartCreated';
  return (result as { checkout?: { partial?: boolean } }).checkout?.partial
    ? 'CartPartiallyCheckedOut'
    : 'CartCheckedOut';
};

/**
 * Redelivery of a throttled command (or one whose purchase outcome is not known yet): the message stays invisible
 * for Partner Center's Retry-After when that is longer, else for an exponential backoff on its receive count —
 * `baseSeconds × 2^(receive − 1)`, at most `maxSeconds`, plus up to `jitter` of it (never less), so that throttled
 * commands do not all come back at once. With `DEFAULT_MAX_RECEIVE_COUNT` receives, a command throttled on every
 * delivery is last delivered more than `THROTTLE_SURVIVAL_SECONDS` after its first (docs/events.md, "Throttling").
 */
export const REDELIVERY_BACKOFF = { baseSeconds: 2, maxSeconds: 900, jitter: 0.2 } as const;
/** Sustained throttling a command outlives without going to the DLQ: an hour. */
export const THROTTLE_SURVIVAL_SECONDS = 3_600;
/** SQS's limit for ChangeMessageVisibility. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** The backoff's floor for receive `n` (jitter only adds to it). */
const backoffSeconds = (n: number) =>
  Math.min(
    REDELIVERY_BACKOFF.maxSeconds,
    REDELIVERY_BACKOFF.baseSeconds * 2 ** (Number.isFinite(n) ? Math.max(1, Math.floor(n)) - 1 : 0),
  );

export function redeliveryDelaySeconds(receiveCount: number, retryAfterSeconds?: number, random = Math.random) {
  const backoff = backoffSeconds(receiveCount) * (1 + REDELIVERY_BACKOFF.jitter * random());
  return Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(Math.max(retryAfterSeconds ?? 0, backoff)));
}

/**
 * The least time between the first and the last delivery of a command that is throttled on every one, when the queue
 * allows `maxReceiveCount` receives: the delays after receives 1 … maxReceiveCount − 1 (the last failed receive is
 * followed by the DLQ). Time spent inside the function (its own waits on Retry-After) only adds to it.
 */
export function throttledSecondsBeforeLastDelivery(maxReceiveCount: number): number {
  let total = 0;
  for (let n = 1; n < maxReceiveCount; n++) total += backoffSeconds(n);
  return total;
}

/** The fewest receives that keep a command throttled on every delivery out of the DLQ for an hour (13). */
export const MIN_MAX_RECEIVE_COUNT = (() => {
  let receives = 1;
  while (throttledSecondsBeforeLastDelivery(receives) < THROTTLE_SURVIVAL_SECONDS) receives++;
  return receives;
})();
/** The queue's redrive policy: the hour of throttling, plus two receives for other transient failures (15). */
export const DEFAULT_MAX_RECEIVE_COUNT = MIN_MAX_RECEIVE_COUNT + 2;

/** Time kept after holding a throttled record, to hand it back to the queue and answer. */
const HOLD_MARGIN_MS = 2_000;

/** SQS's ApproximateReceiveCount of this delivery (1 for the first). */
const receiveCountOf = (record: SQSRecord) => Math.max(1, Number(record.attributes?.ApproximateReceiveCount) || 1);

/** Commands whose answer will not change on a retry: acknowledged, with an OrderRejected outcome. */
const isFinal = (status: number) => status < 500 && status !== 409 && status !== 429;

/**
 * Handles one SQS record; throws only when the message should be delivered again. `context` is the consumer's Lambda
 * context: the idempotency record's in-progress lock ends with that invocation. Without it (found by the reliability
 * suites) the lock had no end of its own, so a consumer that died mid-purchase left the key "in progress" for the
 * record's whole lifetime (24 h): every redelivery got 409 until the message went to the DLQ, and a redrive too.
 */
export function handleCommandRecord(
  record: SQSRecord,
  remainingMs: number,
  deps: EventDependencies,
  context?: Context,
): Promise<OutcomeEvent> {
  // The records of a batch run at once: each logs under its own message, command and customer (log.ts, withKeys).
  return logger.withKeys({ messageId: record.messageId }, () => handleRecord(record, remainingMs, deps, context));
}

async function handleRecord(
  record: SQSRecord,
  remainingMs: number,
  deps: EventDependencies,
  context?: Context,
): Promise<OutcomeEvent> {
  let parsed: Parsed | undefined;
  let correlationId: string = randomUUID();
  const reject = async (problem: Problem) => {
    const event: OutcomeEvent = {
      detailType: 'OrderRejected',
      detail: {
        commandId: parsed?.commandId ?? eventIdOf(record),
        ...(parsed
          ? {
              command: parsed.commandType,
              customerId: parsed.command.customerId,
              ...withKey(parsed.idempotencyKey),
            }
          : {}),
        correlationId,
        problem,
      },
    };
    await deps.publish([event]);
    logger.warn('command rejected', { messageId: record.messageId, status: problem.status, reason: problem.detail });
    return event;
  };

  try {
    parsed = parseRecord(record, deps);
  } catch (error) {
    return reject(toProblem(error).problem);
  }
  logger.appendKeys({
    commandId: parsed.commandId,
    customerId: parsed.command.customerId,
    operation: parsed.command.operation,
  });
  const deadline = Date.now() + remainingMs - deps.deadlineMarginMs;
  // The MS-CorrelationId sent to Partner Center is the one the outcome event carries.
  if (GUID.test(parsed.commandId)) correlationId = parsed.commandId.toLowerCase();
  try {
    const outcome = await perform(
      parsed.command,
      {
        caller: parsed.caller,
        ...withKey(parsed.idempotencyKey),
        idempotencyKeyPath: '/detail/idempotencyKey',
        dryRun: false,
        correlationId,
        deadline,
        ...(context ? { context } : {}),
      },
      deps,
    );
    if (outcome.status >= 400) return reject(outcome.body as Problem);
    const event: OutcomeEvent = {
      detailType: successType(parsed, outcome.body),
      detail: {
        commandId: parsed.commandId,
        command: parsed.commandType,
        customerId: parsed.command.customerId,
        ...withKey(parsed.idempotencyKey),
        correlationId,
        result: outcome.body,
        ...(outcome.reconciled ? { reconciled: true } : {}),
      },
    };
    // A replay publishes again: the first delivery may have bought and then died before publishing. Outcome events
    // are at least once; consumers dedupe on commandId.
    await deps.publish([event]);
    logger.info('command completed', { status: outcome.status, replayed: outcome.replayed, outcome: event.detailType });
    return event;
  } catch (error) {
    const { problem } = toProblem(error);
    if (isFinal(problem.status)) return reject(problem);
    // Throttling, and a purchase whose outcome is not known yet, come back when Partner Center said (or the attempt
    // has settled), backing off on the receive count, not at the queue's next visibility timeout.
    // A checkout that did not complete after its cart was created carries the reason as its cause.
    const reason = error instanceof CheckoutAfterCartError ? error.cause : error;
    const throttled = reason instanceof PartnerCenterError && reason.status === 429;
    let delay =
      throttled || reason instanceof OutcomeUnknownError
        ? redeliveryDelaySeconds(receiveCountOf(record), reason.retryAfterSeconds)
        : undefined;
    let heldMs = 0;
    if (throttled && delay !== undefined && deps.holdThrottled) {
      // A throttled record keeps its place (its share of the event source mapping's concurrency) for as much of the
      // delay as the invocation has left, instead of freeing it at once for the next command to be throttled in turn:
      // throttling then slows the whole event path down, and its retries stop adding to Partner Center's count.
      const hold = Math.min(delay * 1000, deadline - Date.now() - HOLD_MARGIN_MS);
      if (hold > 0) {
        await deps.holdThrottled(hold, record);
        heldMs = Math.round(hold);
        delay = Math.max(0, Math.ceil(delay - hold / 1000));
      }
    }
    if (delay !== undefined) await deps.delay(record, delay).catch(() => undefined);
    logger.warn('command will be retried', {
      messageId: record.messageId,
      status: problem.status,
      receiveCount: receiveCountOf(record),
      retryAfterSeconds: delay,
      ...(heldMs > 0 ? { heldMs } : {}),
      ...credentialFields(error),
    });
    throw new RetryLaterError(`${problem.status} ${problem.title}`, { cause: error });
  }
}

/** Runs at most `limit` of the given tasks at once. A finished task hands its slot straight to the next waiter. */
export function boundedConcurrency(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < limit) running++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
