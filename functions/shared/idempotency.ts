// Exactly-once in effect: a caller's retry with the same Idempotency-Key replays the first final outcome instead of
// buying again. Built on Powertools' `makeIdempotent` with its DynamoDB persistence layer — not its middy
// middleware, whose onError deletes records it never acquired (powertools-lambda-typescript#5675) and can buy twice.
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyItemNotFoundError,
  IdempotencyPersistenceLayerError,
  IdempotencyRecordStatus,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { IdempotencyConflictError, IdempotencyStoreError } from './errors.js';
import { dynamoDBJournals, type PurchaseJournals } from './exactly-once/journals.js';
import { dynamoDBJournal, type Journal, type RecordedCommand } from './exactly-once/records.js';
import { logger } from './log.js';

export { uuidv5 } from './uuid.js';

/** A final outcome: what the entry point answers, and what a replay answers again. */
export interface Outcome {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Found by reading Partner Center after an attempt whose answer was lost (exactly-once/). */
  reconciled?: boolean;
}

export interface IdempotentCall {
  /** Who and what the key belongs to: the caller, the operation and the customer, then the caller's key. */
  scope: string;
  /** The request as validated; the same key with a different fingerprint is refused (422). */
  fingerprint: unknown;
}

/**
 * What a key would do if the request were sent now (a dry run with a key reports it). A replay also carries the stored
 * outcome itself, for `GET /purchases/{key}` (lifecycle/purchases.ts); a dry run reports only its status.
 */
export type KeyState =
  | { idempotency: 'new' | 'mismatch' | 'in-progress' }
  | { idempotency: 'replay'; status: number; outcome?: Outcome };

export interface IdempotencyStore {
  /** Runs `work` once per scope; a replay resolves with the stored outcome and `replayed: true`. */
  run(call: IdempotentCall, work: () => Promise<Outcome>, context?: Context): Promise<Outcome & { replayed: boolean }>;
  /**
   * Reads, and changes nothing. A call whose fingerprint is undefined is read without comparing it (GET /purchases and
   * the reconciler, for a purchase whose input was too large for its journal to keep: records.ts).
   */
  peek(call: IdempotentCall): Promise<KeyState>;
  /**
   * What a keyed purchase keeps besides its outcome: its journal (exactly-once/records.ts), which holds the one cart
   * it checks out. `command` (what the purchase asks for) is recorded in the journal with its first write.
   */
  journal(scope: string, command?: RecordedCommand): Journal;
  /** The journals read from outside a purchase (GET /purchases/{key}, the reconciler), on the same table. */
  journals?: PurchaseJournals;
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

/** The record this request acquired: its lock's expiry values, unique to that acquisition. */
interface Acquired {
  expiry?: number;
  inProgressExpiry?: number;
}

/**
 * Powertools' DynamoDB layer, except that deleting the lock after a failure and saving the outcome both happen only
 * while the record is still the one this request acquired (pitfall #17: its delete is unconditional). A request that
 * resumes after its deadline — middy answered for it, a retry acquired the key since — then leaves the retry's lock
 * alone, so a third request cannot run beside the retry. Which record a request acquired is kept per request in
 * AsyncLocalStorage, because one layer serves every concurrent request of a container.
 */
class OwnRecordPersistenceLayer extends DynamoDBPersistenceLayer {
  static readonly acquired = new AsyncLocalStorage<Acquired>();

  constructor(
    private readonly table: string,
    private readonly dynamodb: DynamoDBClient,
  ) {
    super({ tableName: table, awsSdkV3Client: dynamodb });
  }

  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    await super._putRecord(record);
    const acquired = OwnRecordPersistenceLayer.acquired.getStore();
    if (acquired) {
      acquired.expiry = record.expiryTimestamp;
      acquired.inProgressExpiry = record.inProgressExpiryTimestamp;
    }
  }

  /** `#status = INPROGRESS` and both expiries as this request wrote them. */
  private ours(acquired: Acquired) {
    return {
      ConditionExpression: `#status = :inprogress AND #expiry = :expiry AND ${
        acquired.inProgressExpiry === undefined ? 'attribute_not_exists(#ipe)' : '#ipe = :ipe'
      }`,
      names: { '#status': 'status', '#expiry': 'expiration', '#ipe': 'in_progress_expiration' },
      values: {
        ':inprogress': IdempotencyRecordStatus.INPROGRESS,
        ':expiry': acquired.expiry,
        ...(acquired.inProgressExpiry === undefined ? {} : { ':ipe': acquired.inProgressExpiry }),
      },
    };
  }

