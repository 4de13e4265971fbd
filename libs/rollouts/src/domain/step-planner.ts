import { createHash } from 'node:crypto';
import { Strategy } from './strategy';

export type Ordering = 'random' | 'hostname' | 'last_seen';

export interface Candidate {
  id: string;
  hostname: string;
  lastSeenAt: Date | null;
}

/**
 * Deterministic order of a group's agents. `random` is a hash of (seed, agent id): stable for the same
 * seed (the group), so the same group and steps give the same cohorts across rollouts; `hostname`
 * sorts by host name; `last_seen` puts the most recently seen first. Ties fall back to the id.
 */
export function orderAgents(agents: Candidate[], ordering: Ordering, seed: string): string[] {
  const byId = (a: Candidate, b: Candidate) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const list = [...agents];
  if (ordering === 'hostname') {
    list.sort((a, b) => (a.hostname && b.hostname ? a.hostname.localeCompare(b.hostname) : a.hostname ? -1 : b.hostname ? 1 : 0) || byId(a, b));
  } else if (ordering === 'last_seen') {
    list.sort((a, b) => (b.lastSeenAt?.getTime() ?? -Infinity) - (a.lastSeenAt?.getTime() ?? -Infinity) || byId(a, b));
  } else {
    const key = new Map(list.map((a) => [a.id, createHash('sha256').update(seed).update('\0').update(a.id).digest('hex')]));
    list.sort((a, b) => (key.get(a.id)! < key.get(b.id)! ? -1 : key.get(a.id)! > key.get(b.id)! ? 1 : 0));
  }
  return list.map((a) => a.id);
}

export interface PlannedStep {
  index: number;
  /** Agents this step adds (in order). */
  agents: string[];
  /** Agents of the group the rollout covers once this step is done (cumulative target). */
  cumulative: number;
  last: boolean;
}

/**
 * The agents of step `index`, from the group as it is now (`ordered`, already ordered) and the agents
 * earlier steps covered. Percentage and Canary steps are sized from the group at step start
 * (cumulatively, rounding up so a step never comes out empty): agents that joined since are absorbed by
 * this step, and the 100 % step covers everyone. Batches take the next `batchSize` uncovered agents.
 */
export function planStep(strategy: Strategy, index: number, ordered: string[], covered: ReadonlySet<string>): PlannedStep {
  const uncovered = ordered.filter((id) => !covered.has(id));
  if (strategy.type === 'Batch') {
    const agents = uncovered.slice(0, strategy.batchSize);
    return { index, agents, cumulative: ordered.length - uncovered.length + agents.length, last: uncovered.length <= strategy.batchSize };
  }
  const percents = strategy.type === 'Percentage' ? strategy.steps : strategy.steps.map((s) => s.percent);
  const percent = percents[Math.min(index, percents.length - 1)]!;
  const last = index >= percents.length - 1;
  const cumulative = last ? ordered.length : Math.ceil((percent / 100) * ordered.length);
  const alreadyCovered = ordered.length - uncovered.length;
  const agents = uncovered.slice(0, Math.max(0, cumulative - alreadyCovered));
  return { index, agents, cumulative: Math.max(cumulative, alreadyCovered), last };
}
