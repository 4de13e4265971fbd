import { parseAllDocuments, stringify } from 'yaml';

/**
 * The documents `ampora apply -f` reads: YAML with `kind` and `name` and the kind's fields, flat
 * (decision 0352). Checked here before anything is sent, so a typo is a validation error (exit 3),
 * never a half-applied directory.
 */
export const KINDS = ['Configuration', 'Policy', 'LintRule', 'Group', 'GitSource', 'Rollout'] as const;
export type Kind = (typeof KINDS)[number];

export interface Document {
  kind: Kind;
  name: string;
  /** The kind's fields, as written (without kind, name and apiVersion). */
  spec: Record<string, unknown>;
  /** Where it came from: `file.yaml#2`. */
  source: string;
}

export class DocumentError extends Error {}

type FieldType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'version' | 'text';
const FIELDS: Record<Kind, Record<string, FieldType>> = {
  Configuration: { description: 'string', yaml: 'text' },
  Policy: { description: 'string', expression: 'string', submit: 'boolean' },
  LintRule: { description: 'string', expression: 'string', severity: 'string' },
  Group: { description: 'string', selector: 'string', priority: 'number', static: 'boolean', assignment: 'object' },
  GitSource: {
    repositoryUrl: 'string',
    branch: 'string',
    pathGlob: 'string',
    credentialKind: 'string',
    credentialFrom: 'object',
    pollIntervalSeconds: 'number',
    autoPublish: 'boolean',
    groupAssignments: 'array',
  },
  Rollout: {
    configuration: 'string',
    version: 'version',
    group: 'string',
    strategy: 'object',
    gates: 'object',
    ordering: 'string',
    autoAdvance: 'boolean',
    dwellSeconds: 'number',
    start: 'boolean',
  },
};
const REQUIRED: Record<Kind, string[]> = {
  Configuration: ['yaml'],
  Policy: ['expression'],
  LintRule: ['expression', 'severity'],
  Group: [],
  GitSource: ['repositoryUrl'],
  Rollout: ['configuration', 'version', 'group'],
};
const SEVERITIES = ['Error', 'Warning', 'Info'];

function typeOk(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'text':
      return typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value));
    case 'version':
      return value === 'latest' || (typeof value === 'number' && Number.isInteger(value) && value >= 1);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

/** One YAML document (already parsed) as an apply document, or a DocumentError naming the problem. */
export function toDocument(raw: unknown, source: string): Document {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DocumentError(`${source}: a document must be a mapping with kind and name`);
  const { kind, name, apiVersion, ...spec } = raw as Record<string, unknown>;
  if (apiVersion !== undefined && apiVersion !== 'ampora/v1') throw new DocumentError(`${source}: apiVersion ${JSON.stringify(apiVersion)} is not ampora/v1`);
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) throw new DocumentError(`${source}: kind ${JSON.stringify(kind)} is not one of ${KINDS.join(', ')}`);
  if (typeof name !== 'string' || name.trim() === '') throw new DocumentError(`${source}: ${kind} needs a name`);
  const fields = FIELDS[kind as Kind];
  for (const [key, value] of Object.entries(spec)) {
    const type = fields[key];
    if (!type) throw new DocumentError(`${source}: ${kind} ${name}: unknown field ${JSON.stringify(key)} (known: ${Object.keys(fields).join(', ')})`);
    if (!typeOk(value, type)) throw new DocumentError(`${source}: ${kind} ${name}: ${key} must be ${type === 'version' ? 'a version number or "latest"' : type === 'text' ? 'a string or a mapping' : `a ${type}`}`);
  }
  for (const key of REQUIRED[kind as Kind]) if (spec[key] === undefined) throw new DocumentError(`${source}: ${kind} ${name} needs ${key}`);
  if (kind === 'LintRule' && !SEVERITIES.includes(spec.severity as string)) throw new DocumentError(`${source}: LintRule ${name}: severity must be one of ${SEVERITIES.join(', ')}`);
  if (kind === 'Group' && spec.assignment !== undefined) {
    const a = spec.assignment as Record<string, unknown>;
    if (typeof a.configuration !== 'string' || !typeOk(a.version ?? 'latest', 'version')) throw new DocumentError(`${source}: Group ${name}: assignment needs configuration (a name) and version (a number or "latest")`);
  }
  if (kind === 'Group' && spec.static === true && spec.selector !== undefined) throw new DocumentError(`${source}: Group ${name}: a static group has no selector`);
  if (kind === 'Configuration' && typeof spec.yaml !== 'string') spec.yaml = stringify(spec.yaml);
  return { kind: kind as Kind, name: name.trim(), spec, source };
}

/** Every document of a YAML text (a `---` stream); empty documents are skipped. */
export function parseDocuments(text: string, file: string): Document[] {
  const docs: Document[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    if (d.errors.length) throw new DocumentError(`${file}#${i + 1}: ${d.errors[0]!.message}`);
    const raw = d.toJS();
    if (raw === null || raw === undefined) return;
    docs.push(toDocument(raw, `${file}#${i + 1}`));
  });
  return docs;
}

const ORDER: Record<Kind, number> = { Configuration: 0, Policy: 1, LintRule: 2, Group: 3, GitSource: 4, Rollout: 5 };

/** Apply order: what others refer to first (configurations before the groups and rollouts naming them); one name per kind. */
export function orderDocuments(docs: readonly Document[]): Document[] {
  const seen = new Map<string, string>();
  for (const d of docs) {
    const key = `${d.kind}/${d.name.toLowerCase()}`;
    const first = seen.get(key);
    if (first) throw new DocumentError(`${d.source}: ${d.kind} ${d.name} is also defined in ${first}`);
    seen.set(key, d.source);
  }
  return [...docs].sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
}
