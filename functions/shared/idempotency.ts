// Exactly-once in effect: a caller's retry with the same Idempotency-Key replays the first final outcome instead of
// buying again. Built on Powertools' `makeIdempotent` with its DynamoDB persistence layer — not its middy
// middleware, whose onError deletes records it never acquired (powertools-lambda-typescript#5675) and can buy twice.
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { IdempotencyConflictError, IdempotencyStoreError } from './errors.js';
import { logger } from './log.js';

export { uuidv5 } from './uuid.js';

/** A final outcome: what the entry point answers, and what a replay answers again. */
export interface Outcome {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface IdempotentCall {
  /** Who and what the key belongs to: the caller, the operation and the customer, then the caller's key. */
  scope: string;
  /** The request as validated; the same key with a different fingerprint is refused (422). */
  fingerprint: unknown;
}

export interface IdempotencyStore {
  /** Runs `work` once per scope; a replay resolves with the stored outcome and `replayed: true`. */
  run(call: IdempotentCall, work: () => Promise<Outcome>, context?: Context): Promise<Outcome & { replayed: boolean }>;
}

export interface DynamoDBIdempotencyOptions {
  tableName: string;
  expiresAfterSeconds: number;
  client?: DynamoDBClient;
}

/**
 * How the store's DynamoDB client gives up: a store that does not answer must not hold a request until the Lambda
 * times out, but fail it closed with a 503 within a few seconds. The SDK's default has no timeout at all, and a
 * `requestTimeout` alone only logs a warning (smithy's node-http-handler): `throwOnRequestTimeout` makes it an error.
 * Worst case measured: 3 attempts × 1.5 s plus backoff, ~4.6 s.
 */
export const IDEMPOTENCY_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500, throwOnRequestTimeout: true },
} as const satisfies DynamoDBClientConfig;

export function dynamoDBIdempotency(options: DynamoDBIdempotencyOptions): IdempotencyStore {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'scope',
    payloadValidationJmesPath: 'fingerprint',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.expiresAfterSeconds,
    // Marks outcomes that come from the store rather than from running the work.
    responseHook: (response) => ({ ...(response as object), replayed: true }),
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client ?? new DynamoDBClient(IDEMPOTENCY_CLIENT_CONFIG),
  });
  const once = makeIdempotent(
    async (_call: IdempotentCall, work: () => Promise<Outcome>): Promise<Outcome & { replayed: boolean }> => ({
      ...(await work()),
      replayed: false,
    }),
    { persistenceStore, config, keyPrefix: 'partner-orders', dataIndexArgument: 0 },
  );
  return {
    async run(call, work, context) {
      // The in-progress lock then expires with this invocation's deadline, not an hour later.
      if (context) config.registerLambdaContext(context);
      // What the work did, whatever the store does afterwards (found by the reliability suites): a store that fails
      // to record a purchase that was placed must not turn it into "nothing was sent" (a 503 that hides an order,
      // e.g. an outcome over DynamoDB's 400 KB item limit), and one that fails to clear the lock after a failed
      // attempt must not hide why it failed.
      let ran: { outcome: Outcome } | { error: unknown } | undefined;
      const tracked = async () => {
        try {
          const outcome = await work();
          ran = { outcome };
          return outcome;
        } catch (error) {
          ran = { error };
          throw error;
        }
      };
      try {
        return (await once(call as never, tracked)) as Outcome & { replayed: boolean };
      } catch (error) {
        if (ran === undefined) throw translate(error);
        if (!(error instanceof IdempotencyPersistenceLayerError)) throw error;
        // The record stays in progress until this invocation's deadline: a retry with the key meanwhile gets 409,
        // after it runs again with the same MS-RequestIds, which Partner Center answers with this same result.
        logger.error('idempotency record not updated after the purchase ran', {
          storeError: (error.cause as Error | undefined)?.name ?? error.name,
          outcome: 'outcome' in ran ? ran.outcome.status : 'failed',
        });
        if ('error' in ran) throw ran.error;
        return { ...ran.outcome, replayed: false };
      }
    },
  };
}

/**
 * Errors before the work ran, in this service's terms (pitfall #3425: otherwise a concurrent duplicate is a 500).
 * Whatever else went wrong there came from the store: fail closed, nothing was bought without a record.
 */
function translate(error: unknown): unknown {
  if (error instanceof IdempotencyAlreadyInProgressError) return new IdempotencyConflictError('in-progress');
  if (error instanceof IdempotencyValidationError) return new IdempotencyConflictError('mismatch');
  return new IdempotencyStoreError(error);
}
