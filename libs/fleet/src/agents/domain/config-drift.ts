import { CollectorModel, parseCollectorConfig } from '../../configurations/domain/collector-config';
import { SemanticChange, semanticDiff } from '../../configurations/domain/semantic-diff';

/**
 * Drift (pure, decision 0112): an agent is in drift when what it runs is not what it was assigned.
 * The assigned config must be contained in the effective one — every component, key and value the
 * assigned config states is present with the same value, and the pipelines are the same — while keys
 * the Collector filled with defaults and the sections an OpAMP Supervisor adds are not drift (any other
 * component the agent runs beyond the assigned ones is: a local edit). A
 * reported remote config hash other than the assigned one is drift. Either side missing: "unknown".
 */
export type DriftVerdict = boolean | 'unknown';

export interface DriftInput {
  /** config_hash of the assigned config (what the agent reports back when it runs it). */
  assignedHash: string | null;
  assignedContentHash: string | null;
  /** Text of the assigned config (files joined), null when nothing is assigned. */
  assignedText: string | null;
  effectiveContentHash: string | null;
  /** Text of the effective config the agent reported, null when it never did. */
  effectiveText: string | null;
  /** last_remote_config_hash the agent reported ('' or null: none). */
  reportedHash: string | null;
  /** The effective config was too large to analyse: the comparison is unknown. */
  effectiveTooLarge?: boolean;
}

export type DriftDifferenceKind = SemanticChange['kind'] | 'remote_config_hash';

/** One difference between assigned and effective, and whether it counts as drift. */
export interface DriftDifference extends Omit<SemanticChange, 'kind'> {
  kind: DriftDifferenceKind;
  counts: boolean;
  why: string;
}

export interface DriftAssessment {
  drift: DriftVerdict;
  /** Why the verdict is what it is (one line). */
  reason: string;
  /** Every difference found (the full semantic diff plus the hash check), each marked. */
  differences: DriftDifference[];
}

/** Extension types an OpAMP Supervisor adds to what it runs (its OpAMP link and health check). */
export const SUPERVISOR_EXTENSION_TYPES: readonly string[] = ['opamp', 'health_check', 'healthcheckv2'];

const typeOf = (id: string) => id.split('/')[0] ?? id;
const isSupervisorExtension = (id: string) => SUPERVISOR_EXTENSION_TYPES.includes(typeOf(id));
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * Whether `value` is what the Collector makes of `template`, an assigned text with `${...}` placeholders
 * (`${env:PORT}`, `${PORT}`, `${file:/x}`, `${env:A:-b}`) that it resolves at start: each placeholder
 * stands for any text, the literal parts must appear in order. Linear in both texts; no pattern is
 * built from either (decision 0114).
 */
