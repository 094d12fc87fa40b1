// SQS and the Lambda event source mapping, simulated for `npm run bench:bulk` and the throttling tests: a standard
// queue with a visibility timeout, receive counts, a redrive policy (maxReceiveCount → DLQ), ChangeMessageVisibility
// and DeleteMessage by receipt handle, occasional duplicate deliveries; and an event source mapping of at most
// `maxConcurrency` batches at once, each poller its own handler instance (a Lambda execution environment), batches of
// at most `batchSize`, failures reported per record (ReportBatchItemFailures). Time is a `Clock`: scaled real time
// for the benchmark, real time with skips for tests that wait out hours.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ForeignRecordError } from '../functions/shared/events.js';

export interface Clock {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Waits `ms` of simulated time. */
  sleep(ms: number): Promise<void>;
}

/** Simulated time running `scale` times faster than real time. */
export class ScaledClock implements Clock {
  private readonly origin = Date.now();
  constructor(readonly scale: number) {
    if (!(scale > 0)) throw new RangeError('the time scale must be > 0');
  }
  now(): number {
    return this.origin + (Date.now() - this.origin) * this.scale;
  }
  sleep(ms: number): Promise<void> {
    return ms > 0 ? sleep(ms / this.scale) : Promise.resolve();
  }
}

/**
 * Real time, except that a wait passes at once (the clock jumps): for one consumer waiting out hours of backoff in a
 * test. With several consumers a jump would also pass under the others' running work, so use it with one.
 */
export class SkippingClock implements Clock {
  private skipped = 0;
  now(): number {
    return Date.now() + this.skipped;
  }
  async sleep(ms: number): Promise<void> {
    if (ms > 0) this.skipped += ms;
    await Promise.resolve();
  }
}

export interface QueueOptions {
  clock: Clock;
  /** The queue's visibility timeout (the stack's: 6 × the consumer's timeout). */
  visibilityTimeoutSeconds: number;
  /** The redrive policy: a message received more often than this goes to the DLQ instead. */
  maxReceiveCount: number;
  /** Share of receives that are delivered a second time to another consumer (SQS standard: at least once). */
  duplicateDeliveries?: number;
  random?: () => number;
  queueArn?: string;
}

interface Message {
  id: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  /** The receipt handle of the latest receive (ChangeMessageVisibility acts on it). */
  receipt?: string;
  receipts: Set<string>;
  firstReceivedAt?: number;
  /** A duplicate delivery of the latest receive is owed to the next poller. */
  duplicateOwed: boolean;
}

export interface QueueCounts {
  sent: number;
  receives: number;
  duplicateDeliveries: number;
  deleted: number;
  visibilityChanges: number;
  deadLettered: number;
}

export class SimulatedQueue {
  private readonly messages = new Map<string, Message>();
  private readonly byReceipt = new Map<string, Message>();
  readonly deadLetters: { id: string; body: string; receiveCount: number; at: number }[] = [];
  readonly counts: QueueCounts = {
    sent: 0,
    receives: 0,
    duplicateDeliveries: 0,
    deleted: 0,
    visibilityChanges: 0,
    deadLettered: 0,
  };
  readonly arn: string;
  private readonly random: () => number;

  constructor(private readonly options: QueueOptions) {
    this.arn = options.queueArn ?? 'arn:aws:sqs:local:000000000000:partner-orders-commands';
    this.random = options.random ?? Math.random;
  }

  get clock(): Clock {
    return this.options.clock;
  }

  send(body: string, id: string = randomUUID()): string {
    const now = this.clock.now();
    this.messages.set(id, {
      id,
      body,
      sentAt: now,
      receiveCount: 0,
      visibleAt: now,
      receipts: new Set(),
      duplicateOwed: false,
    });
    this.counts.sent++;
    return id;
  }

  /** Messages not yet deleted nor dead-lettered. */
  get pending(): number {
    return this.messages.size;
  }

  /** When the next invisible message becomes visible (undefined when none is waiting). */
  nextVisibleAt(): number | undefined {
    let next: number | undefined;
    for (const m of this.messages.values()) if (next === undefined || m.visibleAt < next) next = m.visibleAt;
    return next;
  }

  /** ReceiveMessage: up to `max` visible messages, oldest first; each receive counts, past the limit → DLQ. */
  receive(max: number): SQSRecord[] {
    const now = this.clock.now();
    const records: SQSRecord[] = [];
    for (const m of this.messages.values()) {
      if (records.length >= max) break;
      if (m.duplicateOwed) {
        // The same receive delivered a second time (SQS standard queues deliver at least once).
        m.duplicateOwed = false;
        this.counts.duplicateDeliveries++;
        records.push(this.record(m, this.newReceipt(m), now));
        continue;
      }
      if (m.visibleAt > now) continue;
      if (m.receiveCount >= this.options.maxReceiveCount) {
        this.messages.delete(m.id);
        for (const r of m.receipts) this.byReceipt.delete(r);
        this.deadLetters.push({ id: m.id, body: m.body, receiveCount: m.receiveCount, at: now });
        this.counts.deadLettered++;
        continue;
      }
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + this.options.visibilityTimeoutSeconds * 1000;
      m.receipt = this.newReceipt(m);
      this.counts.receives++;
      if ((this.options.duplicateDeliveries ?? 0) > 0 && this.random() < (this.options.duplicateDeliveries ?? 0)) {
        m.duplicateOwed = true;
      }
      records.push(this.record(m, m.receipt, now));
    }
    return records;
  }

