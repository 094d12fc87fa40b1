// The event path's redrive policy and its backoff (issue 12, "Throttling on the event path"): with the stack's
// maxReceiveCount, a command throttled on every delivery is delivered for more than an hour before the DLQ takes it.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_RECEIVE_COUNT,
  MIN_MAX_RECEIVE_COUNT,
  REDELIVERY_BACKOFF,
  redeliveryDelaySeconds,
  THROTTLE_SURVIVAL_SECONDS,
  throttledSecondsBeforeLastDelivery,
} from '../../functions/shared/events.js';
import { synth } from '../support/infra.js';

const redrive = (template: ReturnType<typeof synth>['template']) => {
  const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
  return queues.find(([id]) => id.startsWith('Commands'))?.[1]?.Properties?.RedrivePolicy;
};

describe('event path: redrive policy and backoff', () => {
  it('backs off 2 s × 2^(receive − 1), at most 15 min, jitter only upwards, and a longer Retry-After wins', () => {
    const lowest = () => 0;
    const highest = () => 0.999_999;
    expect([1, 2, 3, 4, 9, 10, 11, 15].map((n) => redeliveryDelaySeconds(n, undefined, lowest))).toEqual([
      2, 4, 8, 16, 512, 900, 900, 900,
    ]);
    expect(redeliveryDelaySeconds(1, undefined, highest)).toBe(3); // 2 s + 20 %, rounded up
    expect(redeliveryDelaySeconds(12, undefined, highest)).toBe(1080);
    expect(redeliveryDelaySeconds(1, 57, lowest)).toBe(57);
    expect(redeliveryDelaySeconds(8, 57, lowest)).toBe(256);
    expect(redeliveryDelaySeconds(1, 100_000, lowest)).toBe(43_200); // SQS's 12-hour limit
    expect(redeliveryDelaySeconds(Number.NaN, undefined, lowest)).toBe(REDELIVERY_BACKOFF.baseSeconds);
  });

  it('derives the receives from the hour: 13 at least, 15 by default, and the sum of delays before the last delivery passes an hour', () => {
    expect(throttledSecondsBeforeLastDelivery(MIN_MAX_RECEIVE_COUNT)).toBeGreaterThanOrEqual(THROTTLE_SURVIVAL_SECONDS);
    expect(throttledSecondsBeforeLastDelivery(MIN_MAX_RECEIVE_COUNT - 1)).toBeLessThan(THROTTLE_SURVIVAL_SECONDS);
    expect(MIN_MAX_RECEIVE_COUNT).toBe(13);
    expect(DEFAULT_MAX_RECEIVE_COUNT).toBe(15);
    // 2+4+…+512 (1022 s) + 900 s × 5 = 5522 s: 92 minutes before the 15th and last delivery.
    expect(throttledSecondsBeforeLastDelivery(DEFAULT_MAX_RECEIVE_COUNT)).toBe(5522);
    // The old policy: 5 receives, and 2+4+8+16 = 30 s.
    expect(throttledSecondsBeforeLastDelivery(5)).toBe(30);
  });

  it('deploys the command queue with that maxReceiveCount, accepts more, and refuses fewer than an hour needs', () => {
    expect(redrive(synth().template)).toMatchObject({ maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT });
    expect(redrive(synth({ maxReceiveCount: 20 }).template)).toMatchObject({ maxReceiveCount: 20 });
    expect(() => synth({ maxReceiveCount: 5 })).toThrow(/maxReceiveCount must be a whole number from 13 to 1000/);
    expect(() => synth({ maxReceiveCount: 13.5 })).toThrow(/maxReceiveCount/);
  });
});
