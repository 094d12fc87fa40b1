// A real DynamoDB API on loopback (dynalite, in-process) for the idempotency table, so `npm start` and the tests run
// Powertools' DynamoDB persistence layer itself rather than a stand-in.
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { UNRESOLVED_INDEX } from '../functions/shared/exactly-once/records.js';
import { IDEMPOTENCY_CLIENT_CONFIG } from '../functions/shared/idempotency.js';

export const LOCAL_IDEMPOTENCY_TABLE = 'partner-orders-idempotency';

export interface LocalDynamoDB {
  endpoint: string;
  client: DynamoDBClient;
  stop(): Promise<void>;
}

/** Fake credentials: dynalite checks none, but the SDK signs every request. */
const LOCAL_CLIENT = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

/** `path`: a folder to keep the tables in (LevelDB), so they survive a restart; in memory without it. */
export async function startDynamoDB(port = 0, path?: string): Promise<LocalDynamoDB> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The production client settings (retries, timeouts): with a single attempt, a keep-alive connection the server
  // closed just as it was reused failed the request with a 503 now and then (seen in the reliability suites).
  const client = new DynamoDBClient({ ...IDEMPOTENCY_CLIENT_CONFIG, ...LOCAL_CLIENT, endpoint });
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The table as the stack creates it: partition key `id`, on-demand, and the sparse index of purchases whose outcome is
 * unknown (records.ts UNRESOLVED_INDEX; TTL on `expiration` is set in AWS only).
 */
export async function createIdempotencyTable(
  client: DynamoDBClient,
  tableName = LOCAL_IDEMPOTENCY_TABLE,
): Promise<void> {
  const create = client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: UNRESOLVED_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: UNRESOLVED_INDEX.sortKey, AttributeType: 'N' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: UNRESOLVED_INDEX.name,
          KeySchema: [
            { AttributeName: UNRESOLVED_INDEX.partitionKey, KeyType: 'HASH' },
            { AttributeName: UNRESOLVED_INDEX.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  try {
    await create;
  } catch (error) {
    // Kept from an earlier run (startDynamoDB's `path`): the table is there, with its records.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
