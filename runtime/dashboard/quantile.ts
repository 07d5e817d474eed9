/**
 * Quantiles from histogram bucket counts (per bucket, not cumulative; the
 * last is +Inf), as Prometheus' histogram_quantile reads them: the rank is
 * found in its bucket and placed linearly between the bucket's bounds. The
 * answer is only as fine as the bounds; one in the +Inf bucket is given as
 * the highest bound (it is "at least" that).
 */
export function quantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  let total = 0;
  for (const n of counts) total += n;
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      if (i >= bounds.length) return bounds.at(-1) ?? null;
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      const hi = bounds[i]!;
      return lo + (hi - lo) * ((rank - below) / n);
    }
    below += n;
  }
  return bounds.at(-1) ?? null;
}

/** a - b, bucket by bucket (a later cumulative reading minus an earlier one). */
export const subtract = (a: readonly number[], b: readonly number[] | undefined): number[] =>
  a.map((n, i) => n - (b?.[i] ?? 0));

/** The sum of several bucket arrays of one length. */
export function addAll(arrays: readonly (readonly number[])[], length: number): number[] {
  const out = new Array<number>(length).fill(0);
  for (const a of arrays) for (let i = 0; i < length; i++) out[i]! += a[i] ?? 0;
  return out;
}
