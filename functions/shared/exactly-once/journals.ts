// Reading purchase journals from outside a purchase (records.ts writes them): by a caller's key, for
// `GET /purchases/{key}`; and the ones whose outcome is unknown, for the scheduled reconciler, which also records what
// it found. A failed read or write is an unavailable store (IdempotencyStoreError), as for the purchases themselves.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyStoreError, storeCall } from '../errors.js';
import {
  fromItem,
  JOURNAL_PREFIX,
  type JournalEntry,
  keyPointerId,
  type Resolution,
  UNRESOLVED_INDEX,
} from './records.js';

/** A journal and the owner hash it is stored under. */
export interface StoredJournal {
  owner: string;
  entry: JournalEntry;
}

export interface PurchaseJournals {
  /** The journals of the purchases this caller sent with this key (one per operation and customer), oldest first. */
  ofKey(caller: string, idempotencyKey: string): Promise<StoredJournal[]>;
  /** Owners of journals whose outcome is unknown and whose last attempt left before `sentBefore`, oldest first. */
  unresolved(sentBefore: number, limit: number): Promise<string[]>;
  /** One journal, read consistently. */
  read(owner: string): Promise<StoredJournal | undefined>;
  /**
   * Records the reconciler's result and takes the journal out of the unresolved index, unless an attempt was sent
   * since it read `lastSentAt` (a retry is under way: it is left to that retry). False when that happened. A
   * `not-placed` result also says `placed: no`: the cart was still Active minutes after its last checkout, so a retry
   * with the key is judged again (policy, pre-flight) like a purchase nothing can have placed.
   */
  resolve(owner: string, lastSentAt: number, resolution: Resolution): Promise<boolean>;
}

export interface DynamoDBJournalsOptions {
  tableName: string;
  client: DynamoDBClient;
}

export function dynamoDBJournals({ tableName, client }: DynamoDBJournalsOptions): PurchaseJournals {
  const get = async (id: string) =>
    (
      await storeCall(() =>
        client.send(new GetItemCommand({ TableName: tableName, Key: marshall({ id }), ConsistentRead: true })),
      )
    ).Item;

  const journals: PurchaseJournals = {
    async read(owner) {
      const item = await get(`${JOURNAL_PREFIX}${owner}`);
      return item ? { owner, entry: fromItem(item) } : undefined;
    },
    async ofKey(caller, idempotencyKey) {
      const pointer = await get(keyPointerId(caller, idempotencyKey));
      const owners = pointer ? [...((unmarshall(pointer).journals as Set<string> | undefined) ?? [])] : [];
      const found = await Promise.all(owners.map((owner) => journals.read(owner)));
      return found
        .filter((journal): journal is StoredJournal => journal?.entry.command !== undefined)
        .sort((a, b) => (a.entry.firstSentAt ?? 0) - (b.entry.firstSentAt ?? 0));
    },
    async unresolved(sentBefore, limit) {
      const result = await storeCall(() =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: UNRESOLVED_INDEX.name,
            KeyConditionExpression: '#pk = :pk AND #sk < :before',
            ExpressionAttributeNames: { '#pk': UNRESOLVED_INDEX.partitionKey, '#sk': UNRESOLVED_INDEX.sortKey },
            ExpressionAttributeValues: marshall({ ':pk': UNRESOLVED_INDEX.value, ':before': sentBefore }),
            ScanIndexForward: true,
            Limit: limit,
          }),
        ),
      );
      return (result.Items ?? []).flatMap((item) => {
        const id = unmarshall(item).id;
        return typeof id === 'string' && id.startsWith(JOURNAL_PREFIX) ? [id.slice(JOURNAL_PREFIX.length)] : [];
      });
    },
    async resolve(owner, lastSentAt, resolution) {
      try {
        await storeCall(() =>
          client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: marshall({ id: `${JOURNAL_PREFIX}${owner}` }),
              UpdateExpression: `SET #resolution = :resolution${
                resolution.outcome === 'not-placed' ? ', #placed = :no' : ''
              } REMOVE #unresolved`,
              ConditionExpression: '#last = :last',
              ExpressionAttributeNames: {
                '#resolution': 'resolution',
                '#unresolved': UNRESOLVED_INDEX.partitionKey,
                '#last': 'lastSentAt',
                ...(resolution.outcome === 'not-placed' ? { '#placed': 'placed' } : {}),
              },
              ExpressionAttributeValues: marshall({
                ':resolution': JSON.stringify(resolution),
                ':last': lastSentAt,
                ...(resolution.outcome === 'not-placed' ? { ':no': 'no' } : {}),
              }),
            }),
          ),
        );
        return true;
      } catch (error) {
        if (error instanceof IdempotencyStoreError && error.cause instanceof ConditionalCheckFailedException)
          return false;
        throw error;
      }
    },
  };
  return journals;
}
