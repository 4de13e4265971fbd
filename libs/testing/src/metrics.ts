/**
 * The value of a Prometheus series from `/metrics` text: the sum over every series of `name` whose
 * labels include `labels` (0 when there is none).
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const brace = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const labelText = brace >= 0 && brace < close ? line.slice(brace + 1, close) : '';
    const got: Record<string, string> = {};
    for (const m of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(line.slice(close >= 0 ? close + 1 : name.length).trim().split(' ')[0]);
  }
  return sum;
}

export async function scrape(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`);
  return res.text();
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 10000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Reads a metric of THIS process straight from the Prometheus reader (for in-process servers): the
 * sum over data points whose attributes include `labels`; for histograms, their count.
 */
export async function collectMetric(name: string, labels: Record<string, string> = {}): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prometheusExporter } = require('@ampora/platform') as typeof import('@ampora/platform');
  const { resourceMetrics } = await prometheusExporter().collect();
  let sum = 0;
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: number | { count: number } }>) {
        if (!Object.entries(labels).every(([k, v]) => point.attributes[k] === v)) continue;
        sum += typeof point.value === 'number' ? point.value : point.value.count;
      }
    }
  }
  return sum;
}
