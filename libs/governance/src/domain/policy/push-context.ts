/**
 * The context a policy sees at push time (issue 17 item 1, decision 0262): the agent, the
 * configuration being pushed (already parsed, within the configuration limits, by the caller) and
 * the tenant. Pure: no Nest, no I/O.
 */

/** One component of a collector configuration: `otlp/prod` → alias `otlp/prod`, type `otlp`. */
export interface ComponentView {
  alias: string;
  type: string;
  props: Record<string, unknown>;
}

export interface PipelineView {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface ConfigView {
  /** The whole configuration document, parsed. */
  yaml: unknown;
  receivers: ComponentView[];
  processors: ComponentView[];
  exporters: ComponentView[];
  /** Pipeline id (`traces`, `metrics/2`) → its component aliases. */
  pipelines: Record<string, PipelineView>;
  /** Conveniences for the language, which has no quantifiers: the types of each section. */
  receiverTypes: string[];
  processorTypes: string[];
  exporterTypes: string[];
}

export interface AgentView {
  id: string;
  /** The agent's OpAMP description (identifying and non-identifying attributes). */
  description: Record<string, unknown>;
  capabilities: string[];
  /** The name of the agent's group, or null. */
  group: string | null;
  labels: Record<string, unknown>;
}

export interface PushContext {
  agent: AgentView;
  config: ConfigView;
  /** The tenant's name. */
  tenant: string;
}

function asMap(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function components(section: unknown): ComponentView[] {
  return Object.entries(asMap(section)).map(([alias, props]) => ({ alias, type: alias.split('/')[0]!, props: asMap(props) }));
}

function names(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The policy view of a parsed collector configuration (anything not a map reads as empty). */
export function configView(document: unknown): ConfigView {
  const doc = asMap(document);
  const receivers = components(doc.receivers);
  const processors = components(doc.processors);
  const exporters = components(doc.exporters);
  const pipelines: Record<string, PipelineView> = {};
  for (const [id, p] of Object.entries(asMap(asMap(doc.service).pipelines))) {
    const m = asMap(p);
    pipelines[id] = { receivers: names(m.receivers), processors: names(m.processors), exporters: names(m.exporters) };
  }
  const types = (list: ComponentView[]) => [...new Set(list.map((c) => c.type))];
  return { yaml: document ?? null, receivers, processors, exporters, pipelines, receiverTypes: types(receivers), processorTypes: types(processors), exporterTypes: types(exporters) };
}
