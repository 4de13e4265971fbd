/** Prometheus histogram helpers: cumulative buckets from `/metrics` text, differences, quantiles. */

/** Cumulative bucket counts of `name` by upper bound, summed over every label set. */
export function histogramBuckets(text: string, name: string): Map<number, number> {
  const merged = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const bound = le === '+Inf' ? Infinity : Number(le);
    const count = Number(line.slice(line.lastIndexOf('}') + 1).trim().split(' ')[0]);
    merged.set(bound, (merged.get(bound) ?? 0) + count);
  }
  return merged;
}

/** after − before, bucket by bucket (what was observed between two scrapes). */
export function bucketDifference(after: Map<number, number>, before: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const [le, count] of after) out.set(le, count - (before.get(le) ?? 0));
  return out;
}

export const bucketTotal = (buckets: Map<number, number>) => buckets.get(Infinity) ?? Math.max(0, ...buckets.values());

/** The q-quantile (0–1) estimated from cumulative buckets, linear within a bucket (as PromQL does). */
export function bucketQuantile(buckets: Map<number, number>, q: number): number {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = bucketTotal(buckets);
  if (!total) return NaN;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= q * total) {
      if (le === Infinity) return prevLe;
      return prevLe + ((q * total - prevCount) / Math.max(1, count - prevCount)) * (le - prevLe);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}
