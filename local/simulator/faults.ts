import { json, pcError, type Reply } from './http.js';

export type FaultKind =
  | 'throttle'
  | 'server-error'
  | 'unavailable'
  | 'delay'
  | 'drop'
  | 'truncate'
  | 'commit-then-drop';

export interface FaultRule {
  kind: FaultKind;
  /** Default: every Partner Center (`/v1/...`) request; the token endpoint only when `path` matches it. */
  match?: { method?: string; path?: RegExp | string };
  /** How many requests the rule applies to (default Infinity). */
  times?: number;
  /** 0..1, rolled with the seeded PRNG (default 1). */
  probability?: number;
  /**
   * For 'throttle': the Retry-After header (default 1), or `null` for a 429 without one. Also sent as Retry-After on
   * 'unavailable' when set.
   */
  retryAfterSeconds?: number | null;
  /** For 'delay' (default 1000). */
  delayMs?: number;
}

/** mulberry32: tiny, seedable, good enough to make fault runs reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

function pathMatches(pattern: RegExp | string | undefined, path: string, partnerCenter: boolean): boolean {
  if (pattern === undefined) return partnerCenter;
  if (typeof pattern === 'string') return path.includes(pattern);
  pattern.lastIndex = 0; // a /g or /y regex keeps state between test() calls
  return pattern.test(path);
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private random: () => number;

  constructor(private readonly seed: number) {
    this.random = mulberry32(seed);
  }

  add(rule: FaultRule): void {
    const probability = rule.probability ?? 1;
    if (!(probability >= 0 && probability <= 1)) throw new RangeError('FaultRule.probability must be within 0..1');
    const times = rule.times ?? Number.POSITIVE_INFINITY;
    if (!(times >= 0)) throw new RangeError('FaultRule.times must be >= 0');
    this.rules.push({ rule: { ...rule }, remaining: times });
  }

  clear(): void {
    this.rules = [];
  }

  /** Also restarts the PRNG so a reset simulator replays the same fault sequence. */
  reset(): void {
    this.clear();
    this.random = mulberry32(this.seed);
  }

  /**
   * First rule (in injection order) that matches and wins its probability roll.
   * Only applied faults count against `times`.
   */
  pick(method: string, path: string, partnerCenter: boolean): FaultRule | undefined {
    for (const active of this.rules) {
      const { match, probability = 1 } = active.rule;
      if (active.remaining <= 0) continue;
      if (match?.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!pathMatches(match?.path, path, partnerCenter)) continue;
      if (probability < 1 && this.random() >= probability) continue;
      active.remaining--;
      this.rules = this.rules.filter((r) => r.remaining > 0);
      return active.rule;
    }
    return undefined;
  }
}

/** Partner Center's documented 429 (api-throttling-guidance.md): Retry-After and the same seconds in the message. */
export function throttledReply(seconds: number): Reply {
  return json(
    429,
    { statusCode: 429, message: `Rate limit is exceeded. Try again in ${seconds} seconds.` },
    { 'Retry-After': String(seconds) },
  );
}

/**
 * The answer for faults that short-circuit the request (nothing is processed).
 * The token endpoint gets Entra-shaped bodies because clients parse those differently.
 */
export function shortCircuitReply(rule: FaultRule, tokenEndpoint: boolean): Reply | undefined {
  switch (rule.kind) {
    case 'throttle': {
      if (rule.retryAfterSeconds === null) return json(429, { statusCode: 429, message: 'Rate limit is exceeded.' });
      return throttledReply(rule.retryAfterSeconds ?? 1);
    }
    case 'server-error':
      return tokenEndpoint
        ? json(500, {
            error: 'server_error',
            error_description: 'AADSTS50000: There was an error issuing a token.',
            error_codes: [50000],
          })
        : pcError(500, 800003, 'Unexpected service error');
    case 'unavailable': {
      const headers: Record<string, string> =
        rule.retryAfterSeconds == null ? {} : { 'Retry-After': String(rule.retryAfterSeconds) };
      const body = tokenEndpoint
        ? {
            error: 'temporarily_unavailable',
            error_description: 'AADSTS90033: A transient error has occurred. Please try again.',
            error_codes: [90033],
          }
        : { code: 503, description: 'Service Unavailable', data: [], source: 'PartnerFD' };
      return json(503, body, headers);
    }
    default:
      return undefined;
  }
}
