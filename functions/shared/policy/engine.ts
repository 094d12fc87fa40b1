// What decides: an engine takes the Cedar requests of one purchase and answers each. Two engines evaluate the same
// policy files: Amazon Verified Permissions in AWS (avp.ts) and cedar-wasm in the process (local.ts: the local
// server, the tests and the CLI; never bundled into a function).
import type { AuthorizationQuery, EntityJson } from './model.js';

/** A policy as a refusal and the audit log name it: its `@id`, and its `@field` and `@reason` annotations. */
export interface PolicyRef {
  id: string;
  field?: string;
  reason?: string;
}

/** The answer to one request: Cedar's decision, the policies that decided it, and any that failed to evaluate. */
export interface Verdict {
  decision: 'allow' | 'deny';
  /** For an allow, the permits that matched; for a deny, the forbids that matched (none: nothing permitted it). */
  policies: PolicyRef[];
  /** Policies that could not be evaluated (Cedar skips them); logged, never shown to the caller. */
  errors: string[];
}

export interface PolicyEngine {
  /** `avp` or `cedar-wasm`: said in the audit log. */
  readonly name: string;
  /** The entity store (policies/entities.json): groups and their members. Each query carries the entities it needs. */
  readonly entities: readonly EntityJson[];
  /**
   * One verdict per request, in order. Throws PolicyUnavailableError when the policies cannot be evaluated (the
   * purchase then fails closed); `deadline` (epoch ms) bounds the wait.
   */
  authorize(query: AuthorizationQuery, deadline: number): Promise<Verdict[]>;
}

/** Reads Cedar annotations at the head of a policy's text (`@id("…")`), for engines that get only the text back. */
export function annotationsOf(statement: string): Record<string, string> {
  const annotations: Record<string, string> = {};
  const pattern = /^\s*(?:\/\/[^\n]*\n\s*)*@([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*"((?:[^"\\]|\\.)*)"\s*\))?/;
  let rest = statement;
  for (let match = pattern.exec(rest); match; match = pattern.exec(rest)) {
    annotations[match[1] as string] = unescapeCedar(match[2] ?? '');
    rest = rest.slice(match[0].length);
  }
  return annotations;
}

/** Cedar's string escapes are JSON's, but for `\u{…}`; a value JSON cannot read is kept as written. */
function unescapeCedar(value: string): string {
  try {
    return JSON.parse(
      `"${value.replace(/\\u\{([0-9a-fA-F]{1,6})\}/g, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))}"`,
    ) as string;
  } catch {
    return value;
  }
}

/** A policy reference from its annotations (`@id` falling back to the engine's own id). */
export function policyRef(fallbackId: string, annotations: Record<string, string | undefined>): PolicyRef {
  return {
    id: annotations.id ?? fallbackId,
    ...(annotations.field ? { field: annotations.field } : {}),
    ...(annotations.reason ? { reason: annotations.reason } : {}),
  };
}
