import { parse } from 'yaml';

export interface PipelineModel {
  name: string;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * The pipelines of a Collector configuration (service.pipelines): receivers → processors (in order) →
 * exporters, per pipeline. A document that does not parse has none; a parse error is thrown.
 */
export function pipelinesOf(yamlText: string): PipelineModel[] {
  const doc = parse(yamlText) as { service?: { pipelines?: Record<string, Record<string, unknown> | null> } } | null;
  const pipelines = doc?.service?.pipelines;
  if (!pipelines || typeof pipelines !== 'object') return [];
  return Object.entries(pipelines).map(([name, p]) => ({
    name,
    receivers: names(p?.receivers),
    processors: names(p?.processors),
    exporters: names(p?.exporters),
  }));
}
