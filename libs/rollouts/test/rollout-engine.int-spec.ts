import type { AgentObservation } from '@ampora/rollouts';
import { JobProducer } from '@ampora/platform';
import { RolloutObserver } from '../src/rollout-observer.service';
import { RolloutRepository } from '../src/persistence/rollout.repository';
import { BUSY_RETRY_MS, ROLLOUTS_QUEUE, SCHEDULED_TICK } from '../src/rollouts.jobs';
import { startRolloutKit, RolloutKit } from './rollout-test-kit';

// The engine's gate verdict must be domain/gates' evaluateStepGates: wrapped here so the test sees
// every call and can dictate a verdict (a SQL copy deciding instead would be invisible to this mock).
jest.mock('../src/domain/gates', () => {
  const actual = jest.requireActual('../src/domain/gates');
  return { ...actual, evaluateStepGates: jest.fn(actual.evaluateStepGates) };
});
const gates = jest.requireMock<{ evaluateStepGates: jest.Mock }>('../src/domain/gates');

const SECOND = 1000;

describe('the rollout engine on the Clock (TestClock: no sleeping)', () => {
  let kit: RolloutKit;

  beforeAll(async () => {
    kit = await startRolloutKit();
  });
  afterAll(() => kit.close());
  beforeEach(() => gates.evaluateStepGates.mockClear());

  const observe = (agents: string[], o: (agentId: string) => AgentObservation) => kit.engine.observe(new Map(agents.map((id) => [id, o(id)])));
  const applied = (hash: string) => (): AgentObservation => ({ remoteConfig: { status: 'APPLIED', hash, at: kit.clock.now() } });
  const detail = async (id: string) => kit.rollouts.get(kit.operator.tenantId, id);

  async function started(count: number, body: Record<string, unknown>) {
    const f = await kit.fleet(count);
    const r = await kit.as(() =>
      kit.rollouts.create(kit.operator, { name: `r-${count}`, configurationId: f.configurationId, version: f.v2.number, groupId: f.groupId, dwellSeconds: 0, ...body } as never),
    );
    await kit.as(() => kit.rollouts.start(kit.operator, r.id));
    return { ...f, id: r.id };
  }

  /** Agents the engine pushed the version to (fleet's own pushes of the group's v1 left out). */
  const pushedV2 = (f: { agents: string[]; v2: { configHash: string } }) => kit.dispatcher.pushes.filter((p) => p.hash === f.v2.configHash && f.agents.includes(p.agentId)).map((p) => p.agentId);

  it('waits out a canary dwell on the clock, then starts the next step', async () => {
    const f = await started(4, { strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 300 }, { percent: 100, dwellSeconds: 0 }] } });
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    const step0 = pushedV2(f);
    expect(step0).toHaveLength(2);
    await observe(step0, applied(f.v2.configHash));
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    const dwelling = await detail(f.id);
    expect(dwelling.steps[0]).toMatchObject({ settledAt: kit.clock.now().toISOString(), dwellUntil: new Date(kit.clock.nowMs() + 300 * SECOND).toISOString() });

    await kit.clock.advance(299 * SECOND);
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    expect((await detail(f.id)).currentStep).toBe(0);

    await kit.clock.advance(2 * SECOND);
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    const step1 = (await detail(f.id)).steps[1]!;
    expect(step1).toMatchObject({ index: 1, agents: 2, startedAt: kit.clock.now().toISOString() });
    const rest = pushedV2(f).filter((id) => !step0.includes(id));
    expect(rest).toHaveLength(2);
    await observe(rest, applied(f.v2.configHash));
    expect(await kit.engine.drive(f.id)).toBe('completed');
    expect(await detail(f.id)).toMatchObject({ state: 'Completed', finishedAt: kit.clock.now() });
  });

  it('fails targets without an answer once the apply timeout ran out on the clock, and the apply-failed gate pauses', async () => {
    const f = await started(3, { strategy: { type: 'Percentage', steps: [100] }, gates: { applyTimeoutSeconds: 60 } });
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    await kit.clock.advance(59 * SECOND);
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    await kit.clock.advance(2 * SECOND);
    expect(await kit.engine.drive(f.id)).toBe('paused');
    const r = await detail(f.id);
    expect(r).toMatchObject({ state: 'Paused', gate: { gate: 'apply-failed-ratio', numerator: 3, denominator: 3, observed: 1, step: 0, at: kit.clock.now().toISOString() } });
    const summary = await kit.rollouts.detail(r);
    expect(summary.counts).toMatchObject({ failed: 3, applying: 0 });
  });

  it("judges the unhealthy gate's timeout on the engine's clock, not the database's", async () => {
    // the clock stands months before the database's now(): a window measured with now() would be over at once
    const f = await started(4, { strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 3600 }, { percent: 100, dwellSeconds: 0 }] }, gates: { unhealthyTimeoutSeconds: 120 } });
    await kit.engine.drive(f.id);
    const step0 = pushedV2(f);
    await observe(step0, (id) => ({ ...applied(f.v2.configHash)(), healthy: id !== step0[0] }));
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    await kit.clock.advance(119 * SECOND);
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    expect((await detail(f.id)).state).toBe('InProgress');
    await kit.clock.advance(2 * SECOND);
    expect(await kit.engine.drive(f.id)).toBe('paused');
    expect((await detail(f.id)).gate).toMatchObject({ gate: 'unhealthy-ratio', numerator: 1, denominator: 2, agents: [step0[0]] });
    // what the engine asked the domain: the step's pushed count, its troubled targets, the clock's time
    const [pushed, troubled, now] = gates.evaluateStepGates.mock.calls.at(-1)!;
    expect({ pushed, troubled: troubled.map((t: { agentId: string }) => t.agentId), now }).toEqual({ pushed: 2, troubled: [step0[0]], now: kit.clock.nowMs() });
  });

  it("pauses on domain/gates' verdict and on nothing else", async () => {
    const f = await started(4, { strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 3600 }, { percent: 100, dwellSeconds: 0 }] } });
    await kit.engine.drive(f.id);
    const step0 = pushedV2(f);
    await observe(step0, applied(f.v2.configHash));
    expect(await kit.engine.drive(f.id)).toBe('waiting');
    expect(gates.evaluateStepGates).toHaveBeenCalled();
    // every agent is healthy and applied: only the domain's verdict can pause the rollout now
    gates.evaluateStepGates.mockReturnValueOnce({ gate: 'disconnect-ratio', observed: 0.5, threshold: 0.2, numerator: 1, denominator: 2, agents: [step0[1]] });
    expect(await kit.engine.drive(f.id)).toBe('paused');
    expect((await detail(f.id)).gate).toMatchObject({ gate: 'disconnect-ratio', observed: 0.5, numerator: 1, denominator: 2, agents: [step0[1]] });
  });

  it('starts a step\'s targets from the inventory, pushes them without catching up first, and leaves the catch-up to the tick that settles them (decisions 0434, 0438)', async () => {
    const f = await kit.fleet(3);
    // what the agents reported before the rollout: one unhealthy, all running v1's content
    await kit.ds.query(`UPDATE agents SET healthy = (id <> $2), effective_config_hash = repeat('a', 64) WHERE id = ANY($1::uuid[])`, [f.agents, f.agents[0]]);
    const r = await kit.as(() => kit.rollouts.create(kit.operator, { name: 'inventory', configurationId: f.configurationId, version: f.v2.number, groupId: f.groupId, dwellSeconds: 0, strategy: { type: 'Percentage', steps: [100] } } as never));
    await kit.as(() => kit.rollouts.start(kit.operator, r.id));
    // the catch-up does nothing here: what the rows say after the tick, the step wrote when it planned them
    const reconcile = jest.spyOn(kit.app.get(RolloutObserver), 'reconcile').mockResolvedValue(undefined);
    try {
      expect(await kit.engine.drive(r.id)).toBe('waiting');
      expect(pushedV2(f).sort()).toEqual([...f.agents].sort());
      // none between planning the step and pushing it, none while its answers are due
      expect(reconcile).not.toHaveBeenCalled();
      // the next tick catches up
      expect(await kit.engine.drive(r.id)).toBe('waiting');
      expect(reconcile).toHaveBeenCalledTimes(1);
    } finally {
      reconcile.mockRestore();
    }
    const rows: Array<{ agent_id: string; healthy: boolean | null; effective_matches: boolean | null; state: string }> = await kit.ds.query(
      `SELECT agent_id, healthy, effective_matches, state FROM rollout_targets WHERE rollout_id = $1`,
      [r.id],
    );
    expect(rows.map((t) => ({ agent: t.agent_id, healthy: t.healthy, matches: t.effective_matches, state: t.state })).sort((a, b) => a.agent.localeCompare(b.agent))).toEqual(
      f.agents.map((agent) => ({ agent, healthy: agent !== f.agents[0], matches: false, state: 'Applying' })).sort((a, b) => a.agent.localeCompare(b.agent)),
    );
  });

  it('asks again shortly for a tick that found the lease taken, unless the schedule asked for it (decision 0437)', async () => {
    const f = await started(2, { strategy: { type: 'Percentage', steps: [100] } });
    const queue = kit.app.get(JobProducer).queue(ROLLOUTS_QUEUE.name);
    const retries = async () => (await queue.getDelayed()).filter((j) => j.data?.payload?.rolloutId === f.id && j.data.payload.reason !== SCHEDULED_TICK);
    const before = (await retries()).length;
    // another worker's tick holds the rollout (it may have looked before the event that asked for this one)
    expect(await kit.app.get(RolloutRepository).acquireLease(f.id, 'another-worker/1', 30)).toBe(true);
    expect(await kit.engine.drive(f.id, SCHEDULED_TICK)).toBe('busy');
    expect(await retries()).toHaveLength(before);
    expect(await kit.engine.drive(f.id, 'step settled')).toBe('busy');
    expect(await kit.engine.drive(f.id, 'step settled')).toBe('busy');
    // once per interval, however many ask
    const asked = await retries();
    expect(asked).toHaveLength(before + 1);
    expect(asked.at(-1)).toMatchObject({ name: ROLLOUTS_QUEUE.jobs.tick, opts: { delay: BUSY_RETRY_MS }, data: { payload: { rolloutId: f.id, reason: 'step settled' } } });
    // the retry, finding the lease taken again, asks for the next interval's
    await kit.clock.advance(BUSY_RETRY_MS);
    expect(await kit.engine.drive(f.id, 'step settled')).toBe('busy');
    expect(await retries()).toHaveLength(before + 2);
    await Promise.all((await retries()).map((j) => j.remove()));
  });

  it('judges at once, in the tick that pushed them, agents that already ran the version and send no answer (decision 0438)', async () => {
    const f = await kit.fleet(2);
    // both already report the version applied (a Supervisor that restored it, an agent assigned it directly before)
    await kit.ds.query(`UPDATE agents SET remote_config_status = 'APPLIED', remote_config_hash = $2, remote_config_at = now() WHERE id = ANY($1::uuid[])`, [f.agents, f.v2.configHash]);
    for (const id of f.agents) kit.dispatcher.alreadyThere.add(id);
    try {
      const r = await kit.as(() => kit.rollouts.create(kit.operator, { name: 'already', configurationId: f.configurationId, version: f.v2.number, groupId: f.groupId, dwellSeconds: 0, strategy: { type: 'Percentage', steps: [100] } } as never));
      await kit.as(() => kit.rollouts.start(kit.operator, r.id));
      expect(await kit.engine.drive(r.id)).toBe('completed');
      expect((await kit.rollouts.detail(await detail(r.id))).counts).toMatchObject({ applied: 2, applying: 0, pending: 0 });
    } finally {
      kit.dispatcher.alreadyThere.clear();
    }
  });
});
