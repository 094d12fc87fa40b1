// The subscription operations as EventBridge commands (the order-events consumer, events.ts) and their outcomes.
// A command's detail is the direct invocation's payload without `operation`: the detail type names it.
//   CancelSubscription      { customerId, subscriptionId }                 → SubscriptionCancelled
//   ReduceSeats             { customerId, subscriptionId, seatsToRemove }  → SeatsReduced
//   ChangeAutoRenew         { customerId, subscriptionId, enabled }        → AutoRenewChanged
//   ScheduleRenewalChange   { customerId, subscriptionId, changes }        → RenewalScheduled
//   CancelScheduledChange   { customerId, subscriptionId }                 → ScheduledChangeCancelled
// A refused one is acknowledged with SubscriptionChangeRejected (the problem, as for OrderRejected).
import type { SubscriptionOperation } from './schemas.js';

export const SUBSCRIPTION_COMMANDS = {
  CancelSubscription: 'cancelSubscription',
  ReduceSeats: 'reduceSeats',
  ChangeAutoRenew: 'changeAutoRenew',
  ScheduleRenewalChange: 'scheduleRenewalChange',
  CancelScheduledChange: 'cancelScheduledChange',
} as const satisfies Record<string, SubscriptionOperation>;
export type SubscriptionCommandType = keyof typeof SUBSCRIPTION_COMMANDS;

export const SUBSCRIPTION_OUTCOMES = {
  cancelSubscription: 'SubscriptionCancelled',
  reduceSeats: 'SeatsReduced',
  changeAutoRenew: 'AutoRenewChanged',
  scheduleRenewalChange: 'RenewalScheduled',
  cancelScheduledChange: 'ScheduledChangeCancelled',
} as const satisfies Record<SubscriptionOperation, string>;
export type SubscriptionOutcomeType =
  | (typeof SUBSCRIPTION_OUTCOMES)[SubscriptionOperation]
  | 'SubscriptionChangeRejected';

export const isSubscriptionCommand = (type: string): type is SubscriptionCommandType =>
  Object.hasOwn(SUBSCRIPTION_COMMANDS, type);
