// The purchase policy at every entry point: commands.ts wraps each command with `guard`, so the policy decides
// before anything is sent — for HTTP, events, direct invocation and dry runs alike — and a refusal is the command's
// outcome (403 `policy-denied`, an OrderRejected event), stored under the key like any other final answer. A policy
// that cannot be evaluated fails the purchase closed (503 `policy-unavailable`, nothing sent). Every decision is one
// audit log line (`audit: "purchase-policy"`); the stack counts the denials and alarms on them.
//
// Inside the command, like the catalog pre-flight: with an Idempotency-Key a replay answers the stored outcome without
// a new decision, so a purchase that was placed is never reported as refused because a policy changed since. The
// decision is asked for beside the idempotency lock (purchase/early.ts): on a replay the engine may have been asked,
// and its answer is dropped unread and unlogged.

import { PartnerCenterError, PolicyDeniedError, PolicyUnavailableError } from '../errors.js';
import { alreadySent } from '../exactly-once/already-sent.js';
import { type Logger, logger } from '../log.js';
import { early } from '../purchase/early.js';
import type { Authorization, Command, PerformOptions, ServiceContext, ServiceResult } from '../purchase/model.js';
import { Cart } from '../schemas/carts.js';
import { segment, sendFor } from '../services/context.js';
import type { PolicyEngine, PolicyRef, Verdict } from './engine.js';
import {
  type AuthorizationRequest,
  cartLines,
  entitiesFor,
  formatUid,
  type PolicyAction,
  type PolicyField,
  type PurchaseToJudge,
  principalOf,
  purchaseOf,
  requestsOf,
} from './model.js';

export type { Authorization } from '../purchase/model.js';

export interface Decision {
  allowed: boolean;
  principal: string;
  actions: PolicyAction[];
  /** Deciding policies: the permits of an allow; for a denial, those of the first refused line. */
  policies: PolicyRef[];
  denial?: PolicyDeniedError['denial'];
  /** The refused line (`line item 2`, `cart line 0`). */
  origin?: string;
}

/**
 * Reads a Cedar answer for the caller: allowed when every line is allowed under every action; otherwise the first
 * refused line names the refusal. A forbid names itself, its `@reason` and its `@field`; a line nothing permitted
 * (Cedar's default deny) names the customer when no line was permitted, else the line.
 */
export function interpret(
  purchase: PurchaseToJudge,
  requests: AuthorizationRequest[],
  verdicts: Verdict[],
  principal: string,
): Decision {
  const refused = verdicts.findIndex((verdict) => verdict.decision !== 'allow');
  if (refused < 0) {
    const seen = new Map<string, PolicyRef>();
    for (const verdict of verdicts) for (const policy of verdict.policies) seen.set(policy.id, policy);
    return { allowed: true, principal, actions: purchase.actions, policies: [...seen.values()] };
  }
  const lines = purchase.lines.length;
  const action = (requests[refused]?.action.id ?? purchase.actions[0]) as PolicyAction;
  const judged = purchase.lines[refused % lines];
  const verdict = verdicts[refused] as Verdict;
  const decisive = verdict.policies[0];
  const lineOnly = verdicts.some((v, i) => v.decision === 'allow' && requests[i]?.action.id === action);
  const field = (decisive?.field ?? (lineOnly ? undefined : 'customer')) as PolicyField | undefined;
  const path =
    (field && (judged?.paths[field] ?? purchase.paths[field])) ??
    judged?.at ??
    purchase.paths.customer ??
    '/customerId';
  const origin = judged?.origin ?? 'the request';
  const reason = decisive
    ? (decisive.reason ?? `forbidden by policy ${decisive.id}`)
    : `no policy permits ${principal} to ${action} for customer ${purchase.customerId}` +
      (lineOnly ? ` with ${origin} as it is` : '');
  return {
    allowed: false,
    principal,
    actions: purchase.actions,
    policies: verdict.policies,
    denial: {
      action,
      principal,
      policies: verdict.policies.map((p) => p.id),
      path,
      reason: judged?.origin.startsWith('cart') ? `${origin}: ${reason}` : reason,
    },
    origin,
  };
}

export class PurchasePolicy {
  constructor(
    readonly engine: PolicyEngine,
    private readonly log: Logger = logger,
  ) {}

  /**
   * The command, judged before it runs: a refusal or an unavailable policy throws, and nothing is sent. The decision
   * starts with the command (`start`, beside the idempotency lock: purchase/early.ts) and counts only once the
   * command runs: its audit line is written then, so a replay, answered from the stored outcome, logs no decision.
   */
  guard(command: Command, options: PerformOptions): Command {
    const decision = early(async (ctx) => {
      let purchase = purchaseOf(command, options.idempotencyKeyPath);
      if (command.operation === 'checkoutCart') purchase = cartLines(purchase, await cartItems(ctx, command));
      return this.evaluate(purchase, options, command.operation, ctx.deadline);
    });
    return {
      ...command,
      start: (ctx) => {
        decision.start(ctx);
        command.start?.(ctx);
      },
      run: async (ctx) => {
        // Judged before it was first sent: a retry of a purchase that may be placed is not refused by a policy
        // changed since, it is looked for (exactly-once/already-sent.ts).
        if (await alreadySent(command, ctx)) {
          logger.info(
            'policy not judged again: a purchase with this key was already sent, and was judged before it was',
          );
          return command.run(ctx);
        }
        const judged = (await decision.take(ctx)).logged();
        if (judged.denial) throw new PolicyDeniedError(judged.denial);
        const result = await command.run(ctx);
        return ctx.dryRun ? withAuthorization(result, judged) : result;
      },
    };
  }

