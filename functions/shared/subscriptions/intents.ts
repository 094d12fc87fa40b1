// What a keyed seat reduction is about to do, recorded before it is sent: the absolute quantity it sets. A retry with
// the key (after a lost answer, a timeout, a redelivery) reads the target back instead of subtracting again from a
// subscription it may already have reduced, so a reduction is never applied twice. One conditional write per keyed
// reduction, on the idempotency table (item `partner-orders#subscription-intent#<id>`, expiring with the key).
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyStoreError, storeCall } from '../errors.js';

export interface SeatIntent {
  /** The quantity the subscription is set to. */
  target: number;
  /** The quantity it had when the target was worked out. */
  from: number;
  /** Epoch ms. */
  at: number;
}

/** What the subscription operations get from the command layer's dependencies (commands.ts). */
export interface SubscriptionSettings {
  /** Where a keyed seat reduction records its target before it is sent. */
  intents?: ChangeIntents;
  /** The clock refund windows are judged by (default: Date.now). */
  now?: () => number;
}

export interface ChangeIntents {
  read(id: string): Promise<SeatIntent | undefined>;
  /** Records `intent` unless one is there already; answers the one that holds (the first writer's). */
  record(id: string, intent: SeatIntent): Promise<SeatIntent>;
}

const PREFIX = 'partner-orders#subscription-intent#';

export function dynamoDBIntents(options: {
  tableName: string;
  client: DynamoDBClient;
  expiresAfterSeconds: number;
  now?: () => number;
}): ChangeIntents {
  const { tableName, client } = options;
  const now = options.now ?? Date.now;
  // A conditional write's refusal is an answer (another request recorded first), not an unavailable store.
  const call = <T>(work: () => Promise<T>) =>
    storeCall(work, (error) => error instanceof ConditionalCheckFailedException);
  const intents: ChangeIntents = {
    async read(id) {
      const { Item } = await call(() =>
        client.send(
          new GetItemCommand({ TableName: tableName, Key: marshall({ id: `${PREFIX}${id}` }), ConsistentRead: true }),
        ),
      );
      if (!Item) return undefined;
      const { target, from, at } = unmarshall(Item) as SeatIntent;
      return { target, from, at };
    },
    async record(id, intent) {
      try {
        await call(() =>
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: marshall({
                id: `${PREFIX}${id}`,
                ...intent,
                expiration: Math.floor(now() / 1000) + options.expiresAfterSeconds,
              }),
              ConditionExpression: 'attribute_not_exists(id)',
            }),
          ),
        );
        return intent;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const held = await intents.read(id);
        if (!held) throw new IdempotencyStoreError(error);
        return held;
      }
    },
  };
  return intents;
}

/** In memory, for the local server without a table and for unit tests. */
export function memoryIntents(): ChangeIntents {
  const items = new Map<string, SeatIntent>();
  return {
    read: async (id) => items.get(id),
    record: async (id, intent) => {
      const held = items.get(id);
      if (held) return held;
      items.set(id, intent);
      return intent;
    },
  };
}
