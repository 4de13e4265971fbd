import { AvailableComponents, canonicalComponentType, Finding, Section, SECTIONS, singular } from './collector-model';
import { availableFromReport } from './collector-config';

/**
 * Whether an agent has every component a configuration uses (issue 20 item 3, decision 0330). Pure:
 * the catalogue an agent reported (`AvailableComponents`, or where that is all it sends, the component
 * lists of its description), the component types a parsed configuration defines, and what is missing.
 */

/** Description attributes listing an agent's components, one per kind: `otelcol.components.receivers` = "otlp,filelog". */
export const DESCRIPTION_COMPONENTS_PREFIX = 'otelcol.components.';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The agent's catalogue by section: its reported `AvailableComponents` when it sent them, otherwise the
 * `otelcol.components.<kind>` attributes of its description (comma or space separated types, or a
 * list). Undefined when the agent told neither: nothing can be said, so nothing is checked.
 */
export function agentCatalogue(reported: unknown, description: Record<string, unknown> | null | undefined): AvailableComponents | undefined {
  const fromReport = availableFromReport(reported);
  if (fromReport) return fromReport;
  if (!description) return undefined;
  const out: AvailableComponents = {};
  for (const section of SECTIONS) {
    const v = description[DESCRIPTION_COMPONENTS_PREFIX + section];
    const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,]+/) : [];
    const names = list.filter((x): x is string => typeof x === 'string' && x.length > 0);
    if (names.length) out[section] = names;
  }
  return Object.keys(out).length ? out : undefined;
}

/** A component id a configuration defines whose type the agent does not have. */
export interface MissingComponent {
  section: Section;
  /** The id as written (`otlp/2`). */
  id: string;
  /** Its type (`otlp`). */
  type: string;
}

/**
 * The components of a parsed configuration (the YAML as a plain object) whose types the catalogue
 * lacks. A section the catalogue does not mention is not judged (an agent may report some kinds
 * only); an unparseable configuration defines nothing.
 */
export function missingComponents(config: unknown, catalogue: AvailableComponents): MissingComponent[] {
  if (!isRecord(config)) return [];
  const out: MissingComponent[] = [];
  for (const section of SECTIONS) {
    const have = catalogue[section];
    const defined = config[section];
    if (!have || !isRecord(defined)) continue;
    const set = new Set(have.map(canonicalComponentType));
    for (const id of Object.keys(defined)) {
      const type = id.split('/')[0]!;
      if (!set.has(canonicalComponentType(type))) out.push({ section, id, type });
    }
  }
  return out;
}

/** "exporter kafka (exporters.kafka/eu), receiver zipkin (receivers.zipkin)": what a skip's reason names. */
export function describeMissing(missing: readonly MissingComponent[]): string {
  return missing.map((m) => `${singular(m.section)} ${m.type} (${m.section}.${m.id})`).join(', ');
}

/** One agent of a group, as the group validation sees it. */
export interface CatalogueHolder {
  agentId: string;
  catalogue: AvailableComponents | undefined;
}

/** At most this many agent ids are named in one group finding's message. */
const NAMED_AGENTS = 5;

/**
 * Validation of a version against a group: one `COMPONENT_UNAVAILABLE` Error finding per component the
 * configuration uses that some agent of the group lacks, naming how many agents (and the first few);
 * plus one Info finding when agents of the group reported no catalogue (they are not judged).
 */
export function groupComponentFindings(config: unknown, agents: readonly CatalogueHolder[]): Finding[] {
  const lacking = new Map<string, { m: MissingComponent; agents: string[] }>();
  let unknown = 0;
  for (const a of agents) {
    if (!a.catalogue) {
      unknown++;
      continue;
    }
    for (const m of missingComponents(config, a.catalogue)) {
      const key = `${m.section}.${m.id}`;
      const entry = lacking.get(key) ?? { m, agents: [] };
      entry.agents.push(a.agentId);
      lacking.set(key, entry);
    }
  }
  const findings: Finding[] = [...lacking.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, { m, agents: ids }]) => ({
      severity: 'Error' as const,
      code: 'COMPONENT_UNAVAILABLE',
      message: `${ids.length} of ${agents.length} agent(s) of the group do not have ${singular(m.section)} ${m.type} (${ids.slice(0, NAMED_AGENTS).join(', ')}${ids.length > NAMED_AGENTS ? ', …' : ''}); the push would skip them`,
      path,
    }));
  if (unknown > 0) findings.push({ severity: 'Info', code: 'COMPONENTS_UNKNOWN', message: `${unknown} agent(s) of the group reported no available components; they are not checked`, path: '' });
  return findings;
}
