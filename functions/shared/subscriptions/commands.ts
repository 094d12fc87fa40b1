// The subscription operations as commands: the same perform() as purchases (commands.ts: idempotency key, dry run,
// replay), with their own guards — the policy's subscription actions, the clock and the reduction's record.
import type { PolicyEngine } from '../policy/engine.js';
import { requestPrefixes } from '../policy/model.js';
import type { Command, PerformOptions } from '../purchase/model.js';
import type { SubscriptionSettings } from './intents.js';
import { judgeChange } from './policy.js';
import {
  type ScheduleRequest,
  SUBSCRIPTION_OPERATIONS,
  type SubscriptionCommandPayload,
  type SubscriptionOperation,
} from './schemas.js';
import { runChange } from './service.js';

/** What a repeated key must match: the operation's own fields (the ids are in the key's scope or here). */
const inputOf = (payload: SubscriptionCommandPayload) => {
  const { operation: _operation, customerId: _customerId, ...input } = payload;
  return input;
};

/** The payload back from a command: its operation, customer and input (what a repeated key must match). */
const payloadOf = (command: Command) =>
  ({
    operation: command.operation,
    customerId: command.customerId,
    ...(command.input as object),
  }) as SubscriptionCommandPayload;

export const isSubscriptionCommand = (command: Command) =>
  (SUBSCRIPTION_OPERATIONS as readonly string[]).includes(command.operation);

export function subscriptionCommand(payload: SubscriptionCommandPayload): Command {
  const command: Command = {
    operation: payload.operation as SubscriptionOperation,
    customerId: payload.customerId,
    // perform() always applies it (commands.ts), instead of a purchase's guards.
    guard: (options, deps) =>
      guardSubscription(command, options, {
        // perform()'s CommandDependencies (commands.ts): its policy's engine and its subscription settings.
        engine: deps.policy.engine as PolicyEngine,
        settings: (deps.subscriptions ?? {}) as SubscriptionSettings,
      }),
    input: inputOf(payload),
    // Unguarded (perform always guards it): the defaults of the guard below.
    run: (ctx) => runChange(ctx, payload, { now: Date.now, paths: { ids: '/path', body: '/body' } }),
  };
  return command;
}

/** The command, judged by the policy's subscription action before it runs with its settings (commands.ts perform). */
export function guardSubscription(
  command: Command,
  options: PerformOptions,
  deps: { engine: PolicyEngine; settings: SubscriptionSettings },
): Command {
  const payload = payloadOf(command);
  return {
    ...command,
    run: async (ctx) => {
      const paths = requestPrefixes(options.idempotencyKeyPath);
      // Events and invocations carry the schedule's fields under `changes`; HTTP in the body itself.
      const schedule = paths.body === '/body' ? paths.body : `${paths.body}/changes`;
      const authorization = await judgeChange(deps.engine, payload, options, { ...paths, schedule }, ctx.deadline);
      const result = await runChange(ctx, payload, {
        now: deps.settings.now ?? Date.now,
        paths: { ids: paths.ids, body: payload.operation === 'scheduleRenewalChange' ? schedule : paths.body },
        ...(deps.settings.intents ? { intents: deps.settings.intents } : {}),
      });
      return ctx.dryRun ? { ...result, body: { ...(result.body as object), authorization } } : result;
    },
  };
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
