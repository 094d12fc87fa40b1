// The SQS model behind `npm run bench:bulk` and the throttling tests: it must behave as SQS does where the figures
// depend on it (visibility timeout, receive counts, the redrive policy, ChangeMessageVisibility, deletes, duplicates,
// the event source mapping's concurrency and partial batch failures).
import { describe, expect, it } from 'vitest';
import {
  type BatchHandler,
  runEventSourceMapping,
  ScaledClock,
  SimulatedQueue,
  SkippingClock,
} from '../../bench/bulk-queue.js';

class ManualClock {
  t = 1_000_000;
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}

describe('SimulatedQueue', () => {
  it('hides a received message for the visibility timeout, counts receives, and dead-letters past maxReceiveCount', () => {
    const clock = new ManualClock();
    const queue = new SimulatedQueue({ clock, visibilityTimeoutSeconds: 30, maxReceiveCount: 2 });
    const id = queue.send('body');
    const [first] = queue.receive(10);
    expect(first).toMatchObject({ messageId: id, body: 'body', attributes: { ApproximateReceiveCount: '1' } });
    expect(queue.receive(10)).toEqual([]);
    expect(queue.nextVisibleAt()).toBe(clock.t + 30_000);
    clock.t += 30_000;
    const [second] = queue.receive(10);
    expect(second?.attributes.ApproximateReceiveCount).toBe('2');
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    clock.t += 30_000;
    expect(queue.receive(10)).toEqual([]); // a third receive would exceed 2: to the DLQ instead
    expect(queue.deadLetters).toEqual([expect.objectContaining({ id, receiveCount: 2 })]);
    expect(queue.pending).toBe(0);
  });

  it('ChangeMessageVisibility sets the time from now; DeleteMessage by any receipt handle removes it', () => {
    const clock = new ManualClock();
    const queue = new SimulatedQueue({ clock, visibilityTimeoutSeconds: 360, maxReceiveCount: 5 });
    queue.send('a');
    const [record] = queue.receive(1);
    queue.changeVisibility(record?.receiptHandle ?? '', 5);
    clock.t += 5_000;
    const [again] = queue.receive(1);
    expect(again?.attributes.ApproximateReceiveCount).toBe('2');
    expect(() => queue.changeVisibility(again?.receiptHandle ?? '', 43_201)).toThrow(RangeError);
    queue.delete(record?.receiptHandle ?? ''); // the stale handle
    expect(queue.pending).toBe(0);
    expect(queue.counts).toMatchObject({ sent: 1, receives: 2, deleted: 1, visibilityChanges: 1 });
  });

  it('batches oldest first, at most the batch size, and delivers a duplicate of a receive when told to', () => {
    const clock = new ManualClock();
    const queue = new SimulatedQueue({
      clock,
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: 5,
      duplicateDeliveries: 1,
      random: () => 0,
    });
    for (const body of ['1', '2', '3']) queue.send(body);
    expect(queue.receive(2).map((r) => r.body)).toEqual(['1', '2']);
    // Both were received once and each is owed a second delivery, while invisible.
    const next = queue.receive(10);
    expect(next.map((r) => r.body)).toEqual(['1', '2', '3']);
    expect(next.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '1', '1']);
    expect(queue.counts.duplicateDeliveries).toBe(2);
  });
});

describe('runEventSourceMapping', () => {
  it('runs at most maxConcurrency batches at once, deletes what succeeded and leaves the failures for later', async () => {
    // Scaled, not skipping: with several consumers a skip would pass under the batches still running.
    const clock = new ScaledClock(100);
    const queue = new SimulatedQueue({ clock, visibilityTimeoutSeconds: 10, maxReceiveCount: 3 });
    for (let i = 0; i < 12; i++) queue.send(String(i));
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    const handler: BatchHandler = async (event) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      seen.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      // Message 5 fails every time; message 7 fails once.
      const failures = event.Records.filter(
        (r) => r.body === '5' || (r.body === '7' && r.attributes.ApproximateReceiveCount === '1'),
      ).map((r) => ({ itemIdentifier: r.messageId }));
      return { batchItemFailures: failures };
    };
    await runEventSourceMapping(queue, [handler, handler, handler], { batchSize: 2 });
    expect(most).toBe(3);
    expect(seen.filter((s) => s.startsWith('5#'))).toEqual(['5#1', '5#2', '5#3']);
    expect(seen.filter((s) => s.startsWith('7#'))).toEqual(['7#1', '7#2']);
    expect(queue.deadLetters.map((m) => m.body)).toEqual(['5']);
    expect(queue.counts.deleted).toBe(11);
  });

  it('a handler that throws fails its whole batch', async () => {
    const clock = new SkippingClock();
    const queue = new SimulatedQueue({ clock, visibilityTimeoutSeconds: 60, maxReceiveCount: 1 });
    queue.send('x');
    queue.send('y');
    await runEventSourceMapping(
      queue,
      [
        async () => {
          throw new Error('All records failed');
        },
      ],
      { batchSize: 10 },
    );
    expect(queue.deadLetters.map((m) => m.body).sort()).toEqual(['x', 'y']);
  });

  it('ScaledClock runs simulated time faster by its factor', async () => {
    const clock = new ScaledClock(50);
    const before = clock.now();
    const real = performance.now();
    await clock.sleep(1_000);
    expect(performance.now() - real).toBeLessThan(1_000); // unscaled: 1 s at least (a timer never fires early)
    expect(clock.now() - before).toBeGreaterThanOrEqual(900);
  });
});
