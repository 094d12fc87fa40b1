// The recent purchases, in the idempotency table (its own items, next to the Powertools records and journals):
//   id `partner-orders#recent#<customer>#<sha256 of the canonical lines>` → the latest purchase of those lines: its
//   key and caller, the orders it placed, when; `expiration` (the table's TTL) at the end of the window.
// Written once a purchase placed orders, read before one is sent. The latest purchase of the lines wins.
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

export interface RecentPurchase {
  idempotencyKey: string;
  caller: string;
  operation: string;
  orderIds: string[];
  /** Epoch ms the purchase was answered. */
  at: number;
}

export interface RecentPurchases {
  read(customerId: string, digest: string): Promise<RecentPurchase | undefined>;
  write(customerId: string, digest: string, purchase: RecentPurchase, expiresAt: number): Promise<void>;
}

export const recentId = (customerId: string, digest: string) =>
  `partner-orders#recent#${customerId.toLowerCase()}#${digest}`;

export function dynamoDBRecentPurchases(options: { client: DynamoDBClient; tableName: string }): RecentPurchases {
  const { client, tableName } = options;
  return {
    async read(customerId, digest) {
      const answer = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: marshall({ id: recentId(customerId, digest) }),
          ConsistentRead: true,
        }),
      );
      if (!answer.Item) return undefined;
      const item = unmarshall(answer.Item) as RecentPurchase & { id: string };
      return {
        idempotencyKey: item.idempotencyKey,
        caller: item.caller,
        operation: item.operation,
        orderIds: item.orderIds ?? [],
        at: item.at,
      };
    },
    async write(customerId, digest, purchase, expiresAt) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall({ id: recentId(customerId, digest), ...purchase, expiration: Math.ceil(expiresAt / 1000) }),
        }),
      );
    },
  };
}