  protected override async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    const acquired = OwnRecordPersistenceLayer.acquired.getStore();
    // Nothing acquired in this request: the record is someone else's.
    if (acquired?.expiry === undefined) return;
    const condition = this.ours(acquired);
    try {
      await this.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: this.getKey(record.idempotencyKey),
          ConditionExpression: condition.ConditionExpression,
          ExpressionAttributeNames: condition.names,
          ExpressionAttributeValues: marshall(condition.values),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      logger.warn('idempotency lock left alone: another request holds the key now');
    }
  }

  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const acquired = OwnRecordPersistenceLayer.acquired.getStore();
    if (acquired?.expiry === undefined) throw new Error('no idempotency record was acquired by this request');
    const condition = this.ours(acquired);
    // A failed condition surfaces as a store error after the purchase ran: the outcome still reaches this caller, and
    // the request that holds the key now checks out the same cart, recorded in the key's journal (exactly-once/).
    await this.dynamodb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.getKey(record.idempotencyKey),
        UpdateExpression: 'SET #expiry = :new_expiry, #status = :status, #data = :data, #validation = :validation',
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { ...condition.names, '#data': 'data', '#validation': 'validation' },
        ExpressionAttributeValues: marshall(
          {
            ...condition.values,
            ':new_expiry': record.expiryTimestamp,
            ':status': record.getStatus(),
            ':data': record.responseData,
            ':validation': record.payloadHash,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  /** The stored record for `data`, validated against it (IdempotencyValidationError on a different request). */
  async peek(data: Record<string, unknown>): Promise<IdempotencyRecord | undefined> {
    try {
      return await this.getRecord(data as never);
    } catch (error) {
      if (error instanceof IdempotencyItemNotFoundError) return undefined;
      throw error;
    }
  }
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
  const client = options.client ?? new DynamoDBClient(IDEMPOTENCY_CLIENT_CONFIG);
  const persistenceStore = new OwnRecordPersistenceLayer(options.tableName, client);
  const keyPrefix = 'partner-orders';
  // The same records, read without the payload check (a peek that has no fingerprint to compare).
  const unvalidated = new OwnRecordPersistenceLayer(options.tableName, client);
  const unvalidatedConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'scope',
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: options.expiresAfterSeconds,
  });
  const once = makeIdempotent(
    async (_call: IdempotentCall, work: () => Promise<Outcome>): Promise<Outcome & { replayed: boolean }> => ({
      ...(await work()),
      replayed: false,
    }),
    { persistenceStore, config, keyPrefix, dataIndexArgument: 0 },
  );
  return {
    journals: dynamoDBJournals({ tableName: options.tableName, client }),
    journal: (scope, command) =>
      dynamoDBJournal(
        { tableName: options.tableName, client, expiresAfterSeconds: options.expiresAfterSeconds },
        scope,
        command,
      ),
    async peek(call) {
      const layer = call.fingerprint === undefined ? unvalidated : persistenceStore;
      layer.configure({ config: call.fingerprint === undefined ? unvalidatedConfig : config, keyPrefix });
      try {
        const record = await layer.peek(call as unknown as Record<string, unknown>);
        if (!record || record.getStatus() === IdempotencyRecordStatus.EXPIRED) return { idempotency: 'new' };
        if (record.getStatus() === IdempotencyRecordStatus.INPROGRESS) {
          const expiry = record.inProgressExpiryTimestamp;
          return { idempotency: expiry !== undefined && expiry < Date.now() ? 'new' : 'in-progress' };
        }
        const outcome = record.getResponse() as unknown as Outcome;
        return { idempotency: 'replay', status: outcome.status, outcome };
      } catch (error) {
        if (error instanceof IdempotencyValidationError) return { idempotency: 'mismatch' };
        throw new IdempotencyStoreError(error);
      }
    },
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
        return (await OwnRecordPersistenceLayer.acquired.run({}, () => once(call as never, tracked))) as Outcome & {
          replayed: boolean;
        };
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
