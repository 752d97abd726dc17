// Robust trend for predictions: the Theil-Sen estimator (slope = median of the slopes between every
// pair of points, intercept = median of the residuals). A single outlier (a glitch reading, a
// temporary file deleted a minute later) moves a least-squares line a lot and this one barely.

export interface Point {
  t: number;
  v: number;
}

export interface Fit {
  /** Units of v per ms. */
  slope: number;
  /** v at t = 0 (use `at` for readable values). */
  intercept: number;
  points: number;
  spanMs: number;
}

/** Median by quickselect (O(n)); reorders `a`. */
export function median(a: Float64Array, n = a.length): number {
  if (n === 0) return Number.NaN;
  const k = n >> 1;
  const lo = select(a, 0, n - 1, k);
  if (n % 2 === 1) return lo;
  // Even count: mean of the two middle values; the lower one is the max of the left part.
  let below = -Infinity;
  for (let i = 0; i < k; i++) if (a[i]! > below) below = a[i]!;
  return (lo + below) / 2;
}

function select(a: Float64Array, left: number, right: number, k: number): number {
  while (left < right) {
    const pivot = a[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return a[k]!;
  }
  return a[k]!;
}

let scratch = new Float64Array(1024);

export function theilSen(points: readonly Point[]): Fit | null {
  const n = points.length;
  if (n < 2) return null;
  const pairs = (n * (n - 1)) / 2;
  if (scratch.length < Math.max(pairs, n)) scratch = new Float64Array(Math.max(pairs, n) * 2);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const pi = points[i]!;
    for (let j = i + 1; j < n; j++) {
      const pj = points[j]!;
      const dt = pj.t - pi.t;
      if (dt !== 0) scratch[m++] = (pj.v - pi.v) / dt;
    }
  }
  if (m === 0) return null;
  const slope = median(scratch, m);
  for (let i = 0; i < n; i++) scratch[i] = points[i]!.v - slope * points[i]!.t;
  const intercept = median(scratch, n);
  return { slope, intercept, points: n, spanMs: points[n - 1]!.t - points[0]!.t };
}

export function at(fit: Fit, t: number): number {
  return fit.intercept + fit.slope * t;
}
