/**
 * What apply does with one document, given what the server holds: pure, so `apply`, `diff` and the
 * dry runs agree and the rules are unit-tested. The IO around it resolves names to ids first.
 */
export type Action = 'create' | 'update' | 'unchanged';

export interface Plan {
  action: Action;
  /** Fields that differ (update), or what else happens (`new version`, `publish v3`). */
  changes: string[];
}

/** Equal as data: key order and absent-vs-undefined do not matter. */
export function sameData(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** Fields of `desired` (those it sets) whose value differs from `current`; gates and the like compare as a subset. */
export function changedFields(desired: Record<string, unknown>, current: Record<string, unknown>): string[] {
  return Object.keys(desired).filter((k) => desired[k] !== undefined && !sameData(desired[k], current[k]));
}

export function planFields(desired: Record<string, unknown>, current: Record<string, unknown> | null): Plan {
  if (!current) return { action: 'create', changes: [] };
  const changes = changedFields(desired, current);
  return { action: changes.length ? 'update' : 'unchanged', changes };
}

export interface ConfigurationState {
  description: string;
  latestVersion: number;
  /** Text and status of the latest version (null: no version yet). */
  latest: { yaml: string; status: string } | null;
}

/**
 * A configuration: a new text is a new Draft version (published with --publish); the same text as
 * the latest version is unchanged, unless --publish finds that version still a Draft.
 */
export function planConfiguration(desired: { yaml: string; description?: string }, current: ConfigurationState | null, publish: boolean): Plan {
  if (!current) return { action: 'create', changes: publish ? ['version 1', 'publish'] : ['version 1'] };
  const changes: string[] = [];
  if (desired.description !== undefined && desired.description !== current.description) changes.push('description');
  if (!current.latest || current.latest.yaml !== desired.yaml) {
    changes.push(`version ${current.latestVersion + 1}`);
    if (publish) changes.push('publish');
  } else if (publish && current.latest.status === 'Draft') {
    changes.push(`publish version ${current.latestVersion}`);
  }
  return { action: changes.length ? 'update' : 'unchanged', changes };
}

/** A rollout is never changed once created: the same name with another target is a conflict. */
export function planRollout(desired: { configurationId: string; version: number; groupId: string }, current: { configurationId: string; version: number; groupId: string } | null): Plan & { conflict?: string } {
  if (!current) return { action: 'create', changes: [] };
  const differs = (['configurationId', 'version', 'groupId'] as const).filter((k) => desired[k] !== current[k]);
  if (differs.length === 0) return { action: 'unchanged', changes: [] };
  return { action: 'unchanged', changes: [], conflict: `a rollout with this name exists for another ${differs.map((k) => k.replace('Id', '')).join(' and ')}; rollouts do not change, give the new one a new name` };
}

/** The line apply prints for a document: `configuration/edge created`, `group/edge unchanged`. */
export function planLine(kind: string, name: string, plan: Plan, dryRun: string | null): string {
  const verb = plan.action === 'create' ? 'created' : plan.action === 'update' ? 'configured' : 'unchanged';
  const detail = plan.changes.length ? ` (${plan.changes.join(', ')})` : '';
  return `${kind.toLowerCase()}/${name} ${verb}${detail}${dryRun && plan.action !== 'unchanged' ? ` (dry run: ${dryRun})` : ''}`;
}
