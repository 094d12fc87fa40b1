// How long Partner Center takes to answer, as a distribution rather than a constant: a log-normal per kind of request,
// given by its median and 99th percentile. Partner Center publishes no latency figures; the defaults
// (`REALISTIC_LATENCY`) are assumptions of the order of what partners report — purchases take seconds, a cart a
// second, reads a fraction — and every figure is configurable. Samples come from a seeded PRNG, so a run repeats.
import { mulberry32 } from './faults.js';

export interface Distribution {
  medianMs: number;
  /** The 99th percentile; equal to the median for a constant. */
  p99Ms: number;
}

export type LatencyKind = 'purchase' | 'cart' | 'read' | 'throttled';

/** Per kind: `purchase` create order, add-on PATCH, checkout; `cart` create or update a cart; `read` any GET. */
export type LatencyModel = Record<LatencyKind, Distribution>;

export const REALISTIC_LATENCY: LatencyModel = {
  purchase: { medianMs: 3_000, p99Ms: 12_000 },
  cart: { medianMs: 800, p99Ms: 3_000 },
  read: { medianMs: 300, p99Ms: 1_500 },
  throttled: { medianMs: 50, p99Ms: 200 },
};

/** The standard normal's 99th percentile. */
const Z99 = 2.326_347_874;

/** The kind of a Partner Center request, for its latency. */
export function latencyKind(method: string, pathname: string): Exclude<LatencyKind, 'throttled'> {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD') return 'read';
  if (/\/carts\/[^/]+\/checkout\/?$/i.test(pathname)) return 'purchase';
  if (/\/carts(\/[^/]+)?\/?$/i.test(pathname)) return 'cart';
  return 'purchase';
}

/** The mean of a distribution (a log-normal's is median × e^(σ²/2)). */
export function meanMs(distribution: Distribution): number {
  const sigma = sigmaOf(distribution);
  return distribution.medianMs * Math.exp((sigma * sigma) / 2);
}

function sigmaOf({ medianMs, p99Ms }: Distribution): number {
  if (!(medianMs >= 0) || !(p99Ms >= medianMs)) throw new RangeError('latency: need 0 ≤ medianMs ≤ p99Ms');
  return medianMs > 0 ? Math.log(p99Ms / medianMs) / Z99 : 0;
}

export class LatencySampler {
  private readonly random: () => number;
  private readonly sigmas: Record<LatencyKind, number>;

  constructor(
    readonly model: LatencyModel,
    seed = 1,
  ) {
    this.random = mulberry32(seed ^ 0x5eed);
    this.sigmas = {
      purchase: sigmaOf(model.purchase),
      cart: sigmaOf(model.cart),
      read: sigmaOf(model.read),
      throttled: sigmaOf(model.throttled),
    };
  }

  /** One answer time in ms (simulated time). */
  sample(kind: LatencyKind): number {
    const { medianMs } = this.model[kind];
    const sigma = this.sigmas[kind];
    if (medianMs === 0 || sigma === 0) return medianMs;
    // Box–Muller: a standard normal from two uniforms (the first kept away from 0).
    const u = Math.max(this.random(), Number.EPSILON);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
    return medianMs * Math.exp(sigma * z);
  }
}

/** `SIMULATOR_LATENCY`: `off` (default) or `realistic` (REALISTIC_LATENCY). */
export function latencyFromEnv(value: string | undefined): LatencyModel | undefined {
  if (value === undefined || value === '' || value === 'off') return undefined;
  if (value === 'realistic') return REALISTIC_LATENCY;
  throw new Error('SIMULATOR_LATENCY must be off or realistic');
}
