// Issue 22 (our CPU per purchase): the journal keeps a short cart and command as plain JSON strings and gzips only a
// long one (a 256 KB body, the cart answered for it). Either form, and journals written before this change (always
// gzipped), read back the same: keys, order of lines, nulls; a reused key is still compared by the recorded digest.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyConflictError } from '../../functions/shared/errors.js';
import {
  canonical,
  dynamoDBJournal,
  JOURNAL_PREFIX,
  ownerOf,
  PLAIN_JSON_MAX_LENGTH,
  type RecordedCommand,
  scopeOf,
} from '../../functions/shared/exactly-once/records.js';
import { createIdempotencyTable, type LocalDynamoDB, startDynamoDB } from '../../local/dynamodb.js';

const TABLE = 'journal-encoding';

describe('journal encoding: plain JSON when short, gzipped when long, both read back', () => {
  let db: LocalDynamoDB;
  beforeAll(async () => {
    db = await startDynamoDB();
    await createIdempotencyTable(db.client, TABLE);
  });
  afterAll(() => db.stop());

  const options = () => ({ tableName: TABLE, client: db.client, expiresAfterSeconds: 3600 });
  const command = (key: string, input: unknown): RecordedCommand => ({
    caller: 'http:iam:test',
    operation: 'createOrder',
    customerId: 'c-1',
    idempotencyKey: key,
    input,
  });
  const stored = async (scope: string) =>
    (
      await db.client.send(
        new GetItemCommand({ TableName: TABLE, Key: marshall({ id: `${JOURNAL_PREFIX}${ownerOf(scope)}` }) }),
      )
    ).Item ?? {};

  it('a purchase of a few lines: cart and command stored as JSON strings, read back as they came', async () => {
    const input = { lineItems: [{ offerId: 'x', quantity: 1, note: null }], z: 1, a: 2 };
    const mine = command('k-short', input);
    const scope = scopeOf(mine);
    const cart = {
      id: 'cart-1',
      lineItems: [{ id: 0, catalogItemId: 'A', quantity: 1, extra: null }],
      status: 'Active',
    };
    const journal = dynamoDBJournal(options(), scope, mine);
    await journal.read();
    expect(await journal.recordCartSending(cart, 'r-1', 1)).toEqual(cart);
    const item = await stored(scope);
    expect(item.cart?.S).toBe(JSON.stringify(cart));
    expect(item.command?.S).toBeDefined();
    expect(item.command?.B).toBeUndefined();
    const again = await dynamoDBJournal(options(), scope, mine).read();
    expect(again.cart).toEqual(cart);
    expect(again.command?.input).toEqual(input);
    expect(Object.keys(again.command?.input as object)).toEqual(['lineItems', 'z', 'a']);
  });

  it('a long cart and command (past PLAIN_JSON_MAX_LENGTH) are gzipped, and read back alike', async () => {
    const lineItems = Array.from({ length: 200 }, (_, i) => ({ offerId: `offer-${i}`, quantity: i + 1, note: null }));
    expect(JSON.stringify(lineItems).length).toBeGreaterThan(PLAIN_JSON_MAX_LENGTH);
    const mine = command('k-long', { lineItems });
    const scope = scopeOf(mine);
    const cart = { id: 'cart-2', lineItems };
    const journal = dynamoDBJournal(options(), scope, mine);
    await journal.read();
    await journal.recordCart(cart);
    const item = await stored(scope);
    expect(item.cart?.B).toBeInstanceOf(Uint8Array);
    expect(item.command?.B).toBeInstanceOf(Uint8Array);
    const again = await dynamoDBJournal(options(), scope, mine).read();
    expect(again.cart).toEqual(cart);
    expect(again.command?.input).toEqual({ lineItems });
  });

  it('a journal written before this change (both gzipped) is read, keeps its cart, and refuses another request', async () => {
    const input = { lineItems: [{ offerId: 'x', quantity: 1 }] };
    const old = command('k-old', input);
    const scope = scopeOf(old);
    const inputDigest = createHash('sha256').update(canonical(input)).digest('hex');
    const cart = { id: 'cart-old', lineItems: [{ id: 0, quantity: 1 }] };
    await db.client.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: marshall({
          id: `${JOURNAL_PREFIX}${ownerOf(scope)}`,
          expiration: Math.floor(Date.now() / 1000) + 3600,
          cart: gzipSync(JSON.stringify(cart)),
          cartId: cart.id,
          command: gzipSync(JSON.stringify({ ...old, inputDigest })),
          placed: 'maybe',
          requestIds: new Set(['r-old']),
        }),
      }),
    );
    const journal = dynamoDBJournal(options(), scope, old);
    const entry = await journal.read();
    expect(entry.cart).toEqual(cart);
    expect(entry.command).toEqual({ ...old, inputDigest });
    expect(entry.placed).toBe('maybe');
    // The cart on record is the one checked out: a cart created beside it is not recorded.
    expect(await journal.recordCart({ id: 'cart-new' })).toEqual(cart);
    // The same key with another body: refused by the digest the old journal recorded.
    const other = command('k-old', { lineItems: [{ offerId: 'x', quantity: 2 }] });
    await expect(dynamoDBJournal(options(), scopeOf(other), other).read()).rejects.toBeInstanceOf(
      IdempotencyConflictError,
    );
  });

  it('each write answers the item anew: a cart another request put on record meanwhile is the one returned', async () => {
    const mine = command('k-two', { lineItems: [{ offerId: 'x', quantity: 1 }] });
    const scope = scopeOf(mine);
    const first = dynamoDBJournal(options(), scope, mine);
    await first.read();
    expect(await first.recordCart({ id: 'cart-a' })).toEqual({ id: 'cart-a' });
    await first.refused();
    // Another request with the same key: cart-a is gone, nothing was placed, so it puts cart-b on record.
    const second = dynamoDBJournal(options(), scope, mine);
    await second.read();
    expect(await second.replaceCart({ id: 'cart-a' }, { id: 'cart-b', status: 'Active' })).toEqual({
      id: 'cart-b',
      status: 'Active',
    });
    // The first journal's next write reads back cart-b, not the cart-a it decoded before.
    expect(await first.recordCart({ id: 'cart-c' })).toEqual({ id: 'cart-b', status: 'Active' });
  });
});
