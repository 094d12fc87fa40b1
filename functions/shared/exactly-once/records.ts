// What a keyed purchase keeps on record besides its final outcome (which Powertools keeps): the cart it checks out,
// whether a checkout of that cart went out, when, and with which MS-RequestIds. Every keyed purchase is one cart
// (exactly-once/checkout-once.ts): once the cart is on record under the key, every later attempt — the client's own,
// a caller's retry, an SQS redelivery, the reconciler — checks out that cart and no other, which Partner Center
// documents as idempotent per cart. Kept in the idempotency table next to the Powertools records, and outliving them
// (JOURNAL_MARGIN_SECONDS), so that a retry, a redelivery or a redrive finds them for as long as it can replay.
//
// The journal also says what was asked (the command: caller, operation, customer, key and validated input), written
// with its first write, so that the scheduled reconciler can finish looking, and `GET /purchases/{key}` can tell a
// caller what became of it. Two things make journals findable:
//   - while a checkout's outcome is unknown the journal carries `unresolved`, the partition key of the sparse index
//     UNRESOLVED_INDEX (sort key `lastSentAt`); an answer, a refusal and the reconciler's result remove it;
//   - a pointer item per caller and key (`partner-orders#key#<sha256([caller, key])>`) lists the journals sent with
//     that key (one per operation and customer), written before the journal's first write and renewed with it.
import { hash as digestOf } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { IdempotencyConflictError, IdempotencyStoreError, storeCall } from '../errors.js';

/** The cart a keyed purchase checks out, as Partner Center created it (its id and lines). */
export interface RecordedCart {
  id: string;
  status?: string;
  lineItems?: unknown[];
  [field: string]: unknown;
}

/** The journal of one key: what earlier attempts with it may have done. */
export interface JournalEntry {
  /** Epoch ms of the first checkout ever sent with this key. */
  firstSentAt?: number;
  /** Epoch ms of the latest checkout sent. */
  lastSentAt?: number;
  /** `maybe`: a checkout was sent and nothing proves it placed nothing; `no`: Partner Center refused the last one. */
  placed?: 'maybe' | 'no';
  /** Every MS-RequestId sent with this key. */
  requestIds?: string[];
  /** The one cart this key's purchase checks out, recorded before its first checkout. */
  cart?: RecordedCart;
  /** What was asked, recorded with the first write. */
  command?: RecordedCommand;
  /** In the unresolved index: a checkout was sent and nothing has settled its outcome yet. */
  unresolved?: boolean;
  /** What the scheduled reconciler found, when it looked (lifecycle/reconciler.ts). */
  resolution?: Resolution;
}

/** A keyed purchase as it was asked for: enough to tell a caller about it, and to rebuild its idempotency scope. */
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
 * The most a recorded command may take in the journal, compressed: the journal also holds the created cart (up to a
 * request body's size) and must stay inside DynamoDB's 400 KB item. A larger one is recorded without its input.
 */
export const MAX_RECORDED_COMMAND_BYTES = 64 * 1024;

/**
 * How much longer than the key's outcome its journal and pointer live. The outcome (Powertools' record) is written
 * after the journal's last write with the same `expiresAfterSeconds`; the margin keeps every record of a key alive
 * at least as long as the key can replay.
 */
export const JOURNAL_MARGIN_SECONDS = 3600;

/**
 * The longest one request can run (Lambda's 15-minute limit). A key's pointer is written once per request, at its
 * first journal write, with this much more life than the journal: every later write of the same request renews the
 * journal by less than this, so the pointer still outlives it without a write of its own each time.
 */
export const LONGEST_REQUEST_SECONDS = 900;

/** The reconciler's verdict on a purchase whose outcome was unknown. */
export interface Resolution {
  /**
   * `found`: the cart was Ordered and its checkout, asked again, named the orders; `not-placed`: the cart is still
   * Active, nothing was bought; `unreadable`: neither could be told (a person must look); `settled`: an outcome was
   * stored after all.
   */
  outcome: 'found' | 'not-placed' | 'unreadable' | 'settled';
  /** Epoch ms. */
  at: number;
  orderIds?: string[];
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
  /**
   * The entry as it is now, read once per request and kept up to date by the writes below. Refuses (422 mismatch) a
   * key whose journal recorded another request: a retry after an unknown outcome must be the same purchase.
   */
  read(): Promise<JournalEntry>;
  /**
   * Records the cart this key's purchase checks out, unless one is on record already: the cart on record is the one
   * returned, and a cart created beside it is left Active, never checked out (it expires after 7 days).
   */
  recordCart(cart: RecordedCart): Promise<RecordedCart>;
  /**
   * `recordCart` and `sending` in one write, for a cart just created whose checkout is sent next: the cart is on
   * record, and the purchase may be placed from here on, before the checkout goes out, as with the two writes; a
   * crash after it is a crash after `sending`. Returns the cart on record (another request's, if it recorded one first:
   * that cart is the one checked out).
   */
  recordCartSending(cart: RecordedCart, requestId: string, at: number): Promise<RecordedCart>;
  /**
   * Puts `cart` on record instead of `replaced`, unless another request replaced it first (the cart on record is
   * returned either way). Only for a recorded cart that is gone and that no checkout can have placed.
   */
  replaceCart(replaced: RecordedCart, cart: RecordedCart): Promise<RecordedCart>;
  /**
   * Writes the key's pointer now rather than just before the journal's first write (which waits for it): beside a
   * step that comes before that write (creating the cart). A pointer to a journal never written lists nothing
   * (journals.ts `ofKey` skips it).
   */
  pointKey?(): Promise<void>;
  /** On record before a checkout is sent: from here on the purchase may have been placed. */
  sending(requestId: string, at: number): Promise<void>;
  /** Partner Center refused the checkout, and no earlier one may have placed the purchase: nothing was bought. */
  refused(): Promise<void>;
  /** Partner Center answered what the checkout placed: the purchase leaves the unresolved index. */
  settled(): Promise<void>;
}

export interface DynamoDBRecordsOptions {
  tableName: string;
  client: DynamoDBClient;
  expiresAfterSeconds: number;
  now?: () => number;
}

/** sha256, hex (one-shot: no Hash object per digest). */
const hash = (value: string) => digestOf('sha256', value);

/** JSON with object keys sorted, so that the same request written in another key order compares equal. */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );

