import { createHash } from 'node:crypto';

/**
 * `agent.force-push` under tenant approval rules (decision 0402). Pure: what a rule's condition
 * reads about a bulk force-push, and the id its approval request is filed under.
 */

export interface ForcePushAgent {
  id: string;
  labels: Record<string, unknown>;
  groupName: string | null;
  configurationName: string | null;
}

export interface ForcePushContext {
  /** count; ids (sorted); groups: the distinct group names; labels: per label key, its distinct values (as strings). */
  agents: { count: number; ids: string[]; groups: string[]; labels: Record<string, string[]> };
  /** The distinct names of the configurations assigned to the agents (by a Published version). */
  configurations: string[];
}

export function forcePushContext(agents: readonly ForcePushAgent[]): ForcePushContext {
  const groups = new Set<string>();
  const configurations = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const a of agents) {
    if (a.groupName !== null) groups.add(a.groupName);
    if (a.configurationName !== null) configurations.add(a.configurationName);
    for (const [key, value] of Object.entries(a.labels)) {
      if (value === null || value === undefined || typeof value === 'object') continue;
      let values = labels.get(key);
      if (!values) labels.set(key, (values = new Set()));
      values.add(String(value));
    }
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    agents: { count: agents.length, ids: agents.map((a) => a.id).sort(), groups: sorted(groups), labels: Object.fromEntries([...labels].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => [k, sorted(v)])) },
    configurations: sorted(configurations),
  };
}

/** The entity id of a force-push's approval request: the same agents (in any order) are the same request. */
export function forcePushSetId(agentIds: readonly string[]): string {
  return createHash('sha256').update([...new Set(agentIds)].sort().join(',')).digest('hex');
}
