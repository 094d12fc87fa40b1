// The engine in AWS: Amazon Verified Permissions evaluates the policy store the stack created from policies/*.cedar
// (infra/stack.ts), one BatchIsAuthorized call per 30 requests. The request carries the same Cedar JSON the local
// engine evaluates (context and entities as `cedarJson`), so both decide alike (test/integration/policy-engines).
// Verified Permissions names policies by its own ids: their `@id`, `@field` and `@reason` are read from the
// statements (BatchGetPolicy) and cached.
import {
  BatchGetPolicyCommand,
  BatchIsAuthorizedCommand,
  type BatchIsAuthorizedInputItem,
  VerifiedPermissionsClient,
  type VerifiedPermissionsClientConfig,
} from '@aws-sdk/client-verifiedpermissions';
import deployedEntities from '../../../policies/entities.json' with { type: 'json' };
import { PolicyUnavailableError } from '../errors.js';
import { timeLimit } from '../time-limit.js';
import { annotationsOf, type PolicyEngine, type PolicyRef, policyRef, type Verdict } from './engine.js';
import type { AuthorizationQuery, AuthorizationRequest, EntityJson } from './model.js';

/** Bounded like the other AWS clients: a call that hangs fails the purchase closed within the request's deadline. */
export const VERIFIED_PERMISSIONS_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const satisfies VerifiedPermissionsClientConfig;

/** BatchIsAuthorized takes at most 30 requests. */
export const BATCH_SIZE = 30;
/** How long a policy's annotations are reused before they are read again (a policy edited in place keeps its id). */
export const POLICY_NAMES_TTL_MS = 5 * 60_000;

export interface VerifiedPermissionsEngineOptions {
  policyStoreId: string;
  client?: VerifiedPermissionsClient;
  /** The entity store; policies/entities.json as deployed with the functions by default. */
  entities?: readonly EntityJson[];
  now?: () => number;
}

/** One request as Verified Permissions takes it: identifiers by type and id, context as Cedar JSON. */
export const toVerifiedPermissionsRequest = (request: AuthorizationRequest<object>): BatchIsAuthorizedInputItem => ({
  principal: { entityType: request.principal.type, entityId: request.principal.id },
  action: { actionType: request.action.type, actionId: request.action.id },
  resource: { entityType: request.resource.type, entityId: request.resource.id },
  context: { cedarJson: JSON.stringify(request.context) },
});

export class VerifiedPermissionsEngine implements PolicyEngine {
  readonly name = 'avp';
  readonly entities: readonly EntityJson[];
  private readonly client: VerifiedPermissionsClient;
  private readonly names = new Map<string, { ref: PolicyRef; until: number }>();
  private readonly now: () => number;

  constructor(private readonly options: VerifiedPermissionsEngineOptions) {
    this.client = options.client ?? new VerifiedPermissionsClient(VERIFIED_PERMISSIONS_CLIENT_CONFIG);
    this.entities = options.entities ?? (deployedEntities as EntityJson[]);
    this.now = options.now ?? Date.now;
  }

  async authorize(query: AuthorizationQuery, deadline: number): Promise<Verdict[]> {
    // The deadline's timer goes once answered (time-limit.ts); calls still running when another failed stop here,
    // not at their own timeouts, so nothing runs on into the next invocation.
    const limit = timeLimit(deadline - Date.now());
    try {
      return await this.decide(query, limit.signal);
    } finally {
      limit.end();
    }
  }

  private async decide(query: AuthorizationQuery, abortSignal: AbortSignal): Promise<Verdict[]> {
    const entities = { cedarJson: JSON.stringify(query.entities) };
    const batches: AuthorizationRequest<object>[][] = [];
    for (let i = 0; i < query.requests.length; i += BATCH_SIZE) batches.push(query.requests.slice(i, i + BATCH_SIZE));
    let answers: { decision: string; policies: string[]; errors: string[] }[];
    try {
      const outputs = await Promise.all(
        batches.map((batch) =>
          this.client.send(
            new BatchIsAuthorizedCommand({
              policyStoreId: this.options.policyStoreId,
              entities,
              requests: batch.map(toVerifiedPermissionsRequest),
            }),
            { abortSignal },
          ),
        ),
      );
      answers = outputs.flatMap((output, i) => {
        const results = output.results ?? [];
        if (results.length !== batches[i]?.length) {
          throw new Error(`BatchIsAuthorized answered ${results.length} results for ${batches[i]?.length} requests`);
        }
        return results.map((result) => ({
          decision: result.decision ?? 'DENY',
          policies: (result.determiningPolicies ?? []).map((p) => p.policyId ?? ''),
          errors: (result.errors ?? []).map((e) => e.errorDescription ?? 'error'),
        }));
      });
    } catch (error) {
      throw new PolicyUnavailableError(
        `Amazon Verified Permissions could not be asked (${(error as Error).name ?? 'Error'}).`,
        error,
      );
    }
    const refs = await this.refs([...new Set(answers.flatMap((a) => a.policies))], abortSignal);
    return answers.map((answer) => ({
      decision: answer.decision === 'ALLOW' ? 'allow' : 'deny',
      policies: answer.policies.map((id) => refs.get(id) ?? { id }),
      errors: answer.errors,
    }));
  }

  /**
   * The policies' own names, read from their statements. A policy that cannot be read keeps Verified Permissions'
   * id: the decision stands, only its name is missing.
   */
  private async refs(ids: string[], abortSignal: AbortSignal): Promise<Map<string, PolicyRef>> {
    const now = this.now();
    const refs = new Map<string, PolicyRef>();
    const missing: string[] = [];
    for (const id of ids) {
      const cached = this.names.get(id);
      if (cached && cached.until > now) refs.set(id, cached.ref);
      else missing.push(id);
    }
    if (missing.length === 0) return refs;
    try {
      const output = await this.client.send(
        new BatchGetPolicyCommand({
          requests: missing.map((policyId) => ({ policyStoreId: this.options.policyStoreId, policyId })),
        }),
        { abortSignal },
      );
      for (const result of output.results ?? []) {
        const id = result.policyId ?? '';
        const definition = result.definition;
        const statement = definition && 'static' in definition ? (definition.static?.statement ?? '') : '';
        const ref = policyRef(id, annotationsOf(statement));
        this.names.set(id, { ref, until: now + POLICY_NAMES_TTL_MS });
        refs.set(id, ref);
      }
    } catch {
      // Names only: the decision has been made.
    }
    return refs;
  }
}

/** No policy store configured (POLICY_STORE_ID): every purchase fails closed. */
export const UNCONFIGURED_POLICY: PolicyEngine = {
  name: 'none',
  entities: [],
  authorize: async () => {
    throw new PolicyUnavailableError('No purchase policy is configured (POLICY_STORE_ID).');
  },
};
