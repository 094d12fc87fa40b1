// Quotes on the idempotency table (item `partner-orders#mcp-quote#<id>`), for the Streamable HTTP server: each
// invocation is a new process as far as a quote is concerned, so a quote made by one must be placeable by the next.
// An unplaced quote's item expires (DynamoDB TTL) an hour after the quote does; a placed one lives as long as the
// purchase's idempotency record, so a retry with the same quote replays for as long as the key does.
import { type DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { storeCall as call } from '../errors.js';
import type { Quote, QuoteStore } from './quotes.js';

const PREFIX = 'partner-orders#mcp-quote#';
const UNPLACED_GRACE_SECONDS = 3600;

export function dynamoDBQuotes(options: {
  tableName: string;
  client: DynamoDBClient;
  /** The idempotency records' lifetime (IDEMPOTENCY_TTL_SECONDS): how long a placed quote is kept. */
  placedTtlSeconds: number;
  now?: () => number;
}): QuoteStore {
  const { tableName, client } = options;
  const now = options.now ?? Date.now;
  return {
    async save(quote) {
      await call(() =>
        client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall({
              id: `${PREFIX}${quote.id}`,
              principal: quote.principal,
              kind: quote.kind,
              hash: quote.hash,
              expiresAt: quote.expiresAt,
              placed: false,
              expiration: Math.floor(quote.expiresAt / 1000) + UNPLACED_GRACE_SECONDS,
            }),
            // A quote id is a fresh UUID: never write over another quote.
            ConditionExpression: 'attribute_not_exists(id)',
          }),
        ),
      );
    },
    async get(id) {
      const { Item } = await call(() =>
        client.send(
          new GetItemCommand({ TableName: tableName, Key: marshall({ id: `${PREFIX}${id}` }), ConsistentRead: true }),
        ),
      );
      if (!Item) return undefined;
      const item = unmarshall(Item) as Omit<Quote, 'id'>;
      return {
        id,
        principal: item.principal,
        kind: item.kind,
        hash: item.hash,
        expiresAt: item.expiresAt,
        placed: item.placed === true,
      };
    },
    async markPlaced(id) {
      await call(() =>
        client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall({ id: `${PREFIX}${id}` }),
            UpdateExpression: 'SET placed = :placed, expiration = :expiration',
            ConditionExpression: 'attribute_exists(id)',
            ExpressionAttributeValues: marshall({
              ':placed': true,
              ':expiration': Math.floor(now() / 1000) + options.placedTtlSeconds,
            }),
          }),
        ),
      );
    },
  };
}
