// Structured JSON logs, one line per entry, in the shape Powertools Logger writes (level, message, timestamp,
// service, cold_start, function_name, function_request_id, xray_trace_id, then our keys). Powertools Logger itself
// costs ~21 KB of bundle, 7% of the cold-start floor on its own (README, "Cold start"); this is what we use of it.
// What is logged never includes a credential, a token or a request body: ids, statuses, timings and counts.
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';

const LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 50 } as const;
type Level = Exclude<keyof typeof LEVELS, 'SILENT'>;
type Attributes = Record<string, unknown>;

/** Errors as data: name, message, and the stack (logs are ours; responses never carry one). */
const serialise = (_: string, value: unknown) =>
  value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value;

export class Logger {
  private keys: Attributes = {};
  private readonly threshold: number;

  constructor(
    private readonly service: string,
    level = process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? process.env.AWS_LAMBDA_LOG_LEVEL ?? 'INFO',
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {
    this.threshold = LEVELS[level.toUpperCase() as Level] ?? LEVELS.INFO;
  }

  /** Keys added to every entry until `resetKeys` (correlation id, customer id). */
  appendKeys(keys: Attributes): void {
    Object.assign(this.keys, keys);
  }

  resetKeys(): void {
    this.keys = {};
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
    const entry = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: this.service,
      xray_trace_id: process.env._X_AMZN_TRACE_ID,
      ...this.keys,
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
