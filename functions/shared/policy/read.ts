// Who may read which customer's orders, carts, catalog and purchases: the Cedar action `Read`, asked of the same
// engine as purchases (Verified Permissions in AWS, cedar-wasm locally) before anything is read. The deployed permits
// leave the action open, so whoever may buy for a customer may read it; everyone else reads nothing (Cedar's default
// deny). A refusal is 403 `policy-denied`; a policy that cannot be asked fails the read closed (503). Every decision
// is one audit line (`audit: "read-policy"`), apart from the purchases' (no purchase denial metric, no page).
import { PolicyDeniedError, PolicyUnavailableError } from '../errors.js';
import { type Logger, logger } from '../log.js';
import type { PolicyEngine, Verdict } from './engine.js';
import {
  type AuthorizationRequest,
  actionUid,
  entitiesFor,
  formatUid,
  principalOf,
  READ_ACTION,
  type ReadContext,
  uid,
} from './model.js';

/** What a read looks at (`context.what`). */
export type ReadTarget = 'customer' | 'order' | 'orders' | 'subscriptions' | 'cart' | 'catalog' | 'purchase';

export interface Reader {
  /** The caller as caller.ts names it (`http:iam:…`, `http:jwt:…`). */
  caller: string;
  /** Its token groups (JWT). */
  groups?: readonly string[];
}

export class ReadPolicy {
  constructor(
    readonly engine: PolicyEngine,
    private readonly log: Logger = logger,
  ) {}

  /**
   * Throws PolicyDeniedError unless the reader may read every one of these customers (`path` points at the customer
   * in the request), PolicyUnavailableError when the policy cannot be asked.
   */
  async check(reader: Reader, what: ReadTarget, customers: readonly string[], path: string, deadline: number) {
    const ids = [...new Set(customers.map((id) => id.toLowerCase()))];
    if (ids.length === 0) return;
    const principal = principalOf(reader.caller, reader.groups ?? []);
    const name = formatUid(principal.uid);
    const requests: AuthorizationRequest<ReadContext>[] = ids.map((id) => ({
      principal: principal.uid,
      action: actionUid(READ_ACTION),
      resource: uid('Customer', id),
      // A read has no line: the context is what is read (the schema's Reading).
      context: { what },
    }));
    const audit = { audit: 'read-policy', engine: this.engine.name, caller: reader.caller, principal: name, what };
    let verdicts: Verdict[];
    try {
      const entities = new Map<string, ReturnType<typeof entitiesFor>[number]>();
      for (const request of requests) {
        for (const entity of entitiesFor(this.engine.entities, principal, request.resource)) {
          entities.set(`${entity.uid.type}\u0000${entity.uid.id}`, entity);
        }
      }
      verdicts = await this.engine.authorize({ requests, entities: [...entities.values()] }, deadline);
    } catch (error) {
      this.log.error('read policy unavailable', { ...audit, customerIds: ids, error });
      throw error instanceof PolicyUnavailableError
        ? error
        : new PolicyUnavailableError('The read policy could not be evaluated.', error);
    }
    const refused = verdicts.findIndex((verdict) => verdict.decision !== 'allow');
    const customerId = ids[refused < 0 ? 0 : refused];
    const verdict = verdicts[refused < 0 ? 0 : refused] as Verdict;
    const line = {
      ...audit,
      customerIds: ids,
      decision: refused < 0 ? 'allow' : 'deny',
      policies: [...new Set((refused < 0 ? verdicts : [verdict]).flatMap((v) => v.policies.map((p) => p.id)))],
    };
    if (refused < 0) {
      this.log.info('read policy decision', line);
      return;
    }
    this.log.warn('read policy decision', { ...line, customerId });
    const decisive = verdict.policies[0];
    throw new PolicyDeniedError({
      action: READ_ACTION,
      principal: name,
      policies: verdict.policies.map((p) => p.id),
      path,
      reason: decisive
        ? (decisive.reason ?? `forbidden by policy ${decisive.id}`)
        : `no policy permits ${name} to read customer ${customerId}`,
    });
  }
}
