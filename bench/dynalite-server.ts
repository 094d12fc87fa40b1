// dynalite in a process of its own, for the event-batch figures: DynamoDB is another service, so its request parsing,
// condition-expression parsing and storage must not run on the handler's thread (in-process, as `npm start` and the
// tests run it, dynalite costs ~2.5 ms of CPU per idempotency call on this thread). Run by bench/batch.ts with
// `node --import tsx bench/dynalite-server.ts`; prints "dynalite listening on URL" once the table exists.
import { createIdempotencyTable, startDynamoDB } from '../local/dynamodb.js';

const dynamodb = await startDynamoDB(0);
await createIdempotencyTable(dynamodb.client, process.env.TABLE_NAME ?? 'idempotency');
console.log(`dynalite listening on ${dynamodb.endpoint}`);
process.on('disconnect', () => process.exit(0));
process.once('SIGTERM', () => {
  void dynamodb.stop().then(() => process.exit(0));
});