  /**
   * The consumer's provenance check (events.ts `proveOrigin`): SQS accepts ChangeMessageVisibility only for a receipt
   * handle of a message of this queue that is in flight. Its visibility is left as the receive set it.
   */
  async proveOrigin(record: SQSRecord): Promise<void> {
    if (record.eventSourceARN !== this.arn) throw new ForeignRecordError('its eventSourceARN is not the command queue');
    if (!this.byReceipt.has(record.receiptHandle)) {
      throw new ForeignRecordError('SQS refused its receipt handle (ReceiptHandleIsInvalid)');
    }
  }

  /** ChangeMessageVisibility with a receipt handle: from now, for `seconds` (SQS: at most 12 hours). */
  changeVisibility(receiptHandle: string, seconds: number): void {
    const m = this.byReceipt.get(receiptHandle);
    if (!m) return; // deleted or dead-lettered meanwhile
    if (!(seconds >= 0 && seconds <= 43_200)) throw new RangeError(`VisibilityTimeout out of range: ${seconds}`);
    m.visibleAt = this.clock.now() + seconds * 1000;
    this.counts.visibilityChanges++;
  }

  /** DeleteMessage: any receipt handle of the message deletes it (a stale one too, as SQS usually does). */
  delete(receiptHandle: string): void {
    const m = this.byReceipt.get(receiptHandle);
    if (!m) return;
    this.messages.delete(m.id);
    for (const r of m.receipts) this.byReceipt.delete(r);
    this.counts.deleted++;
  }

  private newReceipt(m: Message): string {
    const receipt = `${m.id}#${randomUUID()}`;
    m.receipts.add(receipt);
    this.byReceipt.set(receipt, m);
    return receipt;
  }

  private record(m: Message, receiptHandle: string, now: number): SQSRecord {
    return {
      messageId: m.id,
      receiptHandle,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(Math.round(m.sentAt)),
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: String(Math.round(m.firstReceivedAt ?? now)),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: 'local',
    };
  }
}

export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface MappingOptions {
  batchSize: number;
  /** How long an idle poller waits before polling again (simulated ms); it wakes earlier for a message due sooner. */
  pollIntervalMs?: number;
  /** The function's timeout, handed to the handler as its remaining time (real ms: our own code runs in real time). */
  remainingMs?: number;
  /** Stop when this returns true (default: when the queue holds nothing). */
  done?: () => boolean;
  /** Called after every batch with what it took (simulated ms) and how many records failed. */
  onBatch?: (batch: { records: number; failed: number; ms: number; instance: number }) => void;
}

/**
 * The event source mapping with `handlers.length` as its maximum concurrency: each handler instance (a Lambda
 * execution environment, with its own token cache and connections) runs one batch at a time, as Lambda does.
 */
export async function runEventSourceMapping(
  queue: SimulatedQueue,
  handlers: readonly BatchHandler[],
  options: MappingOptions,
): Promise<void> {
  const clock = queue.clock;
  const done = options.done ?? (() => queue.pending === 0);
  const pollMs = options.pollIntervalMs ?? 1_000;
  const poller = async (handler: BatchHandler, instance: number) => {
    while (!done()) {
      const records = queue.receive(options.batchSize);
      if (records.length === 0) {
        const next = queue.nextVisibleAt();
        const wait = next === undefined ? pollMs : Math.min(pollMs, Math.max(1, next - clock.now()));
        await clock.sleep(wait);
        continue;
      }
      const started = clock.now();
      let failed: Set<string>;
      try {
        const response = await handler({ Records: records }, lambdaContext(instance, options.remainingMs ?? 60_000));
        failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      } catch {
        failed = new Set(records.map((r) => r.messageId)); // every record failed (or the invocation did)
      }
      for (const record of records) if (!failed.has(record.messageId)) queue.delete(record.receiptHandle);
      options.onBatch?.({ records: records.length, failed: failed.size, ms: clock.now() - started, instance });
    }
  };
  await Promise.all(handlers.map((handler, i) => poller(handler, i)));
}

function lambdaContext(instance: number, remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'order-events',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:order-events',
    memoryLimitInMB: '512',
    awsRequestId: `instance-${instance}-${randomUUID()}`,
    logGroupName: 'order-events',
    logStreamName: `instance-${instance}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
