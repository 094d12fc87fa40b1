// The subscription operations as commands: the same perform() as purchases (commands.ts: idempotency key, dry run,
// replay), with their own guards — the policy's subscription actions, the clock and the reduction's record.
import type { Command, PerformOptions } from '../commands.js';
import { requestPrefixes } from '../policy/model.js';
import { judgeChange } from './policy.js';
import type { ScheduleRequest, SubscriptionCommandPayload } from './schemas.js';
import { runChange } from './service.js';

/** What a repeated key must match: the operation's own fields (the ids are in the key's scope or here). */
const inputOf = (payload: SubscriptionCommandPayload) => {
  const { operation: _operation, customerId: _customerId, ...input } = payload;
  return input;
};

export function subscriptionCommand(payload: SubscriptionCommandPayload): Command {
  const command: Command = {
    operation: payload.operation,
    customerId: payload.customerId,
    input: inputOf(payload),
    // Unguarded (never run so by perform): the defaults of the guard below.
    run: (ctx) => runChange(ctx, payload, { now: Date.now, paths: { ids: '/path', body: '/body' } }),
    guard: (options: PerformOptions, deps) => ({
      ...command,
      run: async (ctx) => {
        const paths = requestPrefixes(options.idempotencyKeyPath);
        // Events and invocations carry the schedule's fields under `changes`; HTTP in the body itself.
        const schedule = paths.body === '/body' ? paths.body : `${paths.body}/changes`;
        const authorization = await judgeChange(
          deps.policy.engine,
          payload,
          options,
          { ...paths, schedule },
          ctx.deadline,
        );
        const settings = deps.subscriptions ?? {};
        const result = await runChange(ctx, payload, {
          now: settings.now ?? Date.now,
          paths: { ids: paths.ids, body: payload.operation === 'scheduleRenewalChange' ? schedule : paths.body },
          ...(settings.intents ? { intents: settings.intents } : {}),
        });
        return ctx.dryRun ? { ...result, body: { ...(result.body as object), authorization } } : result;
      },
    }),
  };
  return command;
}

/** The HTTP routes' commands: path ids and body, as the flat payload. */
export const cancelCommand = (customerId: string, subscriptionId: string) =>
  subscriptionCommand({ operation: 'cancelSubscription', customerId, subscriptionId });
export const reduceCommand = (customerId: string, subscriptionId: string, body: { seatsToRemove: number }) =>
  subscriptionCommand({ operation: 'reduceSeats', customerId, subscriptionId, seatsToRemove: body.seatsToRemove });
export const autoRenewCommand = (customerId: string, subscriptionId: string, body: { enabled: boolean }) =>
  subscriptionCommand({ operation: 'changeAutoRenew', customerId, subscriptionId, enabled: body.enabled });
export const scheduleCommand = (customerId: string, subscriptionId: string, changes: ScheduleRequest) =>
  subscriptionCommand({ operation: 'scheduleRenewalChange', customerId, subscriptionId, changes });
export const cancelScheduleCommand = (customerId: string, subscriptionId: string) =>
  subscriptionCommand({ operation: 'cancelScheduledChange', customerId, subscriptionId });