/** What a reused key's request is compared by: the recorded digest, or the digest of the input. */
export const inputDigestOf = (command: RecordedCommand) => command.inputDigest ?? hash(canonical(command.input));

/**
 * A JSON text this long or shorter (UTF-16 code units, so at most three times as many bytes) is kept as a string; a
 * longer one is gzipped. A purchase of a few lines is a few hundred bytes, where gzip costs more CPU than it saves
 * space; a 256 KB body and the cart answered for it must be compressed to fit DynamoDB's 400 KB item together.
 */
export const PLAIN_JSON_MAX_LENGTH = 4096;

/** JSON as the journal keeps it: a string when short, else gzipped. Both forms are read back (`decodeJson`). */
const encodeJson = (json: string): string | Uint8Array =>
  json.length <= PLAIN_JSON_MAX_LENGTH ? json : gzipSync(json);
/** A value written by `encodeJson`, or by earlier versions (always gzipped). */
const decodeJson = (value: unknown): unknown =>
  JSON.parse(value instanceof Uint8Array ? gunzipSync(value).toString('utf8') : String(value));
const encodedBytes = (value: string | Uint8Array) =>
  typeof value === 'string' ? Buffer.byteLength(value) : value.length;

/** The command as the journal keeps it (`encodeJson`), with its input when that fits (MAX_RECORDED_COMMAND_BYTES). */
function encodeCommand(command: RecordedCommand, inputDigest = inputDigestOf(command)): string | Uint8Array {
  const full = encodeJson(JSON.stringify({ ...command, inputDigest }));
  if (encodedBytes(full) <= MAX_RECORDED_COMMAND_BYTES) return full;
  const { input: _input, ...rest } = command;
  return encodeJson(JSON.stringify({ ...rest, inputDigest }));
}

function decodeCommand(value: unknown, decode = decodeJson): RecordedCommand | undefined {
  return value instanceof Uint8Array || typeof value === 'string' ? (decode(value) as RecordedCommand) : undefined;
}

/**
 * `decodeJson` that hands back the value it decoded last time from the same stored text or bytes: every journal write
 * answers the whole item (ReturnValues ALL_NEW), and the cart and command in it are decoded once per request, not once
 * per write. The values are read, never changed, by the purchase path.
 */
const decodeOnce = () => {
  const decoded: { raw: string | Uint8Array; value: unknown }[] = [];
  return (value: unknown): unknown => {
    const raw = value instanceof Uint8Array ? value : String(value);
    const same = decoded.find((d) =>
      typeof raw === 'string' ? d.raw === raw : d.raw instanceof Uint8Array && Buffer.from(d.raw).equals(raw),
    );
    if (same) return same.value;
    const result = decodeJson(raw);
    if (decoded.push({ raw, value: result }) > 2) decoded.shift();
    return result;
  };
};

