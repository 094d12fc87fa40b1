// Issue 22 (warm path): the exactly-once journal's writes per purchase, on dynalite with the real SDK. The key's
// pointer (records.ts) is written once per request, at the journal's first write of that request, and still outlives
// the journal however long the request runs (up to Lambda's 15 minutes); the journal's own writes are unchanged.
import { ScanCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dynamoDBJournal,
  JOURNAL_PREFIX,
  KEY_POINTER_PREFIX,
  LONGEST_REQUEST_SECONDS,
  type RecordedCommand,
  scopeOf,
} from '../../functions/shared/exactly-once/records.js';
import { createIdempotencyTable, type LocalDynamoDB, startDynamoDB } from '../../local/dynamodb.js';

const TABLE = 'journal-writes';

describe('journal writes of one keyed purchase', () => {
  let db: LocalDynamoDB;
  const updates: string[] = [];
  beforeAll(async () => {
    db = await startDynamoDB();
    await createIdempotencyTable(db.client, TABLE);
    db.client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as Partial<UpdateItemCommandInput>;
        const id = input.Key?.id?.S;
        if (input.UpdateExpression && id) updates.push(id.startsWith(KEY_POINTER_PREFIX) ? 'pointer' : 'journal');
        return next(args);
      },
      { step: 'initialize', name: 'countUpdates' },
    );
  });
  afterAll(() => db.stop());

  const command = (key: string): RecordedCommand => ({
    caller: 'http:iam:test',
    operation: 'createOrder',
    customerId: 'c-1',
    idempotencyKey: key,
    input: { lineItems: [{ offerId: 'x', quantity: 1 }] },
  });

  async function items(key: string) {
    const all = ((await db.client.send(new ScanCommand({ TableName: TABLE }))).Items ?? []).map(
      (item) => unmarshall(item) as { id: string; expiration: number; journals?: Set<string> },
    );
    const journal = all.filter((item) => item.id.startsWith(JOURNAL_PREFIX));
    const pointers = all.filter((item) => item.id.startsWith(KEY_POINTER_PREFIX));
    return { journal, pointers, key };
  }

  it('a purchase (cart, checkout sent, settled) writes its key’s pointer once, first, and the pointer outlives the journal', async () => {
    updates.splice(0);
    const key = 'k-once';
    let now = 1_800_000_000_000;
    const options = { tableName: TABLE, client: db.client, expiresAfterSeconds: 3600, now: () => now };
    const journal = dynamoDBJournal(options, scopeOf(command(key)), command(key));
    await journal.read();
    await journal.recordCart({ id: 'cart-1' });
    // The longest request Lambda runs: every write of it comes later than the pointer's.
    now += (LONGEST_REQUEST_SECONDS - 1) * 1000;
    await journal.sending('r-1', now);
    await journal.settled();
    // Before issue 22 every journal write renewed the pointer too: 3 pointer writes here.
    expect(updates).toEqual(['pointer', 'journal', 'journal', 'journal']);
    const { journal: written, pointers } = await items(key);
    const mine = written.find((item) => item.id.length > 0) as { expiration: number };
    expect(pointers).toHaveLength(1);
    expect(pointers[0]?.expiration).toBeGreaterThanOrEqual(mine.expiration);
  });

  it('the cart and "may be placed" in one write: both on record, in the unresolved index; a cart on record first is kept', async () => {
    updates.splice(0);
    const key = 'k-merged';
    const options = { tableName: TABLE, client: db.client, expiresAfterSeconds: 3600 };
    const journal = dynamoDBJournal(options, scopeOf(command(key)), command(key));
    await journal.read();
    // The pointer goes out ahead (beside the cart's creation: one-cart.ts); the journal's first write waits for it.
    const ahead = journal.pointKey?.();
    expect((await journal.recordCartSending({ id: 'cart-3' }, 'r-3', 1_000)).id).toBe('cart-3');
    await ahead;
    expect(updates).toEqual(['pointer', 'journal']);
    const fresh = dynamoDBJournal(options, scopeOf(command(key)), command(key));
    expect(await fresh.read()).toMatchObject({
      cart: { id: 'cart-3' },
      placed: 'maybe',
      firstSentAt: 1_000,
      lastSentAt: 1_000,
      requestIds: ['r-3'],
      unresolved: true,
    });
    // A request that created another cart meanwhile checks out the one on record, and its first send stays the first.
    expect((await fresh.recordCartSending({ id: 'cart-4' }, 'r-3', 2_000)).id).toBe('cart-3');
    expect(await fresh.read()).toMatchObject({ firstSentAt: 1_000, lastSentAt: 2_000 });
  });

  it('a later request with the same key renews the pointer once, beside its first journal write', async () => {
    const key = 'k-again';
    let now = 1_800_000_000_000;
    const options = { tableName: TABLE, client: db.client, expiresAfterSeconds: 3600, now: () => now };
    const first = dynamoDBJournal(options, scopeOf(command(key)), command(key));
    await first.read();
    await first.recordCart({ id: 'cart-2' });
    await first.sending('r-2', now);
    updates.splice(0);
    // A day later, a retry of the purchase whose answer was lost: its journal is on record with its command.
    now += 86_400_000;
    const retry = dynamoDBJournal(options, scopeOf(command(key)), command(key));
    expect((await retry.read()).placed).toBe('maybe');
    await retry.sending('r-2', now);
    await retry.settled();
    expect(updates.filter((u) => u === 'pointer')).toHaveLength(1);
    expect(updates.filter((u) => u === 'journal')).toHaveLength(2);
    const { pointers } = await items(key);
    const pointer = pointers.find((p) => p.expiration >= Math.floor(now / 1000) + 3600);
    expect(pointer).toBeDefined();
  });
});
