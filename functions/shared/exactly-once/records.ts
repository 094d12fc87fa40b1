// What a keyed purchase leaves on record besides its final outcome (which Powertools keeps): that it was sent, when
// first and last, whether Partner Center answered, the cart a multi-step purchase created, and which orders belong to
// which key. Kept in the idempotency table, next to the Powertools records and with the same lifetime, so that a
// retry, a redelivery or a redrive finds them for as long as it can replay.
//
// The journal also says what was asked (the command: caller, operation, customer, key and validated input), written
// with the first attempt's own write, so that the scheduled reconciler can look for the purchase again with the same
// reconcile code, and `GET /purchases/{key}` can tell a caller what became of it. Two things make journals findable:
//   - while an attempt's outcome is unknown the journal carries `unresolved`, the partition key of the sparse index
//     UNRESOLVED_INDEX (sort key `lastSentAt`); an answered purchase, a refusal and the reconciler's result remove it,
//     so the index holds only purchases nobody knows the outcome of;
//   - a pointer item per caller and key (`partner-orders#key#<sha256([caller, key])>`) lists the journals sent with
//     that key (one per operation and customer), written once, before the journal's first write.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyConflictError, IdempotencyStoreError } from '../errors.js';

/** The journal of one key: what earlier attempts with it may have done. */
export interface JournalEntry {
  /** Epoch ms of the first attempt ever sent with this key. */
  firstSentAt?: number;
  /** Epoch ms of the latest attempt sent. */
  lastSentAt?: number;
  /** Whether Partner Center refused the latest attempt (throttled, or the request refused): it placed nothing. */
  answered?: boolean;
  /** `maybe`: an attempt was sent and nothing proves it placed nothing; `no`: Partner Center refused the last one. */
  placed?: 'maybe' | 'no';
  /** Every MS-RequestId sent with this key. */
  requestIds?: string[];
  /** The cart a cart + checkout purchase created, so a retry checks out this cart instead of creating another. */
  cart?: unknown;
  /** What the purchase looked at before its first send (an add-on: the order's subscriptions before). */
  before?: unknown;
  /** What was asked, recorded with the first write (journals written before this field existed have none). */
  command?: RecordedCommand;
  /** In the unresolved index: an attempt was sent and nothing has settled its outcome yet. */
  unresolved?: boolean;
  /** What the scheduled reconciler found, when it looked (lifecycle/reconciler.ts). */
  resolution?: Resolution;
}

/** A keyed purchase as it was asked for: enough to look for it again, and to rebuild its idempotency scope. */
export interface RecordedCommand {
  caller: string;
  operation: string;
  customerId: string;
  idempotencyKey: string;
  /**
   * The validated input (the idempotency fingerprint's `input`). Left out of the journal when even compressed it
   * would take more than MAX_RECORDED_COMMAND_BYTES: `inputDigest` then stands for it.
   */
  input?: unknown;
  /** sha256 of the input as canonical JSON: what a reused key is compared by. */
  inputDigest?: string;
}

/**
 * The most a recorded command may take in the journal, compressed: the journal also holds a created cart (up to a
 * request body's size) and must stay inside DynamoDB's 400 KB item. A larger one is recorded without its input.
 */
export const MAX_RECORDED_COMMAND_BYTES = 64 * 1024;

/** The reconciler's verdict on a purchase whose outcome was unknown. */
export interface Resolution {
  /** `found`: placed, and claimed for the key; `not-found`, `ambiguous`: a person must look; `settled`: an outcome was stored after all. */
  outcome: 'found' | 'not-found' | 'ambiguous' | 'settled' | 'unreadable';
  /** Epoch ms. */
  at: number;
  orderIds?: string[];
  /** For `ambiguous`: the orders that could each be the purchase. */
  candidates?: string[];
  detail: string;
}

/** The sparse index of journals whose outcome is unknown: partition `unresolved` (one value), sort `lastSentAt`. */
export const UNRESOLVED_INDEX = {
  name: 'unresolved',
  partitionKey: 'unresolved',
  sortKey: 'lastSentAt',
  value: 'purchase',
} as const;

