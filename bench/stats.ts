// Small statistics for the benchmarks: nearest-rank percentiles over raw samples, and a least-squares slope.

/** The p-th percentile (0 < p ≤ 100) by nearest rank: a value that was measured, never an interpolation. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export const median = (samples: readonly number[]) => percentile(samples, 50);

export const mean = (samples: readonly number[]) => samples.reduce((sum, v) => sum + v, 0) / samples.length;

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [x: number, y: number])[]): number {
  const mx = mean(points.map(([x]) => x));
  const my = mean(points.map(([, y]) => y));
  const num = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const den = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return num / den;
}

/** Rounds for JSON output: figures, not float noise. */
export const round = (value: number, digits = 3) => Number(value.toFixed(digits));