  /** The decision on a purchase, logged (the CLI's `policy explain` asks this without running anything). */
  async judge(
    purchase: PurchaseToJudge,
    options: Pick<PerformOptions, 'caller' | 'callerGroups' | 'dryRun'>,
    operation: Command['operation'],
    deadline: number,
  ): Promise<Decision> {
    return (await this.evaluate(purchase, options, operation, deadline)).logged();
  }

  /**
   * The decision on a purchase, not yet logged: `logged()` writes its audit line (or the unavailable policy's error
   * line) and returns the decision, or throws PolicyUnavailableError.
   */
  private async evaluate(
    purchase: PurchaseToJudge,
    options: Pick<PerformOptions, 'caller' | 'callerGroups' | 'dryRun'>,
    operation: Command['operation'],
    deadline: number,
  ): Promise<{ logged(): Decision }> {
    const principal = principalOf(options.caller, options.callerGroups ?? []);
    const requests = requestsOf(purchase, principal);
    const name = formatUid(principal.uid);
    const audit = {
      audit: 'purchase-policy',
      engine: this.engine.name,
      caller: options.caller,
      principal: name,
      customerId: purchase.customerId,
      operation,
      actions: purchase.actions,
      lines: purchase.lines.length,
      totalSeats: requests[0]?.context.totalSeats ?? 0,
      dryRun: options.dryRun,
    };
    let decision: Decision;
    let errors: string[] = [];
    if (requests.length === 0) {
      // A checkout of an empty cart: nothing to judge is nothing permitted.
      decision = {
        allowed: false,
        principal: name,
        actions: purchase.actions,
        policies: [],
        denial: {
          action: purchase.actions[0] as PolicyAction,
          principal: name,
          policies: [],
          path: purchase.paths.cart ?? purchase.paths.customer ?? '/customerId',
          reason: 'the cart has no line items to judge',
        },
      };
    } else {
      const resource = (requests[0] as AuthorizationRequest).resource;
      // Lines alike (same action, same line) get the same answer: each is asked once (100 lines of one SKU: 1 request).
      const asked = new Map<string, number>();
      const unique: AuthorizationRequest[] = [];
      const indexes = requests.map((request) => {
        const key = `${request.action.id}\u0000${JSON.stringify(request.context.line)}`;
        let index = asked.get(key);
        if (index === undefined) {
          index = unique.push(request) - 1;
          asked.set(key, index);
        }
        return index;
      });
      let verdicts: Verdict[];
      try {
        const answers = await this.engine.authorize(
          { requests: unique, entities: entitiesFor(this.engine.entities, principal, resource) },
          deadline,
        );
        verdicts = indexes.map((index) => answers[index] as Verdict);
      } catch (error) {
        return {
          logged: () => {
            this.log.error('purchase policy unavailable', { ...audit, error });
            throw error instanceof PolicyUnavailableError
              ? error
              : new PolicyUnavailableError('The purchase policy could not be evaluated.', error);
          },
        };
      }
      errors = [...new Set(verdicts.flatMap((v) => v.errors))];
      decision = interpret(purchase, requests, verdicts, name);
    }
    const line = {
      ...audit,
      decision: decision.allowed ? 'allow' : 'deny',
      policies: decision.policies.map((p) => p.id),
      ...(decision.denial
        ? { field: decision.denial.path, line: decision.origin, reason: decision.denial.reason }
        : {}),
      ...(errors.length > 0 ? { policyErrors: errors } : {}),
    };
    return {
      logged: () => {
        if (decision.allowed) this.log.info('purchase policy decision', line);
        else this.log.warn('purchase policy decision', line);
        return decision;
      },
    };
  }
}

function withAuthorization(result: ServiceResult, decision: Decision): ServiceResult {
  const authorization: Authorization = {
    decision: 'allow',
    principal: decision.principal,
    actions: decision.actions,
    policies: decision.policies.map((p) => p.id),
  };
  return { ...result, body: { ...(result.body as object), authorization } };
}

/**
 * A checkout names only the cart: its lines are read back (a GET, which buys nothing) so that the policy judges
 * what the checkout would buy. A cart that is not there is Partner Center's 404; a cart that cannot be read leaves
 * the purchase unjudged, so it fails closed.
 */
async function cartItems(ctx: ServiceContext, command: Command) {
  const { cartId } = command.input as { cartId: string };
  const path = `/v1/customers/${segment(command.customerId)}/carts/${segment(cartId)}`;
  try {
    const cart = await sendFor(ctx, 'policy-read-cart', { method: 'GET', path }, Cart, 'a cart');
    return (cart.lineItems ?? []) as Parameters<typeof cartLines>[1];
  } catch (error) {
    if (error instanceof PartnerCenterError && error.status === 404) throw error;
    throw new PolicyUnavailableError(`Cart ${cartId} could not be read to judge its checkout.`, error);
  }
}
