// What a keyed purchase leaves on record besides its final outcome (which Powertools keeps): that it was sent, when
// first and last, whether Partner Center answered, the cart a multi-step purchase created, and which orders belong to
// which key. Kept in the idempotency table, next to the Powertools records and with the same lifetime, so that a
// retry, a redelivery or a redrive finds them for as long as it can replay.
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyStoreError } from '../errors.js';

/** The journal of one key: what earlier attempts with it may have done. */
export interface JournalEntry {
  /** Epoch ms of the first attempt ever sent with this key. */
  firstSentAt?: number;
  /** Epoch ms of the latest attempt sent. */
  lastSentAt?: number;
  /** Whether Partner Center answered the latest attempt (it has then finished with it). */
  answered?: boolean;
  /** `maybe`: an attempt was sent and nothing proves it placed nothing; `no`: Partner Center refused the last one. */
  placed?: 'maybe' | 'no';
  /** Every MS-RequestId sent with this key. */
  requestIds?: string[];
  /** The cart a cart + checkout purchase created, so a retry checks out this cart instead of creating another. */
  cart?: unknown;
  /** What the purchase looked at before its first send (an add-on: the order's subscriptions before). */
  before?: unknown;
}

export interface Journal {
  /** The entry as it is now; read once per request and kept up to date by the writes below. */
  read(): Promise<JournalEntry>;
  /** On record before an attempt is sent: from here on the purchase may have been placed. */
  sending(requestId: string, at: number): Promise<void>;
  /** Partner Center answered the latest attempt: refused it (`no`), or failed in a way that may hide a purchase. */
  answered(placed: 'maybe' | 'no'): Promise<void>;
  /** Keeps a fact for the next attempt (the created cart, the state before the first send). */
  keep(fields: Pick<JournalEntry, 'cart' | 'before'>): Promise<void>;
}

export interface PurchaseRecords {
  journal: Journal;
  /**
   * Claims an order (or an add-on line, `orderId#subscriptionId`) for this key. True when it is this key's (claimed
   * now or before), false when another key holds it: a purchase is adopted by one key at most.
   */
  claim(customerId: string, id: string): Promise<boolean>;
}

export interface DynamoDBRecordsOptions {
  tableName: string;
  client: DynamoDBClient;
  expiresAfterSeconds: number;
  now?: () => number;
}

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

/** A failed read or write of these records is an unavailable store: nothing is sent without them. */
const storeCall = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw new IdempotencyStoreError(error);
  }
};

/** The records of one idempotency scope (caller, operation, customer, key). */
export function dynamoDBPurchaseRecords(options: DynamoDBRecordsOptions, scope: string): PurchaseRecords {
  const { tableName, client } = options;
  const now = options.now ?? Date.now;
  const owner = hash(scope);
  const key = marshall({ id: `partner-orders#journal#${owner}` });
  const expiration = () => Math.floor(now() / 1000) + options.expiresAfterSeconds;
  let entry: JournalEntry | undefined;

  /** `set` and `add` are UpdateExpression clauses; the record's lifetime is renewed with every write. */
  const update = async (set: string[], values: Record<string, unknown>, names: Record<string, string>, add = '') => {
    const result = await storeCall(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: `SET ${[...set, '#expiration = :expiration'].join(', ')}${add ? ` ADD ${add}` : ''}`,
          ExpressionAttributeNames: { '#expiration': 'expiration', ...names },
          ExpressionAttributeValues: marshall({ ':expiration': expiration(), ...values }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    entry = fromItem(result.Attributes);
  };

  const journal: Journal = {
    async read() {
      if (entry) return entry;
      const result = await storeCall(() =>
        client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true })),
      );
      entry = fromItem(result.Item);
      return entry;
    },
    sending: (requestId, at) =>
      update(
        ['#first = if_not_exists(#first, :at)', '#last = :at', '#answered = :false', '#placed = :maybe'],
        { ':at': at, ':false': false, ':maybe': 'maybe', ':ids': new Set([requestId]) },
        {
          '#first': 'firstSentAt',
          '#last': 'lastSentAt',
          '#answered': 'answered',
          '#placed': 'placed',
          '#ids': 'requestIds',
        },
        '#ids :ids',
      ),
    answered: (placed) =>
      update(
        ['#answered = :true', '#placed = :placed'],
        { ':true': true, ':placed': placed },
        {
          '#answered': 'answered',
          '#placed': 'placed',
        },
      ),
    keep: (fields) => {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const set: string[] = [];
      for (const [name, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        names[`#${name}`] = name;
        // As JSON text: a cart's keys and nulls survive as they came, whatever DynamoDB makes of empty values.
        values[`:${name}`] = JSON.stringify(value);
        set.push(`#${name} = :${name}`);
      }
      return set.length === 0 ? Promise.resolve() : update(set, values, names);
    },
  };

  return {
    journal,
    async claim(customerId, id) {
      try {
        await storeCall(() =>
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: marshall({ id: `partner-orders#claim#${customerId}#${id}`, owner, expiration: expiration() }),
              ConditionExpression: 'attribute_not_exists(#id) OR #owner = :owner',
              ExpressionAttributeNames: { '#id': 'id', '#owner': 'owner' },
              ExpressionAttributeValues: marshall({ ':owner': owner }),
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
}

function fromItem(item: Parameters<typeof unmarshall>[0] | undefined): JournalEntry {
  if (!item) return {};
  const raw = unmarshall(item) as Record<string, unknown>;
  const parsed = (value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as unknown) : undefined);
  return {
    ...(typeof raw.firstSentAt === 'number' ? { firstSentAt: raw.firstSentAt } : {}),
    ...(typeof raw.lastSentAt === 'number' ? { lastSentAt: raw.lastSentAt } : {}),
    ...(typeof raw.answered === 'boolean' ? { answered: raw.answered } : {}),
    ...(raw.placed === 'maybe' || raw.placed === 'no' ? { placed: raw.placed } : {}),
    ...(raw.requestIds instanceof Set ? { requestIds: [...(raw.requestIds as Set<string>)] } : {}),
    ...(raw.cart === undefined ? {} : { cart: parsed(raw.cart) }),
    ...(raw.before === undefined ? {} : { before: parsed(raw.before) }),
  };
}
