import { orderAgents, planStep } from './step-planner';
import { Strategy } from './strategy';

const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `a${String(i + from).padStart(3, '0')}`);

/** Runs a strategy step by step over a group that may change between steps. */
function run(strategy: Strategy, groupAtStep: (i: number) => string[], steps: number) {
  const covered = new Set<string>();
  const out: Array<{ added: number; covered: number; last: boolean }> = [];
  for (let i = 0; i < steps; i++) {
    const step = planStep(strategy, i, groupAtStep(i), covered);
    step.agents.forEach((a) => covered.add(a));
    out.push({ added: step.agents.length, covered: covered.size, last: step.last });
    if (step.last) break;
  }
  return out;
}

describe('step planner', () => {
  it('percentage steps are cumulative, rounded up, and the 100 % step covers everyone', () => {
    expect(run({ type: 'Percentage', steps: [5, 25, 50, 100] }, () => ids(40), 4)).toEqual([
      { added: 2, covered: 2, last: false },
      { added: 8, covered: 10, last: false },
      { added: 10, covered: 20, last: false },
      { added: 20, covered: 40, last: true },
    ]);
    // a tiny group: 5 % of 3 still sends one agent
    expect(run({ type: 'Percentage', steps: [5, 100] }, () => ids(3), 2)).toEqual([
      { added: 1, covered: 1, last: false },
      { added: 2, covered: 3, last: true },
    ]);
  });

  it('sizes each step from the group at step start and absorbs late joiners in the next step', () => {
    // 20 agents at step 0, 40 from step 1 on (20 joined during step 0)
    const group = (i: number) => (i === 0 ? ids(20) : ids(40));
    expect(run({ type: 'Percentage', steps: [10, 50, 100] }, group, 3)).toEqual([
      { added: 2, covered: 2, last: false },
      { added: 18, covered: 20, last: false },
      { added: 20, covered: 40, last: true },
    ]);
  });

  it('never re-adds or loses agents when the group shrinks', () => {
    const group = (i: number) => (i === 0 ? ids(10) : ids(10).slice(3));
    const covered = new Set<string>();
    const first = planStep({ type: 'Percentage', steps: [30, 100] }, 0, group(0), covered);
    first.agents.forEach((a) => covered.add(a));
    const second = planStep({ type: 'Percentage', steps: [30, 100] }, 1, group(1), covered);
    expect(second.agents.some((a) => covered.has(a))).toBe(false);
    expect(new Set([...second.agents, ...[...covered].filter((a) => group(1).includes(a))]).size).toBe(7);
    expect(second.last).toBe(true);
  });

  it('batches take the next batch size of uncovered agents, including new members', () => {
    expect(run({ type: 'Batch', batchSize: 5 }, (i) => (i < 2 ? ids(12) : ids(14)), 10)).toEqual([
      { added: 5, covered: 5, last: false },
      { added: 5, covered: 10, last: false },
      { added: 4, covered: 14, last: true },
    ]);
  });

  it('canary steps follow their percentages', () => {
    const canary: Strategy = { type: 'Canary', steps: [{ percent: 5, dwellSeconds: 300 }, { percent: 25, dwellSeconds: 600 }, { percent: 50, dwellSeconds: 1800 }, { percent: 100, dwellSeconds: 0 }] };
    expect(run(canary, () => ids(40), 4).map((s) => s.covered)).toEqual([2, 10, 20, 40]);
  });

  describe('ordering', () => {
    const agents = [
      { id: 'c', hostname: 'node-2', lastSeenAt: new Date(1000) },
      { id: 'a', hostname: 'node-10', lastSeenAt: new Date(3000) },
      { id: 'b', hostname: '', lastSeenAt: null },
      { id: 'd', hostname: 'node-1', lastSeenAt: new Date(2000) },
    ];
    it('by host name (empty last) and by last seen (newest first, never seen last)', () => {
      expect(orderAgents(agents, 'hostname', 'g')).toEqual(['d', 'a', 'c', 'b']);
      expect(orderAgents(agents, 'last_seen', 'g')).toEqual(['a', 'd', 'c', 'b']);
    });
    it('random is deterministic for the same seed, gives the same cohorts, and differs across seeds', () => {
      const many = ids(200).map((id) => ({ id, hostname: id, lastSeenAt: null }));
      const a = orderAgents(many, 'random', 'group-1');
      expect(orderAgents([...many].reverse(), 'random', 'group-1')).toEqual(a);
      expect(orderAgents(many, 'random', 'group-2')).not.toEqual(a);
      expect(a).not.toEqual(many.map((m) => m.id));
      const cohort = (order: string[]) => planStep({ type: 'Percentage', steps: [5, 100] }, 0, order, new Set()).agents;
      expect(cohort(orderAgents(many, 'random', 'group-1'))).toEqual(cohort(a));
    });
  });
});