export const JOURNAL_PREFIX = 'partner-orders#journal#';
export const KEY_POINTER_PREFIX = 'partner-orders#key#';

export interface Journal {
  /** The entry as it is now; read once per request and kept up to date by the writes below. */
  read(): Promise<JournalEntry>;
  /** On record before an attempt is sent: from here on the purchase may have been placed. */
  sending(requestId: string, at: number): Promise<void>;
  /** Partner Center refused the latest attempt: nothing placed (`no`), unless an earlier attempt may have (`maybe`). */
  answered(placed: 'maybe' | 'no'): Promise<void>;
  /** Keeps a fact for the next attempt (the created cart, the state before the first send). */
  keep(fields: Pick<JournalEntry, 'cart' | 'before'>): Promise<void>;
  /**
   * The purchase was answered as placed: its outcome is known, so it leaves the unresolved index (`placed` stays as it
   * is, so that a retry without a stored outcome still looks before it sends). Optional: a store without that index
   * has nothing to do.
   */
  settled?(): Promise<void>;
}

export interface PurchaseRecords {
  journal: Journal;
  /**
   * Claims an order (or an add-on line, `orderId#subscriptionId`) for this key. True when it is this key's (claimed
   * now or before), false when another key holds it: a purchase is adopted by one key at most.
   */
  claim(customerId: string, id: string): Promise<boolean>;
  /** Whether another key holds the claim on an order (without claiming it). */
  claimedByOther(customerId: string, id: string): Promise<boolean>;
  /**
   * Purchases of the same lines for the same customer (`lines`: a fingerprint of them) that are in flight: this key's
   * is on record from before its send until its outcome is known (`release`), so that another key that lost its own
   * answer does not take this one's order for its own while this one's answer is still on its way.
   */
  intents: {
    announce(customerId: string, lines: string, at: number): Promise<void>;
    release(customerId: string, lines: string): Promise<void>;
    /** Another key's purchase of these lines announced at or after `since` and not released. */
    othersSince(customerId: string, lines: string, since: number): Promise<boolean>;
  };
}

export interface DynamoDBRecordsOptions {
  tableName: string;
  client: DynamoDBClient;
  expiresAfterSeconds: number;
  now?: () => number;
}

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

/** JSON with object keys sorted, so that the same request written in another key order compares equal. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );

/** What a reused key's request is compared by: the recorded digest, or the digest of the input. */
export const inputDigestOf = (command: RecordedCommand) => command.inputDigest ?? hash(canonical(command.input));

/** The command as the journal keeps it: gzipped JSON, with its input when that fits (MAX_RECORDED_COMMAND_BYTES). */
function encodeCommand(command: RecordedCommand): Uint8Array {
  const inputDigest = inputDigestOf(command);
  const full = gzipSync(JSON.stringify({ ...command, inputDigest }));
  if (full.length <= MAX_RECORDED_COMMAND_BYTES) return full;
  const { input: _input, ...rest } = command;
  return gzipSync(JSON.stringify({ ...rest, inputDigest }));
}

function decodeCommand(value: unknown): RecordedCommand | undefined {
  if (value instanceof Uint8Array) return JSON.parse(gunzipSync(value).toString('utf8')) as RecordedCommand;
  return typeof value === 'string' ? (JSON.parse(value) as RecordedCommand) : undefined;
}

/** The journal's owner hash for an idempotency scope (the claims carry it too). */
export const ownerOf = (scope: string) => hash(scope);
/** The pointer item of a caller's key. */
export const keyPointerId = (caller: string, idempotencyKey: string) =>
  `${KEY_POINTER_PREFIX}${hash(JSON.stringify([caller, idempotencyKey]))}`;
/** The idempotency scope of a recorded command, exactly as commands.ts builds it. */
export const scopeOf = (command: RecordedCommand) =>
  JSON.stringify([command.caller, command.operation, command.customerId, command.idempotencyKey]);