/**
 * The cart as the journal keeps it: JSON (`encodeJson`; a cart of 100 lines answered for a 256 KB body, next to the
 * command, must fit DynamoDB's 400 KB item), so that its keys and nulls survive as they came.
 */
const encodeCart = (cart: RecordedCart) => encodeJson(JSON.stringify(cart));
const decodeCart = (value: unknown, decode = decodeJson): RecordedCart => decode(value) as RecordedCart;

/** The journal's owner hash for an idempotency scope. */
export const ownerOf = (scope: string) => hash(scope);
/** The pointer item of a caller's key. */
export const keyPointerId = (caller: string, idempotencyKey: string) =>
  `${KEY_POINTER_PREFIX}${hash(JSON.stringify([caller, idempotencyKey]))}`;
/** The idempotency scope of a recorded command, exactly as commands.ts builds it. */
export const scopeOf = (command: RecordedCommand) =>
  JSON.stringify([command.caller, command.operation, command.customerId, command.idempotencyKey]);

/**
 * The journal of one idempotency scope (caller, operation, customer, key). With `command` (what the scope's purchase
 * asks for), the journal's first write records it, and the caller's key pointer lists this journal.
 */
export function dynamoDBJournal(options: DynamoDBRecordsOptions, scope: string, command?: RecordedCommand): Journal {
  const { tableName, client } = options;
  const now = options.now ?? Date.now;
  const owner = hash(scope);
  const key = marshall({ id: `${JOURNAL_PREFIX}${owner}` });
  const expiration = () => Math.floor(now() / 1000) + options.expiresAfterSeconds + JOURNAL_MARGIN_SECONDS;
  let entry: JournalEntry | undefined;
  const decode = decodeOnce();
  /** This request's input digest, computed once (canonical JSON and sha256 of the whole input: not free per write). */
  let ours: string | undefined;
  const digest = () => {
    ours ??= command ? inputDigestOf(command) : '';
    return ours;
  };
  /** This request's write of the key's pointer (once per request: LONGEST_REQUEST_SECONDS), once started. */
  let pointing: Promise<unknown> | undefined;

  /** The caller's key lists this journal (an idempotent ADD to a set), and outlives it. */
  const point = (recorded: RecordedCommand) => {
    pointing ??= storeCall(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: marshall({ id: keyPointerId(recorded.caller, recorded.idempotencyKey) }),
          UpdateExpression: 'SET #expiration = :expiration ADD #journals :journal',
          ExpressionAttributeNames: { '#expiration': 'expiration', '#journals': 'journals' },
          ExpressionAttributeValues: marshall({
            ':expiration': expiration() + LONGEST_REQUEST_SECONDS,
            ':journal': new Set([owner]),
          }),
        }),
      ),
    ).catch((error: unknown) => {
      pointing = undefined;
      throw error;
    });
    return pointing;
  };

  /**
   * One write of the journal (`set` and `remove` are UpdateExpression clauses), renewing its lifetime, and its
   * pointer's once per request. The first write records the command, after the pointer, so that every journal can be
   * found by its key.
   */
  const update = async (
    set: string[],
    values: Record<string, unknown>,
    names: Record<string, string>,
    { add = '', remove = [] as string[], condition = '' } = {},
  ) => {
    const first = command !== undefined && entry?.command === undefined;
    if (first) await point(command);
    const commandSet = first ? ['#command = if_not_exists(#command, :command)'] : [];
    const write = storeCall(() =>
      client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: `SET ${[...set, ...commandSet, '#expiration = :expiration'].join(', ')}${
            add ? ` ADD ${add}` : ''
          }${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ...(condition ? { ConditionExpression: condition } : {}),
          ExpressionAttributeNames: {
            '#expiration': 'expiration',
            ...(first ? { '#command': 'command' } : {}),
            ...names,
          },
          ExpressionAttributeValues: marshall({
            ':expiration': expiration(),
            // As JSON (gzipped when long: a request body can be 256 KB), so that the input's keys and nulls survive.
            ...(first ? { ':command': encodeCommand(command, digest()) } : {}),
            ...values,
          }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const [result] = await Promise.all([write, !first && command ? point(command) : undefined]);
    entry = fromItem(result.Attributes, decode);
    refuseAnotherRequest(entry);
  };
  // The key on record for another request (a request whose lock expired while it ran, and another body took the key
  // meanwhile): this request must not go on with that request's cart.
  const refuseAnotherRequest = (found: JournalEntry) => {
    if (command && found.command && inputDigestOf(found.command) !== digest()) {
      throw new IdempotencyConflictError('mismatch');
    }
  };

  const journal: Journal = {
    async pointKey() {
      if (command) await point(command);
    },
    async read() {
      if (entry) return entry;
      const result = await storeCall(() =>
        client.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true })),
      );
      entry = fromItem(result.Item, decode);
      // Powertools refuses a key reused with another request only while its record exists, and the record of a
      // purchase whose outcome was unknown is gone: the journal remembers what that purchase asked for.
      refuseAnotherRequest(entry);
      return entry;
    },
    async recordCart(cart) {
      await update(CART_CLAUSES.set, cartValues(cart), CART_CLAUSES.names);
      return entry?.cart ?? cart;
    },
    async replaceCart(replaced, cart) {
      try {
        await update(
          ['#cart = :cart', '#cartId = :cartId'],
          { ':cart': encodeCart(cart), ':cartId': cart.id, ':replaced': replaced.id, ':no': 'no' },
          { '#cart': 'cart', '#cartId': 'cartId', '#placed': 'placed' },
          { condition: '#cartId = :replaced AND #placed = :no' },
        );
      } catch (error) {
        if (!(error instanceof IdempotencyStoreError && error.cause instanceof ConditionalCheckFailedException))
          throw error;
        entry = undefined;
        return (await journal.read()).cart ?? cart;
      }
      return entry?.cart ?? cart;
    },
    async recordCartSending(cart, requestId, at) {
      const sent = sendingClauses(requestId, at);
      await update(
        [...CART_CLAUSES.set, ...sent.set],
        { ...cartValues(cart), ...sent.values },
        { ...CART_CLAUSES.names, ...sent.names },
        { add: sent.add },
      );
      return entry?.cart ?? cart;
    },
    sending: (requestId, at) => {
      const sent = sendingClauses(requestId, at);
      return update(sent.set, sent.values, sent.names, { add: sent.add });
    },
    refused: () =>
      update(
        ['#placed = :no'],
        { ':no': 'no' },
        { '#placed': 'placed', '#unresolved': UNRESOLVED_INDEX.partitionKey },
        { remove: ['#unresolved'] },
      ),
    // `placed` stays `maybe`: a retry without a stored outcome still checks the same cart out, and is not judged anew.
    settled: () => update([], {}, { '#unresolved': UNRESOLVED_INDEX.partitionKey }, { remove: ['#unresolved'] }),
  };
  return journal;
}

/** The cart on record, unless one is already. */
const CART_CLAUSES = {
  set: ['#cart = if_not_exists(#cart, :cart)', '#cartId = if_not_exists(#cartId, :cartId)'],
  names: { '#cart': 'cart', '#cartId': 'cartId' },
};
const cartValues = (cart: RecordedCart) => ({ ':cart': encodeCart(cart), ':cartId': cart.id });

/** A checkout about to be sent: from here on the purchase may be placed. */
const sendingClauses = (requestId: string, at: number) => ({
  set: [
    '#first = if_not_exists(#first, :at)',
    '#last = :at',
    '#placed = :maybe',
    // Into the unresolved index until something settles this checkout's outcome.
    '#unresolved = :unresolved',
  ],
  values: { ':at': at, ':maybe': 'maybe', ':ids': new Set([requestId]), ':unresolved': UNRESOLVED_INDEX.value },
  names: {
    '#first': 'firstSentAt',
    '#last': 'lastSentAt',
    '#placed': 'placed',
    '#ids': 'requestIds',
    '#unresolved': UNRESOLVED_INDEX.partitionKey,
  },
  add: '#ids :ids',
});

/** A journal item as the entry it records. */
export function fromItem(item: Parameters<typeof unmarshall>[0] | undefined, decode = decodeJson): JournalEntry {
  if (!item) return {};
  const raw = unmarshall(item) as Record<string, unknown>;
  const parsed = (value: unknown) => (typeof value === 'string' ? (JSON.parse(value) as unknown) : undefined);
  return {
    ...(typeof raw.firstSentAt === 'number' ? { firstSentAt: raw.firstSentAt } : {}),
    ...(typeof raw.lastSentAt === 'number' ? { lastSentAt: raw.lastSentAt } : {}),
    ...(raw.placed === 'maybe' || raw.placed === 'no' ? { placed: raw.placed } : {}),
    ...(raw.requestIds instanceof Set ? { requestIds: [...(raw.requestIds as Set<string>)] } : {}),
    ...(raw.cart === undefined ? {} : { cart: decodeCart(raw.cart, decode) }),
    ...(raw.command === undefined ? {} : { command: decodeCommand(raw.command, decode) as RecordedCommand }),
    ...(raw[UNRESOLVED_INDEX.partitionKey] === undefined ? {} : { unresolved: true }),
    ...(raw.resolution === undefined ? {} : { resolution: parsed(raw.resolution) as Resolution }),
  };
}