export function matchesTemplate(template: string, value: string): boolean {
  const literals: string[] = [];
  let from = 0;
  for (let at = template.indexOf('${'); at >= 0; at = template.indexOf('${', from)) {
    const end = template.indexOf('}', at + 2);
    if (end < 0) break;
    literals.push(template.slice(from, at));
    from = end + 1;
  }
  if (literals.length === 0) return template === value;
  literals.push(template.slice(from));
  const first = literals[0]!;
  const last = literals[literals.length - 1]!;
  if (first.length + last.length > value.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let cursor = first.length;
  const stop = value.length - last.length;
  for (const middle of literals.slice(1, -1)) {
    const found = value.indexOf(middle, cursor);
    if (found < 0 || found + middle.length > stop) return false;
    cursor = found + middle.length;
  }
  return true;
}

/** Two leaf values are the same setting (YAML scalars compare by their text: 8192 and "8192" agree). */
function sameLeaf(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // an assigned value with placeholders agrees with what the Collector resolved them to
  if (typeof a === 'string' && a.includes('${') && b !== null && b !== undefined && !isRecord(b) && !Array.isArray(b)) return matchesTemplate(a, String(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => contains(v, b[i]).length === 0 && contains(b[i], v).length === 0);
  if (isRecord(a) || isRecord(b) || Array.isArray(a) || Array.isArray(b)) return false;
  if (a === null || a === undefined || b === null || b === undefined) return false;
  return String(a) === String(b);
}

/**
 * Dotted keys `assigned` states that `effective` lacks or holds with another value. An empty or null
 * setting in the assigned config ("otlp: {}", "debug:") is contained in anything.
 */
export function contains(assigned: unknown, effective: unknown, prefix = ''): string[] {
  if (assigned === null || assigned === undefined) return [];
  if (isRecord(assigned)) {
    if (Object.keys(assigned).length === 0) return [];
    if (!isRecord(effective)) return [prefix || '(value)'];
    const out: string[] = [];
    for (const k of Object.keys(assigned).sort()) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (!has(effective, k)) {
        const v = assigned[k];
        if (v === null || (isRecord(v) && Object.keys(v).length === 0)) continue;
        // a setting of a component the agent runs that its report leaves out: the Collector does not
        // write out every setting (debug's `verbosity` is never in its effective config) (decision 0114)
        if (!isRecord(v) && !Array.isArray(v)) continue;
        out.push(key);
      } else out.push(...contains(assigned[k], effective[k], key));
    }
    return out;
  }
  return sameLeaf(assigned, effective) ? [] : [prefix || '(value)'];
}

/** Marks one change of the assigned → effective semantic diff. */
function mark(change: SemanticChange, assigned: CollectorModel, effective: CollectorModel): DriftDifference {
  const yes = (why: string): DriftDifference => ({ ...change, counts: true, why });
  const no = (why: string): DriftDifference => ({ ...change, counts: false, why });
  switch (change.kind) {
    case 'component_added':
      if (change.section === 'extensions' && isSupervisorExtension(change.component ?? '')) return no('added by the OpAMP Supervisor');
      return yes('a component the assigned config does not state (a Collector fills in keys, not components; nor is it one a Supervisor adds)');
    case 'component_removed':
      return yes('the assigned config states this component; the agent does not run it');
    case 'component_changed': {
      const section = change.section!;
      const id = change.component!;
      const wrong = contains(assigned.components[section][id], effective.components[section][id]);
      return wrong.length ? yes(`settings the assigned config states differ or are missing: ${wrong.slice(0, 10).join(', ')}`) : no('only keys the agent filled in with its defaults (or settings its report leaves out)');
    }
    case 'pipeline_added':
    case 'pipeline_removed':
    case 'pipeline_component_added':
    case 'pipeline_component_removed':
    case 'pipeline_order_changed':
      return yes('the pipelines must be the ones assigned');
    case 'extension_enabled':
      return isSupervisorExtension(change.component ?? '') ? no('enabled by the OpAMP Supervisor') : yes('an extension the assigned config does not enable runs');
    case 'extension_disabled':
      return yes('an extension the assigned config enables does not run');
    case 'setting_changed': {
      const service = change.keys?.some((k) => k.key.startsWith('service.'));
      if (service) {
        const { telemetry: _a, ...a } = assigned.service;
        const { telemetry: _b, ...b } = effective.service;
        const wrong = contains(a, b, 'service');
        return wrong.length ? yes(`service settings the assigned config states differ: ${wrong.slice(0, 10).join(', ')}`) : no('service.telemetry is the agent\'s own (a Supervisor sets it), or only defaults were added');
      }
      const wrong = contains(assigned.other, effective.other);
      return wrong.length ? yes(`settings the assigned config states differ: ${wrong.slice(0, 10).join(', ')}`) : no('only keys the agent added');
    }
  }
}

/** The drift of an agent: verdict, reason and every difference marked. One function, so every view agrees. */
export function assessDrift(i: DriftInput): DriftAssessment {
  if (!i.assignedHash || i.assignedText === null) return { drift: 'unknown', reason: 'nothing is assigned to the agent', differences: [] };
  const differences: DriftDifference[] = [];
  const reported = i.reportedHash?.trim().toLowerCase() || null;
  const hashDiffers = reported !== null && reported !== i.assignedHash.trim().toLowerCase();
  if (hashDiffers) {
    differences.push({
      kind: 'remote_config_hash',
      summary: `the agent reports running remote config ${reported.slice(0, 12)}…, not the assigned ${i.assignedHash.trim().slice(0, 12)}…`,
      counts: true,
      why: 'a reported last_remote_config_hash other than the assigned hash',
    });
  }
  const semantic = semanticPart(i);
  differences.push(...semantic.differences);
  if (hashDiffers) return { drift: true, reason: 'the agent reports another remote config hash than the assigned one', differences };
  if (semantic.verdict === 'unknown') return { drift: 'unknown', reason: semantic.reason, differences };
  const counted = differences.filter((d) => d.counts).length;
  return semantic.verdict
    ? { drift: true, reason: `${counted} difference${counted === 1 ? '' : 's'} between the assigned and the effective config count`, differences }
    : { drift: false, reason: semantic.reason, differences };
}

function semanticPart(i: DriftInput): { verdict: DriftVerdict; reason: string; differences: DriftDifference[] } {
  if (i.effectiveText === null) return { verdict: 'unknown', reason: 'the agent has not reported its effective config', differences: [] };
  if (i.effectiveTooLarge) return { verdict: 'unknown', reason: 'the effective config is too large to analyse', differences: [] };
  if (i.assignedContentHash && i.effectiveContentHash && i.assignedContentHash.trim() === i.effectiveContentHash.trim()) {
    return { verdict: false, reason: 'the effective config is the assigned one', differences: [] };
  }
  const assigned = parseCollectorConfig(i.assignedText ?? '').model;
  const effective = parseCollectorConfig(i.effectiveText).model;
  if (!assigned || !effective) {
    return { verdict: 'unknown', reason: `the ${assigned ? 'effective' : 'assigned'} config is not a configuration that can be compared`, differences: [] };
  }
  const differences = semanticDiff(assigned, effective).map((c) => mark(c, assigned, effective));
  // semanticDiff caps the keys it lists: containment is checked on the whole of every assigned component
  for (const section of Object.keys(assigned.components) as Array<keyof CollectorModel['components']>) {
    for (const id of Object.keys(assigned.components[section])) {
      if (!has(effective.components[section], id)) continue;
      const listed = differences.some((d) => d.kind === 'component_changed' && d.section === section && d.component === id);
      const wrong = contains(assigned.components[section][id], effective.components[section][id]);
      if (!listed && wrong.length) differences.push({ kind: 'component_changed', section, component: id, summary: `${section} ${id}: ${wrong.join(', ')} differ`, counts: true, why: 'settings the assigned config states differ' });
    }
  }
  const counts = differences.some((d) => d.counts);
  return { verdict: counts, reason: counts ? 'the effective config does not contain the assigned one' : 'the effective config contains the assigned one (defaults and Supervisor additions aside)', differences };
}
