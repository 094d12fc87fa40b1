// The tracking delay queue without AWS: messages kept in memory with the time they become visible, handed out as SQS
// records once due. The tests drive it by hand (`due`, with their own clock); `npm start` delivers due messages to the
// tracker every second (`deliverEvery`), publishing into the log.
import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { TrackingMessage, TrackingQueue } from '../functions/shared/lifecycle/tracking.js';
import { isRefundWarning, type RefundWarningMessage } from '../functions/shared/subscriptions/warnings.js';
import { sqsRecord } from './event-records.js';

export interface QueuedMessage {
  id: string;
  message: TrackingMessage;
  delaySeconds: number;
  /** Epoch ms (the queue's clock) when it becomes visible. */
  visibleAt: number;
}

export class MemoryTrackingQueue implements TrackingQueue {
  /** Every message sent and not yet handed out, in sending order. */
  readonly waiting: QueuedMessage[] = [];
  /** Every message ever sent (for assertions on delays). */
  readonly sent: QueuedMessage[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Refund window warnings on their way (subscriptions/warnings.ts), kept apart from the polls. */
  readonly warnings: (Omit<QueuedMessage, 'message'> & { message: RefundWarningMessage })[] = [];
  readonly sentWarnings: (Omit<QueuedMessage, 'message'> & { message: RefundWarningMessage })[] = [];

  async send(message: TrackingMessage | RefundWarningMessage, delaySeconds: number): Promise<void> {
    const at = { id: randomUUID(), delaySeconds, visibleAt: this.now() + delaySeconds * 1000 };
    if (isRefundWarning(message)) {
      const queued = { ...at, message: message as RefundWarningMessage };
      this.warnings.push(queued);
      this.sentWarnings.push(queued);
      return;
    }
    const queued = { ...at, message: message as TrackingMessage };
    this.waiting.push(queued);
    this.sent.push(queued);
  }

  /** Takes the messages visible at `at` off the queue, as the SQS records a delivery would carry. */
  due(at = this.now()): SQSRecord[] {
    const take = <T extends { visibleAt: number; id: string; message: unknown }>(list: T[]) => {
      const ready = list.filter((queued) => queued.visibleAt <= at);
      for (const queued of ready) list.splice(list.indexOf(queued), 1);
      return ready.map((queued) => sqsRecord(queued.message, queued.id));
    };
    return [...take(this.waiting), ...take(this.warnings)];
  }
}

/** Hands due messages to `deliver` every `everyMs`, ten at a time as SQS would; returns a stop function. */
export function deliverEvery(
  queue: MemoryTrackingQueue,
  deliver: (records: SQSRecord[]) => Promise<unknown>,
  everyMs = 1_000,
): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    const records = queue.due();
    if (records.length === 0) return;
    busy = true;
    const batches: SQSRecord[][] = [];
    for (let i = 0; i < records.length; i += 10) batches.push(records.slice(i, i + 10));
    void Promise.all(batches.map((batch) => deliver(batch).catch(() => undefined))).finally(() => {
      busy = false;
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
