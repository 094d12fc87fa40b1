// Partner Center's throttling, as documented (api-throttling-guidance.md, order-resources.md): the order resource
// allows 500 requests per minute per tenant identifier; a request over the limit gets 429 with `Retry-After` and
// `{"statusCode":429,"message":"Rate limit is exceeded. Try again in N seconds."}`. The throttled routes listed are
// create order, add-on PATCH, create/update cart and checkout; some keys are per partner tenant, others per partner
// and customer. Modelled as a token bucket per key: `perMinute` tokens a minute, up to `burst` saved up.
//
// Where the documentation is silent (see README.md in this folder):
// - which requests take a token: `counts: 'all'` (default, pessimistic) counts every request to the order and cart
//   resources, reads included (GET orders and carts: what reconciliation reads), as "the Order resource has a rate
//   limit"; `counts: 'writes'` only the four throttled writes (POST/PATCH/PUT);
// - the bucket's size: `burst`, one minute's worth by default (the most "500 per minute" allows at once);
// - whether a refused request counts: "all requests accrue against your usage limits", so with `chargeRefused` a 429
//   also takes a token (the bucket goes into debt, at most `burst` deep), off by default;
// - one bucket for orders and carts together (no separate cart limit is documented).

export interface ThrottleOptions {
  /** Requests per minute per key (default 500, the order resource's documented limit). */
  perMinute?: number;
  /** Tokens saved up at most, and the bucket's start (default `perMinute`: one minute's worth). */
  burst?: number;
  /** One bucket per partner tenant (default), or per partner tenant and customer. */
  scope?: 'partner' | 'partner+customer';
  /** `all` (default): every order and cart request, reads included; `writes`: create/add-on/cart/checkout only. */
  counts?: 'all' | 'writes';
  /** A refused request takes a token too (default false). */
  chargeRefused?: boolean;
}

/** What a bucket has done, for reports: every figure in simulator time. */
export interface BucketUsage {
  key: string;
  admitted: number;
  refused: number;
  /** Tokens in the bucket now (negative: debt from charged refusals). */
  tokens: number;
  /** When the bucket was first used (simulator clock, ms); it started full. */
  since: number;
  /** The last request it was asked for (admitted or refused), and the tokens left right after it. */
  last: { at: number; tokens: number };
  /** The fewest tokens it held after a request: how much of the burst was used. */
  lowest: number;
}

/** The order and cart resources of one customer (`/v1/customers/{id}/orders…`, `…/carts…`). */
const RESOURCE = /^\/v1\/customers\/([^/]+)\/(orders|carts)(\/|$)/i;
/**
 * One subscription (get and patch subscription are throttled endpoints): the Subscription resource has its own 500 a
 * minute (subscription-resources), so its own bucket beside the orders'. The list by order stays uncounted as before.
 */
const SUBSCRIPTION = /^\/v1\/customers\/([^/]+)\/subscriptions\/[^/]+\/?$/i;
const WRITES = new Set(['POST', 'PATCH', 'PUT']);

interface Bucket {
  tokens: number;
  at: number;
  usage: BucketUsage;
}

export class PartnerCenterThrottle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;

  constructor(
    private readonly options: ThrottleOptions,
    private readonly partnerTenantId: string,
  ) {
    const perMinute = options.perMinute ?? 500;
    if (!(perMinute > 0)) throw new RangeError('throttle perMinute must be > 0');
    this.perMs = perMinute / 60_000;
    this.burst = options.burst ?? perMinute;
    if (!(this.burst >= 1)) throw new RangeError('throttle burst must be ≥ 1');
  }

  /** The bucket a request draws on, or undefined when it is not throttled. */
  keyOf(method: string, pathname: string): string | undefined {
    const subscription = SUBSCRIPTION.exec(pathname);
    const match = subscription ?? RESOURCE.exec(pathname);
    if (!match) return undefined;
    if ((this.options.counts ?? 'all') === 'writes' && !WRITES.has(method.toUpperCase())) return undefined;
    const scope = this.options.scope ?? 'partner';
    const key = scope === 'partner' ? this.partnerTenantId : `${this.partnerTenantId}/${decodeSegment(match[1] ?? '')}`;
    return subscription ? `${key}#subscriptions` : key;
  }

  /** Takes a token for the request: undefined when admitted (or not throttled), else the Retry-After in seconds. */
  take(method: string, pathname: string, now: number): number | undefined {
    const key = this.keyOf(method, pathname);
    if (key === undefined) return undefined;
    const bucket = this.bucket(key, now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      bucket.usage.admitted++;
      bucket.usage.last = { at: now, tokens: bucket.tokens };
      bucket.usage.lowest = Math.min(bucket.usage.lowest, bucket.tokens);
      return undefined;
    }
    bucket.usage.refused++;
    if (this.options.chargeRefused) bucket.tokens = Math.max(bucket.tokens - 1, -this.burst);
    bucket.usage.last = { at: now, tokens: bucket.tokens };
    bucket.usage.lowest = Math.min(bucket.usage.lowest, bucket.tokens);
    // Seconds until a whole token is back, as Partner Center says them: whole seconds, at least 1.
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  /** Every bucket used so far, refilled to `now`. */
  usage(now: number): BucketUsage[] {
    return [...this.buckets.keys()].map((key) => {
      const bucket = this.bucket(key, now);
      return { ...bucket.usage, tokens: bucket.tokens, last: { ...bucket.usage.last } };
    });
  }

  reset(): void {
    this.buckets.clear();
  }

  private bucket(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const usage = {
        key,
        admitted: 0,
        refused: 0,
        tokens: this.burst,
        since: now,
        last: { at: now, tokens: this.burst },
        lowest: this.burst,
      };
      bucket = { tokens: this.burst, at: now, usage };
      this.buckets.set(key, bucket);
    }
    if (now > bucket.at) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
      bucket.at = now;
    }
    return bucket;
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment).toLowerCase();
  } catch {
    return segment.toLowerCase();
  }
}

/** `SIMULATOR_THROTTLE`: `off` (default), `on` (500 a minute per partner), `<n>` a minute, `<n>/customer`. */
export function throttleFromEnv(value: string | undefined): ThrottleOptions | undefined {
  if (value === undefined || value === '' || value === 'off') return undefined;
  if (value === 'on') return {};
  const match = /^(\d+(?:\.\d+)?)(\/customer)?$/.exec(value);
  if (!match) throw new Error('SIMULATOR_THROTTLE must be off, on, <requests per minute> or <n>/customer');
  return { perMinute: Number(match[1]), ...(match[2] ? { scope: 'partner+customer' as const } : {}) };
}
