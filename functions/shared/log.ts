// Structured JSON logs, one line per entry, in the shape Powertools Logger writes (level, message, timestamp,
// service, cold_start, function_name, function_request_id, xray_trace_id, then our keys). Powertools Logger itself
// costs ~21 KB of bundle, 7% of the cold-start floor on its own (README, "Cold start"); this is what we use of it.
// What is logged never includes a credential, a token or a request body: ids, statuses, timings and counts.
//
// Levels, from LOG_LEVEL (else POWERTOOLS_LOG_LEVEL, else AWS_LAMBDA_LOG_LEVEL, else INFO), in any case:
//   DEBUG   everything below, plus what explains one request: the parts and fields a request was validated with
//           (names and counts, never values), every field error of a refused request, and each request the local
//           server answered itself (404, 405, 408, 413, /events, /openapi.json) with its status and duration
//   INFO    one line per request, event or invocation (route, status, duration, ids) and per Partner Center call
//           (step, status, attempts, MS-RequestId); the default
//   WARN    refusals (4xx), retries of Partner Center calls, commands that will be retried
//   ERROR   failures (5xx), credentials Entra refused, records that could not be written
//   SILENT  nothing at all (benchmarks; a bundle loaded only to check that it loads)
// Lambda's and Powertools' other names are accepted: TRACE is DEBUG, CRITICAL and FATAL are ERROR. Any other value
// is INFO, and the first line logged says so.
//
// Keys: `appendKeys` adds keys to every later entry. Outside `withKeys` they belong to the invocation (one at a time
// per container); inside `withKeys(keys, work)` they belong to that piece of work alone (AsyncLocalStorage), so the
// records of one SQS batch, running at once, each log under their own command and customer.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 50 } as const;
type Level = Exclude<keyof typeof LEVELS, 'SILENT'>;
type Attributes = Record<string, unknown>;

/** Other names for the levels: AWS_LAMBDA_LOG_LEVEL's (TRACE, FATAL) and Powertools' (CRITICAL). */
const ALIASES: Record<string, keyof typeof LEVELS> = { TRACE: 'DEBUG', CRITICAL: 'ERROR', FATAL: 'ERROR' };

/** The threshold for a level name, or undefined when it names no level. */
function thresholdOf(name: string): number | undefined {
  const upper = name.trim().toUpperCase();
  const level = Object.hasOwn(LEVELS, upper) ? (upper as keyof typeof LEVELS) : ALIASES[upper];
  return level === undefined ? undefined : LEVELS[level];
}

/** Errors as data: name, message, and the stack (logs are ours; responses never carry one). */
const serialise = (_: string, value: unknown) =>
  value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;

export class Logger {
  /** The invocation's keys (Lambda context, request ids). */
  private keys: Attributes = {};
  /** The keys of the piece of work running in this async context, when it runs inside `withKeys`. */
  private readonly scoped = new AsyncLocalStorage<Attributes>();
  private readonly threshold: number;
  /** A level name that names no level, said once in the first line logged. */
  private unknownLevel: string | undefined;

  constructor(
    private readonly service: string,
    level = process.env.LOG_LEVEL || process.env.POWERTOOLS_LOG_LEVEL || process.env.AWS_LAMBDA_LOG_LEVEL || 'INFO',
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    const threshold = thresholdOf(level);
    this.threshold = threshold ?? LEVELS.INFO;
    if (threshold === undefined) this.unknownLevel = level;
  }

  /** Whether entries of this level are written: to skip building DEBUG attributes that would be dropped. */
  isEnabled(level: Level): boolean {
    return LEVELS[level] >= this.threshold;
  }

  /**
   * Runs `work` with keys of its own, on top of the invocation's: what it (and everything it awaits) appends is in its
   * entries only, and is gone when it ends. Nested calls start from the enclosing work's keys.
   */
  withKeys<T>(keys: Attributes, work: () => T): T {
    return this.scoped.run({ ...this.scoped.getStore(), ...keys }, work);
  }

  /** Keys added to every entry until `resetKeys` (correlation id, customer id): of the current `withKeys` work, if any. */
  appendKeys(keys: Attributes): void {
    Object.assign(this.scoped.getStore() ?? this.keys, keys);
  }

  /** Clears the keys of the current `withKeys` work, or outside of any, the invocation's. */
  resetKeys(): void {
    const store = this.scoped.getStore();
    if (store) for (const key of Object.keys(store)) delete store[key];
    else this.keys = {};
  }

  debug(message: string, attributes?: Attributes): void {
    this.log('DEBUG', message, attributes);
  }
  info(message: string, attributes?: Attributes): void {
    this.log('INFO', message, attributes);
  }
  warn(message: string, attributes?: Attributes): void {
    this.log('WARN', message, attributes);
  }
  error(message: string, attributes?: Attributes): void {
    this.log('ERROR', message, attributes);
  }

  private log(level: Level, message: string, attributes?: Attributes): void {
    if (LEVELS[level] < this.threshold) return;
    if (this.unknownLevel !== undefined) {
      const given = this.unknownLevel;
      this.unknownLevel = undefined;
      this.log(
        'WARN',
        `log level ${JSON.stringify(given.slice(0, 32))} is not one of DEBUG, INFO, WARN, ERROR, SILENT: using INFO`,
      );
    }
    const entry = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.service,
      xray_trace_id: process.env._X_AMZN_TRACE_ID,
      ...this.keys,
      ...this.scoped.getStore(),
      ...attributes,
    };
    this.write(`${JSON.stringify(entry, serialise)}\n`);
  }
}

export const logger = new Logger('partner-orders');

let coldStart = true;

/** Per-invocation keys from the Lambda context, cleared after each invocation (Powertools' `injectLambdaContext`). */
export const injectLambdaContext = <E, R>(log: Logger = logger): MiddlewareObj<E, R, Error, Context> => {
  const reset = () => log.resetKeys();
  return {
    before: ({ context }) => {
      log.resetKeys();
      log.appendKeys({
        cold_start: coldStart,
        function_name: context.functionName,
        function_request_id: context.awsRequestId,
      });
      coldStart = false;
    },
    after: reset,
    onError: reset,
  };
};
