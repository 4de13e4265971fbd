import { CollectorModel, PIPELINE_ROLES, PipelineRole, Section, SECTIONS, singular } from './collector-config';

export type SemanticChangeKind =
  | 'component_added'
  | 'component_removed'
  | 'component_changed'
  | 'pipeline_added'
  | 'pipeline_removed'
  | 'pipeline_component_added'
  | 'pipeline_component_removed'
  | 'pipeline_order_changed'
  | 'extension_enabled'
  | 'extension_disabled'
  | 'setting_changed';

/**
 * One difference between two configurations, by component and pipeline. Values are never included
 * (configurations may hold credentials); `keys` names what changed inside a component.
 */
export interface SemanticChange {
  kind: SemanticChangeKind;
  summary: string;
  section?: Section;
  component?: string;
  pipeline?: string;
  role?: PipelineRole;
  /** For component_changed and setting_changed: dotted keys that were added, removed or changed. */
  keys?: Array<{ key: string; change: 'added' | 'removed' | 'changed' }>;
}

const MAX_KEYS = 50;

type KeyChange = NonNullable<SemanticChange['keys']>[number];

/** Dotted keys whose values differ between two settings trees (lists compare whole). */
function changedKeys(a: unknown, b: unknown, prefix = '', out: KeyChange[] = []): KeyChange[] {
  if (out.length >= MAX_KEYS) return out;
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isMap(a) && isMap(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const key = prefix ? `${prefix}.${k}` : k;
      const inA = Object.prototype.hasOwnProperty.call(a, k);
      const inB = Object.prototype.hasOwnProperty.call(b, k);
      if (!inA) out.push({ key, change: 'added' });
      else if (!inB) out.push({ key, change: 'removed' });
      else changedKeys(a[k], b[k], key, out);
      if (out.length >= MAX_KEYS) break;
    }
    return out;
  }
  if (!sameValue(a, b)) out.push({ key: prefix || '(value)', change: 'changed' });
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => sameValue(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function describeKeys(keys: KeyChange[]): string {
  const shown = keys.slice(0, 5).map((k) => `${k.key} ${k.change}`);
  return keys.length > 5 ? `${shown.join(', ')} and ${keys.length - 5} more` : shown.join(', ');
}

/** The role a component plays in a pipeline list, for messages ("exporter otlp/2", "connector count"). */
function label(model: CollectorModel, role: PipelineRole, id: string): string {
  if (role !== 'processors' && Object.prototype.hasOwnProperty.call(model.components.connectors, id)) return `connector ${id}`;
  return `${singular(role)} ${id}`;
}

const pipelineName = (id: string) => `the ${id} pipeline`;

/**
 * What changed from `from` to `to`, component by component and pipeline by pipeline: "exporter
 * otlp/2 added to the metrics pipeline", "processor batch: timeout changed". Deterministic order:
 * components by section, pipelines by id.
 */
export function semanticDiff(from: CollectorModel, to: CollectorModel): SemanticChange[] {
  const changes: SemanticChange[] = [];
  for (const section of SECTIONS) {
    const a = from.components[section];
    const b = to.components[section];
    for (const id of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const inA = Object.prototype.hasOwnProperty.call(a, id);
      const inB = Object.prototype.hasOwnProperty.call(b, id);
      const what = `${singular(section)} ${id}`;
      if (!inA) changes.push({ kind: 'component_added', section, component: id, summary: `${what} added` });
      else if (!inB) changes.push({ kind: 'component_removed', section, component: id, summary: `${what} removed` });
      else {
        const keys = changedKeys(a[id] ?? {}, b[id] ?? {});
        if (keys.length) changes.push({ kind: 'component_changed', section, component: id, keys, summary: `${what}: ${describeKeys(keys)}` });
      }
    }
  }

  for (const id of [...new Set([...Object.keys(from.pipelines), ...Object.keys(to.pipelines)])].sort()) {
    const a = from.pipelines[id];
    const b = to.pipelines[id];
    if (!a && b) {
      changes.push({ kind: 'pipeline_added', pipeline: id, summary: `pipeline ${id} added (${PIPELINE_ROLES.map((r) => b[r].join(', ') || '-').join(' → ')})` });
      continue;
    }
    if (a && !b) {
      changes.push({ kind: 'pipeline_removed', pipeline: id, summary: `pipeline ${id} removed` });
      continue;
    }
    for (const role of PIPELINE_ROLES) {
      const la = a![role];
      const lb = b![role];
      const sa = new Set(la);
      const sb = new Set(lb);
      for (const c of lb) if (!sa.has(c)) changes.push({ kind: 'pipeline_component_added', pipeline: id, role, component: c, summary: `${label(to, role, c)} added to ${pipelineName(id)}` });
      for (const c of la) if (!sb.has(c)) changes.push({ kind: 'pipeline_component_removed', pipeline: id, role, component: c, summary: `${label(from, role, c)} removed from ${pipelineName(id)}` });
      const keptA = la.filter((c) => sb.has(c));
      const keptB = lb.filter((c) => sa.has(c));
      if (role === 'processors' && keptA.join('\0') !== keptB.join('\0')) {
        changes.push({ kind: 'pipeline_order_changed', pipeline: id, role, summary: `processor order in ${pipelineName(id)} changed: ${keptB.join(' → ')}` });
      }
    }
  }

  const fromExtensions = new Set(from.extensions);
  const toExtensions = new Set(to.extensions);
  for (const e of to.extensions) if (!fromExtensions.has(e)) changes.push({ kind: 'extension_enabled', section: 'extensions', component: e, summary: `extension ${e} enabled` });
  for (const e of from.extensions) if (!toExtensions.has(e)) changes.push({ kind: 'extension_disabled', section: 'extensions', component: e, summary: `extension ${e} disabled` });

  const serviceKeys = changedKeys(from.service, to.service, 'service');
  if (serviceKeys.length) changes.push({ kind: 'setting_changed', keys: serviceKeys, summary: `service settings: ${describeKeys(serviceKeys)}` });
  const otherKeys = changedKeys(from.other, to.other);
  if (otherKeys.length) changes.push({ kind: 'setting_changed', keys: otherKeys, summary: `other settings: ${describeKeys(otherKeys)}` });
  return changes;
}
