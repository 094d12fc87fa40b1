// Event batch: a batch of 10 SQS command records through the order-events handler vs a batch of one, with the
// Partner Center simulator answering after 50 ms. Records run concurrently, at most DEFAULT_EVENT_CONCURRENCY (10) at
// once, so the ideal is one upstream latency for both; what is left is the per-record work of our code and of the
// idempotency store. Three stores, each labelled:
//   dynalite, in-process  Powertools' DynamoDB persistence layer against dynalite in this process, as `npm start` and
//              the tests run it: dynalite (a DynamoDB written in JS) parses, validates and stores on the handler's own
//              thread, so 20 calls per batch serialise here; a real DynamoDB does that work elsewhere while we wait
//   dynalite, own process  the same persistence layer (our thread still pays the AWS SDK client and Powertools), with
//              dynalite in a child process, as DynamoDB is another service
//   in-memory  a stand-in implementing our IdempotencyStore interface with a Map (same replay, in-progress and
//              mismatch rules), to show the cost of our own code alone
//
// `tsx bench/batch.ts` runs this part alone.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createHandler, DEFAULT_EVENT_CONCURRENCY } from '../functions/order-events/handler.js';
import { IdempotencyConflictError } from '../functions/shared/errors.js';
import type { EventDependencies, OutcomeEvent } from '../functions/shared/events.js';
import type { Journal, JournalEntry } from '../functions/shared/exactly-once/records.js';
import { dynamoDBIdempotency, type IdempotencyStore, type Outcome } from '../functions/shared/idempotency.js';
import { eventBridgeEvent, localQueueProvenance, sqsRecord } from '../local/event-records.js';
import { startStack } from '../test/support/stack.js';
import { median, round } from './stats.js';

const CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';
const lineItems = [{ offerId: 'CFQ7TTC0LH18:0001:CFQ7TTC0K59S', quantity: 1 }];
export const GOAL = { ratio: 2 };

/** Our IdempotencyStore contract on a Map: first final outcome replayed, same key in flight refused, mismatch refused. */
export function memoryIdempotency(): IdempotencyStore {
  const records = new Map<string, { fingerprint: string; outcome?: Outcome }>();
  const journals = new Map<string, JournalEntry>();
  return {
    async run(call, work) {
      const fingerprint = JSON.stringify(call.fingerprint);
      const existing = records.get(call.scope);
      if (existing) {
        if (existing.fingerprint !== fingerprint) throw new IdempotencyConflictError('mismatch');
        if (!existing.outcome) throw new IdempotencyConflictError('in-progress');
        return { ...existing.outcome, replayed: true };
      }
      const record: { fingerprint: string; outcome?: Outcome } = { fingerprint };
      records.set(call.scope, record);
      try {
        record.outcome = await work();
        return { ...record.outcome, replayed: false };
      } catch (error) {
        records.delete(call.scope);
        throw error;
      }
    },
    async peek(call) {
      const existing = records.get(call.scope);
      if (!existing) return { idempotency: 'new' };
      if (existing.fingerprint !== JSON.stringify(call.fingerprint)) return { idempotency: 'mismatch' };
      return existing.outcome
        ? { idempotency: 'replay', status: existing.outcome.status }
        : { idempotency: 'in-progress' };
    },
    journal: (scope) => memoryJournal(journals, scope),
  };
}

/** The journal of one key on a Map, with the DynamoDB journal's rules (exactly-once/records.ts). */
function memoryJournal(journals: Map<string, JournalEntry>, scope: string): Journal {
  const entry = () => journals.get(scope) ?? {};
  const write = (fields: JournalEntry) => {
    journals.set(scope, { ...entry(), ...fields });
  };
  const sending = (requestId: string, at: number) =>
    write({
      firstSentAt: entry().firstSentAt ?? at,
      lastSentAt: at,
      placed: 'maybe',
      requestIds: [...new Set([...(entry().requestIds ?? []), requestId])],
      unresolved: true,
    });
  return {
    read: async () => entry(),
    recordCart: async (cart) => {
      write({ cart: entry().cart ?? cart });
      return entry().cart ?? cart;
    },
    recordCartSending: async (cart, requestId, at) => {
      write({ cart: entry().cart ?? cart });
      sending(requestId, at);
      return entry().cart ?? cart;
    },
    sending: async (requestId, at) => sending(requestId, at),
    replaceCart: async (replaced, cart) => {
      if (entry().cart?.id === replaced.id && entry().placed === 'no') write({ cart });
      return entry().cart ?? cart;
    },
    refused: async () => write({ placed: 'no', unresolved: false }),
    settled: async () => write({ unresolved: false }),
  };
}

