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
import { stackPropsFromContext } from '../../infra/context.js';
import { eventPathSizing, SECONDS_PER_THROTTLED_REQUEST, TARGET_UTILISATION } from '../../infra/event-path.js';
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
  }, 120_000); // four syntheses: over a minute on a busy machine

  it("sizes the event source mapping from Partner Center's limit less the tracking budget: 20 records at once, one per batch", () => {
    // (500 − 100 tracking) / 60 × 3.3 s held per throttled request × 90 % = 19.8.
    expect(eventPathSizing({ reservedPerMinute: 100 })).toEqual({
      purchaseRequestsPerMinute: 400,
      batchSize: 1,
      recordsPerBatch: 1,
      maxConcurrency: Math.round((400 / 60) * SECONDS_PER_THROTTLED_REQUEST * TARGET_UTILISATION),
      recordsInFlight: 20,
    });
    const mapping = (template: ReturnType<typeof synth>['template']) =>
      Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))
        .map((m) => m.Properties)
        .find((p) => JSON.stringify(p.EventSourceArn).includes('Commands'));
    const consumerEnv = (template: ReturnType<typeof synth>['template']) =>
      Object.values(template.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment?.Variables ?? {})
        .find((v) => 'EVENT_BUS_NAME' in v && 'EVENT_CONCURRENCY' in v);
    const plain = synth().template;
    expect(mapping(plain)).toMatchObject({ BatchSize: 1, ScalingConfig: { MaximumConcurrency: 20 } });
    expect(consumerEnv(plain)?.EVENT_CONCURRENCY).toBe('1');
    // A tenant that shares its limit with other tools, and a smaller tracking budget.
    const shared = synth({ partnerCenterRequestsPerMinute: 300, afterPurchase: { pollBudgetPerMinute: 50 } }).template;
    expect(mapping(shared)).toMatchObject({
      ScalingConfig: { MaximumConcurrency: Math.round((250 / 60) * 3.3 * 0.9) },
    });
    expect(mapping(synth({ eventMaxConcurrency: 40 }).template)).toMatchObject({
      ScalingConfig: { MaximumConcurrency: 40 },
    });
    expect(() => synth({ eventMaxConcurrency: 1 })).toThrow(
      /maximum concurrency must be a whole number from 2 to 1000/,
    );
    expect(() => synth({ partnerCenterRequestsPerMinute: 100 })).toThrow(/left for purchases must be > 0/);
  });

  it('takes the limit and the concurrency as deploy options', () => {
    const props = stackPropsFromContext(
      (key) => ({ partnerCenterRequestsPerMinute: '300', eventMaxConcurrency: '12' })[key as string],
    );
    expect(props).toMatchObject({ partnerCenterRequestsPerMinute: 300, eventMaxConcurrency: 12 });
    expect(() => stackPropsFromContext((key) => (key === 'eventMaxConcurrency' ? 'many' : undefined))).toThrow(
      /eventMaxConcurrency must be a positive number/,
    );
  });
});
