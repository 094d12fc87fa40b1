// The purchase policy for subscription changes: one Cedar request per change, with its own actions
// (CancelSubscription, ReduceSeats, ChangeAutoRenew, ScheduleRenewalChange) and context (policies/schema.cedarschema),
// judged before anything is read or sent, at every entry point and in dry runs, by the same engine as purchases
// (Verified Permissions in AWS, cedar-wasm locally). A refusal is 403 `policy-denied`; an engine that cannot answer
// fails the change closed (503). One audit line per decision, in the purchase policy's format.

import { PolicyDeniedError, PolicyUnavailableError } from '../errors.js';
import { logger } from '../log.js';
import type { PolicyEngine, PolicyRef } from '../policy/engine.js';
import { type AuthorizationRequest, entitiesFor, formatUid, principalOf, uid } from '../policy/model.js';
import type { PerformOptions } from '../purchase/model.js';
import type { SubscriptionCommandPayload, SubscriptionOperation } from './schemas.js';

export type SubscriptionAction = 'CancelSubscription' | 'ReduceSeats' | 'ChangeAutoRenew' | 'ScheduleRenewalChange';

export const SUBSCRIPTION_ACTIONS: Record<SubscriptionOperation, SubscriptionAction> = {
  cancelSubscription: 'CancelSubscription',
  reduceSeats: 'ReduceSeats',
  changeAutoRenew: 'ChangeAutoRenew',
  // Cancelling what was scheduled is scheduling "nothing": the same action.
  scheduleRenewalChange: 'ScheduleRenewalChange',
  cancelScheduledChange: 'ScheduleRenewalChange',
};

/** `context` of a subscription change (`SubscriptionChange` in the schema): what the request asks, from the request. */
export interface SubscriptionChangeContext {
  subscriptionId: string;
  /** ReduceSeats: the seats to remove; 0 otherwise. */
  seatsToRemove: number;
  /** ChangeAutoRenew: the value asked for; false otherwise. */
  autoRenewEnabled: boolean;
  /** ScheduleRenewalChange: the next term's quantity when the request names one; 0 otherwise. */
  nextTermQuantity: number;
}

export function contextOf(payload: SubscriptionCommandPayload): SubscriptionChangeContext {
  return {
    subscriptionId: payload.subscriptionId,
    seatsToRemove: payload.operation === 'reduceSeats' ? payload.seatsToRemove : 0,
    autoRenewEnabled: payload.operation === 'changeAutoRenew' ? payload.enabled : false,
    nextTermQuantity: payload.operation === 'scheduleRenewalChange' ? (payload.changes.quantity ?? 0) : 0,
  };
}

/** Where a policy's `@field` is in the request. */
function pathOf(field: string | undefined, paths: { ids: string; body: string }, scheduleBody: string): string {
  switch (field) {
    case 'subscription':
      return `${paths.ids}/subscriptionId`;
    case 'seatsToRemove':
      return `${paths.body}/seatsToRemove`;
    case 'autoRenewEnabled':
      return `${paths.body}/enabled`;
    case 'nextTermQuantity':
      return `${scheduleBody}/quantity`;
    default:
      return `${paths.ids}/customerId`;
  }
}

export interface ChangeAuthorization {
  decision: 'allow';
  principal: string;
  actions: SubscriptionAction[];
  policies: string[];
}

/** Judges one change; throws PolicyDeniedError or PolicyUnavailableError. */
export async function judgeChange(
  engine: PolicyEngine,
  payload: SubscriptionCommandPayload,
  options: Pick<PerformOptions, 'caller' | 'callerGroups' | 'dryRun'>,
  paths: { ids: string; body: string; schedule: string },
  deadline: number,
): Promise<ChangeAuthorization> {
  const principal = principalOf(options.caller, options.callerGroups ?? []);
  const action = SUBSCRIPTION_ACTIONS[payload.operation];
  const resource = uid('Customer', payload.customerId.toLowerCase());
  const request: AuthorizationRequest<SubscriptionChangeContext> = {
    principal: principal.uid,
    action: uid('Action', action),
    resource,
    context: contextOf(payload),
  };
  const name = formatUid(principal.uid);
  const audit = {
    audit: 'purchase-policy',
    engine: engine.name,
    caller: options.caller,
    principal: name,
    customerId: payload.customerId,
    operation: payload.operation,
    actions: [action],
    subscriptionId: payload.subscriptionId,
    dryRun: options.dryRun,
  };
  let verdict: { decision: string; policies: PolicyRef[]; errors: string[] };
  try {
    const answers = await engine.authorize(
      { requests: [request], entities: entitiesFor(engine.entities, principal, resource) },
      deadline,
    );
    verdict = answers[0] ?? { decision: 'deny', policies: [], errors: ['no answer'] };
  } catch (error) {
    logger.error('purchase policy unavailable', { ...audit, error });
    throw error instanceof PolicyUnavailableError
      ? error
      : new PolicyUnavailableError('The purchase policy could not be evaluated.', error);
  }
  const policies = verdict.policies.map((p) => p.id);
  if (verdict.decision === 'allow') {
    logger.info('purchase policy decision', { ...audit, decision: 'allow', policies });
    return { decision: 'allow', principal: name, actions: [action], policies };
  }
  const decisive = verdict.policies[0];
  const path = pathOf(decisive?.field, paths, paths.schedule);
  const reason = decisive
    ? (decisive.reason ?? `forbidden by policy ${decisive.id}`)
    : `no policy permits ${name} to ${action} for customer ${payload.customerId}`;
  logger.warn('purchase policy decision', { ...audit, decision: 'deny', policies, field: path, reason });
  throw new PolicyDeniedError({ action, principal: name, policies, path, reason });
}