/** dynalite in a child process (bench/dynalite-server.ts) and a client for it. */
export async function dynaliteProcess(): Promise<{
  client: DynamoDBClient;
  endpoint: string;
  stop: () => Promise<void>;
}> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./dynalite-server.ts', import.meta.url).pathname],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  let endpoint: string;
  try {
    endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('dynalite did not start within 30 s')), 30_000);
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const url = /dynalite listening on (\S+)/.exec(out)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      child.once('exit', (code) => reject(new Error(`dynalite exited (${code})`)));
    });
  } catch (error) {
    process.off('exit', orphan);
    child.kill('SIGKILL');
    throw error;
  }
  child.stdout?.resume();
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    client,
    endpoint,
    stop: async () => {
      process.off('exit', orphan);
      client.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface BatchRow {
  store: 'dynalite, in-process' | 'dynalite, own process' | 'in-memory';
  rounds: number;
  oneMs: number;
  tenMs: number;
  ratio: number;
  met: boolean;
}

export interface BatchResult {
  concurrency: number;
  upstreamLatencyMs: number;
  rows: BatchRow[];
  /** "Could not determine remaining time left" warnings from Powertools during the run (one per keyed record). */
  powertoolsWarnings: number;
}

// Each command its own key (events must name one) and Allow-Duplicate (the same lines, bought again on purpose).
const record = () =>
  sqsRecord(
    eventBridgeEvent(
      'CreateOrder',
      { customerId: CUSTOMER, lineItems, idempotencyKey: randomUUID(), allowDuplicate: true },
      { source: 'bench' },
    ),
  );

const context = () =>
  ({ functionName: 'order-events', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 60_000 }) as never;

export async function measureBatch(options: { rounds?: number; latencyMs?: number } = {}): Promise<BatchResult> {
  const rounds = options.rounds ?? 9;
  const latencyMs = options.latencyMs ?? 50;
  const stack = await startStack({ idempotency: {}, simulator: { latencyMs } });
  const remote = await dynaliteProcess();
  // Powertools warns on stderr for every record whose call registers no Lambda context (the event path passes none);
  // counted here rather than printed into the table.
  const warn = console.warn;
  let warnings = 0;
  console.warn = () => {
    warnings++;
  };
  try {
    const rows: BatchRow[] = [];
    const stores: [BatchRow['store'], IdempotencyStore | undefined][] = [
      ['dynalite, in-process', stack.deps.idempotency],
      [
        'dynalite, own process',
        dynamoDBIdempotency({ tableName: 'idempotency', expiresAfterSeconds: 86_400, client: remote.client }),
      ],
      ['in-memory', memoryIdempotency()],
    ];
    for (const [name, idempotency] of stores) {
      if (!idempotency) throw new Error('the stack has no idempotency store');
      const handler = createHandler({
        ...stack.deps,
        idempotency,
        // Every record must buy: a rejected command is acknowledged at once and would be timed as a fast one.
        publish: async (events: OutcomeEvent[]) => {
          for (const event of events) {
            if (event.detailType !== 'OrderCreated') throw new Error(`batch bench (${name}): ${event.detailType}`);
          }
        },
        proveOrigin: localQueueProvenance,
        delay: async () => undefined,
      } as EventDependencies);
      const time = async (size: number) => {
        const started = performance.now();
        const response = await handler({ Records: Array.from({ length: size }, record) }, context());
        if (response.batchItemFailures.length > 0) throw new Error(`batch bench (${name}): a record failed`);
        return performance.now() - started;
      };
      await time(10); // warm: token, connections, JIT
      await time(1);
      const one: number[] = [];
      const ten: number[] = [];
      for (let i = 0; i < rounds; i++) {
        one.push(await time(1));
        ten.push(await time(10));
      }
      const oneMs = median(one);
      const tenMs = median(ten);
      rows.push({
        store: name,
        rounds,
        oneMs: round(oneMs, 1),
        tenMs: round(tenMs, 1),
        ratio: round(tenMs / oneMs),
        met: tenMs / oneMs <= GOAL.ratio,
      });
      stack.simulator.reset();
    }
    return { concurrency: DEFAULT_EVENT_CONCURRENCY, upstreamLatencyMs: latencyMs, rows, powertoolsWarnings: warnings };
  } finally {
    console.warn = warn;
    await remote.stop();
    await stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureBatch(), null, 2));
}
