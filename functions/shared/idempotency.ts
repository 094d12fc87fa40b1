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
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { IdempotencyConflictError, IdempotencyStoreError } from './errors.js';

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
    awsSdkV3Client: options.client ?? new DynamoDBClient({}),
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
      try {
        return (await once(call as never, work)) as Outcome & { replayed: boolean };
      } catch (error) {
        throw translate(error);
      }
    },
  };
}

/** Powertools' errors, in this service's terms (pitfall #3425: otherwise a concurrent duplicate is a 500). */
function translate(error: unknown): unknown {
  if (error instanceof IdempotencyAlreadyInProgressError) return new IdempotencyConflictError('in-progress');
  if (error instanceof IdempotencyValidationError) return new IdempotencyConflictError('mismatch');
  // The store could not record the attempt: fail closed, nothing was bought without a record.
  if (error instanceof IdempotencyPersistenceLayerError) return new IdempotencyStoreError(error);
  return error;
}
