// The Streamable HTTP server's quotes on the idempotency table (functions/shared/mcp/dynamodb-quotes.ts), on dynalite:
// what any invocation reads back, how long DynamoDB keeps an unplaced and a placed quote, and the placing rules
// (quotes.ts whyNot) on what the table answers, with a fake clock.
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDBQuotes } from '../../functions/shared/mcp/dynamodb-quotes.js';
import { QUOTE_TTL_MS, requestHash, whyNot } from '../../functions/shared/mcp/quotes.js';
import { createIdempotencyTable, type LocalDynamoDB, startDynamoDB } from '../../local/dynamodb.js';

const TABLE = 'idempotency';
const PLACED_TTL_SECONDS = 29 * 24 * 3600;

describe('quotes on the idempotency table', () => {
  let dynamodb: LocalDynamoDB;
  let now = Date.UTC(2026, 11, 5, 6, 0, 0);

  beforeAll(async () => {
    dynamodb = await startDynamoDB();
    await createIdempotencyTable(dynamodb.client, TABLE);
  });
  afterAll(() => dynamodb?.stop());

  const item = async (id: string) => {
    const { Item } = await dynamodb.client.send(
      new GetItemCommand({ TableName: TABLE, Key: { id: { S: `partner-orders#mcp-quote#${id}` } } }),
    );
    return Item && unmarshall(Item);
  };

  it('is read back by another store on the same table, held to its principal, kind and request, and expires unless placed', async () => {
    const made = dynamoDBQuotes({
      tableName: TABLE,
      client: dynamodb.client,
      placedTtlSeconds: PLACED_TTL_SECONDS,
      now: () => now,
    });
    const elsewhere = dynamoDBQuotes({
      tableName: TABLE,
      client: dynamodb.client,
      placedTtlSeconds: PLACED_TTL_SECONDS,
      now: () => now,
    });
    const request = { kind: 'order', call: { route: 'POST /customers/{customerId}/orders', body: { lineItems: [] } } };
    const quote = {
      id: 'q-1',
      principal: 'http:arn:agent',
      kind: 'order' as const,
      hash: requestHash(request),
      expiresAt: now + QUOTE_TTL_MS,
    };
    await made.save(quote);
    await expect(made.save(quote)).rejects.toThrow();

    const read = await elsewhere.get('q-1');
    expect(read).toEqual({ ...quote, placed: false });
    // DynamoDB drops an unplaced quote an hour after it lapsed.
    expect((await item('q-1'))?.expiration).toBe(Math.floor(quote.expiresAt / 1000) + 3600);

    const expected = { id: 'q-1', principal: 'http:arn:agent', kind: 'order' as const, hash: quote.hash, now };
    expect(whyNot(read, expected, 'quote_order')).toBeUndefined();
    expect(whyNot(read, { ...expected, principal: 'http:arn:someone-else' }, 'quote_order')).toMatch(
      /call quote_order first/,
    );
    expect(whyNot(read, { ...expected, kind: 'cart' }, 'quote_cart')).toMatch(/call quote_cart first/);
    expect(whyNot(read, { ...expected, hash: requestHash({ ...request, kind: 'x' }) }, 'quote_order')).toMatch(
      /differs/,
    );
    expect(whyNot(read, { ...expected, now: now + QUOTE_TTL_MS + 1 }, 'quote_order')).toMatch(/older than 10 minutes/);
    expect(await elsewhere.get('no-such-quote')).toBeUndefined();

    // Placed: kept as long as the purchase's idempotency record, and placeable past its 10 minutes (retries replay).
    now += 60_000;
    await elsewhere.markPlaced('q-1');
    const placed = await made.get('q-1');
    expect(placed?.placed).toBe(true);
    expect((await item('q-1'))?.expiration).toBe(Math.floor(now / 1000) + PLACED_TTL_SECONDS);
    expect(whyNot(placed, { ...expected, now: now + QUOTE_TTL_MS * 10 }, 'quote_order')).toBeUndefined();
    await expect(made.markPlaced('never-made')).rejects.toThrow();
  });
});