/** A failed read or write of these records is an unavailable store: nothing is sent without them. */
const storeCall = async <T>(call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw new IdempotencyStoreError(error);
  }
};

/**
 * The records of one idempotency scope (caller, operation, customer, key). With `command` (what the scope's purchase
 * asks for), the journal's first write records it, and the caller's key pointer lists this journal.
 */
export function dynamoDBPurchaseRecords(
  options: DynamoDBRecordsOptions,
  scope: string,
  command?: RecordedCommand,
): PurchaseRecords {
  const { tableName, client } = options;
  const now = options.now ?? Date.now;
  const owner = hash(scope);
  const key = marshall({ id: `${JOURNAL_PREFIX}${owner}` });
  const expiration = () => Math.floor(now() / 1000) + options.expiresAfterSeconds;
  let entry: JournalEntry | undefined;
  /** This request's entry in the intent of its lines, while announced. */
  let announced: string | undefined;

  /** Before the journal's first write: the caller's key lists it (an idempotent ADD to a set). */
  const point = (recorded: RecordedCommand) =>
    storeCall(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall({ id: keyPointerId(recorded.caller, recorded.idempotencyKey) }),
          UpdateExpression: 'SET #expiration = :expiration ADD #journals :journal',
          ExpressionAttributeNames: { '#expiration': 'expiration', '#journals': 'journals' },
          ExpressionAttributeValues: marshall({ ':expiration': expiration(), ':journal': new Set([owner]) }),
        }),
      ),
    );

  /**
   * `set`, `add` and `remove` are UpdateExpression clauses; the record's lifetime is renewed with every write. With
   * `recordCommand`, a journal that has no command yet gets it in this same write (after the key pointer).
   */
  const update = async (
    set: string[],
    values: Record<string, unknown>,
    names: Record<string, string>,
    add = '',
    { recordCommand = false, remove = [] as string[] } = {},
  ) => {
    const withCommand = recordCommand && command !== undefined && entry?.command === undefined;
    if (withCommand) await point(command);
    const commandSet = withCommand ? ['#command = if_not_exists(#command, :command)'] : [];
    const result = await storeCall(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: `SET ${[...set, ...commandSet, '#expiration = :expiration'].join(', ')}${
            add ? ` ADD ${add}` : ''
          }${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ExpressionAttributeNames: {
            '#expiration': 'expiration',
            ...(withCommand ? { '#command': 'command' } : {}),
            ...names,
          },
          ExpressionAttributeValues: marshall({
            ':expiration': expiration(),
            // As JSON (gzipped: a request body can be 256 KB), so that the input's keys and nulls survive as they came.
            ...(withCommand ? { ':command': encodeCommand(command) } : {}),
            ...values,
          }),
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
      // Powertools refuses a key reused with another request only while its record exists, and the record of an
      // attempt whose outcome was unknown is gone: the journal remembers what that attempt asked for.
      if (command && entry.command && inputDigestOf(entry.command) !== inputDigestOf(command)) {
        throw new IdempotencyConflictError('mismatch');
      }
      return entry;
    },
    sending: (requestId, at) =>
      update(
        [
          '#first = if_not_exists(#first, :at)',
          '#last = :at',
          '#answered = :false',
          '#placed = :maybe',
          // Into the unresolved index until something settles this attempt's outcome.
          '#unresolved = :unresolved',
        ],
        {
          ':at': at,
          ':false': false,
          ':maybe': 'maybe',
          ':ids': new Set([requestId]),
          ':unresolved': UNRESOLVED_INDEX.value,
        },
        {
          '#first': 'firstSentAt',
          '#last': 'lastSentAt',
          '#answered': 'answered',
          '#placed': 'placed',
          '#ids': 'requestIds',
          '#unresolved': UNRESOLVED_INDEX.partitionKey,
        },
        '#ids :ids',
        { recordCommand: true },
      ),
    answered: (placed) =>
      update(
        ['#answered = :true', '#placed = :placed'],
        { ':true': true, ':placed': placed },
        {
          '#answered': 'answered',
          '#placed': 'placed',
          // A refusal is an outcome: nothing was placed, and the purchase leaves the unresolved index.
          ...(placed === 'no' ? { '#unresolved': UNRESOLVED_INDEX.partitionKey } : {}),
        },
        '',
        { remove: placed === 'no' ? ['#unresolved'] : [] },
      ),
    settled: () => update([], {}, { '#unresolved': UNRESOLVED_INDEX.partitionKey }, '', { remove: ['#unresolved'] }),
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
      return set.length === 0 ? Promise.resolve() : update(set, values, names, '', { recordCommand: true });
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
    async claimedByOther(customerId, id) {
      const result = await storeCall(() =>
        client.send(
          new GetItemCommand({
            TableName: tableName,
            Key: marshall({ id: `partner-orders#claim#${customerId}#${id}` }),
            ConsistentRead: true,
          }),
        ),
      );
      const holder = result.Item ? (unmarshall(result.Item) as { owner?: string }).owner : undefined;
      return holder !== undefined && holder !== owner;
    },
    intents: {
      // One item per customer and line set; its string set `pending` holds `owner|announcedAt` for every key in flight.
      async announce(customerId, lines, at) {
        announced = `${owner}|${at}`;
        await storeCall(() =>
          client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: intentKey(customerId, lines),
              UpdateExpression: 'ADD #pending :mine SET #expiration = :expiration',
              ExpressionAttributeNames: { '#pending': 'pending', '#expiration': 'expiration' },
              ExpressionAttributeValues: marshall({ ':mine': new Set([announced]), ':expiration': expiration() }),
            }),
          ),
        );
      },
      async release(customerId, lines) {
        // This request's own entry when it announced one; else (a retry that found the purchase) whatever entries an
        // earlier attempt with this key left behind.
        let mine = announced === undefined ? [] : [announced];
        announced = undefined;
        if (mine.length === 0) {
          const result = await storeCall(() =>
            client.send(
              new GetItemCommand({ TableName: tableName, Key: intentKey(customerId, lines), ConsistentRead: true }),
            ),
          );
          const pending = result.Item ? (unmarshall(result.Item) as { pending?: Set<string> }).pending : undefined;
          mine = [...(pending ?? [])].filter((entry) => entry.startsWith(`${owner}|`));
        }
        if (mine.length === 0) return;
        await storeCall(() =>
          client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: intentKey(customerId, lines),
              UpdateExpression: 'DELETE #pending :mine',
              ExpressionAttributeNames: { '#pending': 'pending' },
              ExpressionAttributeValues: marshall({ ':mine': new Set(mine) }),
            }),
          ),
        );
      },
      async othersSince(customerId, lines, since) {
        const result = await storeCall(() =>
          client.send(
            new GetItemCommand({ TableName: tableName, Key: intentKey(customerId, lines), ConsistentRead: true }),
          ),
        );
        const pending = result.Item ? (unmarshall(result.Item) as { pending?: Set<string> }).pending : undefined;
        return [...(pending ?? [])].some((entry) => {
          const [who, at] = entry.split('|');
          return who !== owner && Number(at) >= since;
        });
      },
    },
  };
}

const intentKey = (customerId: string, lines: string) =>
  marshall({ id: `partner-orders#intent#${customerId}#${hash(lines)}` });

/** A journal item as the entry it records. */
export function fromItem(item: Parameters<typeof unmarshall>[0] | undefined): JournalEntry {
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
    ...(raw.command === undefined ? {} : { command: decodeCommand(raw.command) as RecordedCommand }),
    ...(raw[UNRESOLVED_INDEX.partitionKey] === undefined ? {} : { unresolved: true }),
    ...(raw.resolution === undefined ? {} : { resolution: parsed(raw.resolution) as Resolution }),
  };
}
