// The polling budget: how many Partner Center requests provisioning tracking and the reconciler may make per minute,
// together, across every container. Partner Center allows 500 requests per minute per tenant for orders (and as many
// for subscriptions); purchases and the read routes need their share, so the pollers take at most
// POLL_BUDGET_PER_MINUTE (100 by default) and wait for the next minute when it is spent — never idling in a Lambda:
// a poll without budget goes back on the delay queue (tracking) or to the next run (reconciler).
//
// One counter item per clock minute in the idempotency table (`partner-orders#poll-budget#<minute>`), taken with a
// conditional ADD: atomic across containers, one write per poll, gone a day later (TTL). Fixed windows let a burst
// straddle a minute's edge, so at most 2 × the budget land in any 60 s — with the default 200, still well inside 500.
import { ConditionalCheckFailedException, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { logger } from '../log.js';

export interface PollBudget {
  /** Takes `requests` from this minute's budget; false (and nothing taken) when they do not fit. */
  take(requests: number): Promise<boolean>;
}

export interface DynamoDBPollBudgetOptions {
  tableName: string;
  client: DynamoDBClient;
  perMinute: number;
  now?: () => number;
}

export function dynamoDBPollBudget(options: DynamoDBPollBudgetOptions): PollBudget {
  const now = options.now ?? Date.now;
  return {
    async take(requests) {
      const minute = Math.floor(now() / 60_000);
      try {
        await options.client.send(
          new UpdateItemCommand({
            TableName: options.tableName,
            Key: marshall({ id: `partner-orders#poll-budget#${minute}` }),
            UpdateExpression: 'SET #expiration = :expiration ADD #used :requests',
            ConditionExpression: 'attribute_not_exists(#used) OR #used <= :room',
            ExpressionAttributeNames: { '#used': 'used', '#expiration': 'expiration' },
            ExpressionAttributeValues: marshall({
              ':requests': requests,
              ':room': options.perMinute - requests,
              ':expiration': minute * 60 + 86_400,
            }),
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        // Fail closed: without the counter nothing says the budget is not spent, and polling can wait.
        logger.error('polling budget could not be read; no poll this time', { storeError: (error as Error)?.name });
        return false;
      }
    },
  };
}

/** Tracking polls: 2 requests (the order and its provisioning status), and 1 more once (its subscriptions). */
export const POLL_REQUESTS = 2;
export const FINAL_REQUESTS = 1;

/**
 * What following one order costs, for a poll schedule and a tracking window: the polls (the first after the first
 * delay, the last at the window's end), Partner Center requests in all (never provisioned: the worst case), and the
 * steady rate once polls are the last delay apart.
 */
export function pollingCost(delaysSeconds: readonly number[], windowMs: number) {
  let elapsed = 0;
  let polls = 0;
  for (let i = 0; elapsed < windowMs / 1000; i++) {
    elapsed = Math.min(windowMs / 1000, elapsed + (delaysSeconds[Math.min(i, delaysSeconds.length - 1)] ?? 900));
    polls++;
  }
  const last = delaysSeconds[delaysSeconds.length - 1] ?? 900;
  return {
    polls,
    requests: polls * POLL_REQUESTS + FINAL_REQUESTS,
    /** Partner Center requests per minute for one order polled every `last` seconds. */
    steadyRequestsPerMinute: (POLL_REQUESTS * 60) / last,
    /** Orders that can be followed at the steady rate within a budget of `perMinute` requests. */
    ordersWithin: (perMinute: number) => Math.floor(perMinute / ((POLL_REQUESTS * 60) / last)),
  };
}
