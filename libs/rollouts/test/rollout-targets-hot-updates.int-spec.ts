import { tableUpdates } from '@ampora/testing';
import { startRolloutKit, RolloutKit } from './rollout-test-kit';

/**
 * Decision 0433: a target's rows are written several times in a step (assigned, pushed, Applied) and
 * none of those writes touches an indexed column, so each can be an update in place (HOT) when the
 * page has room for the row's next version (fillfactor 50). With the default fill, the targets of a
 * step are inserted packed and not one of these updates was HOT.
 */
describe('rollout targets: the engine updates them in place', () => {
  let kit: RolloutKit;
  beforeAll(async () => {
    kit = await startRolloutKit();
  });
  afterAll(() => kit.close());

  it('keeps what the engine writes to a target out of every index of rollout_targets, and room on its pages', async () => {
    const defs: Array<{ def: string }> = await kit.ds.query(`SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'rollout_targets'::regclass`);
    expect(defs.length).toBeGreaterThanOrEqual(3);
    for (const { def } of defs) expect(def).not.toMatch(/\b(state|reason|assigned|assigned_at|pushed_at|applied_at|disconnected_at|recovered|healthy|effective_matches|updated_at)\b/);
    const [{ options }]: Array<{ options: string[] | null }> = await kit.ds.query(`SELECT reloptions AS options FROM pg_class WHERE oid = 'rollout_targets'::regclass`);
    expect(options).toContain('fillfactor=50');
  });

  it('assigns, pushes and settles a step of 1,000 agents mostly with HOT updates', async () => {
    // an ANALYZE by autovacuum holds a snapshot, which keeps the old versions from being pruned while it runs
    await kit.ds.query(`ALTER TABLE rollout_targets SET (autovacuum_enabled = false)`);
    const f = await kit.fleet(1000);
    const r = await kit.as(() =>
      kit.rollouts.create(kit.operator, { name: 'hot', configurationId: f.configurationId, version: f.v2.number, groupId: f.groupId, dwellSeconds: 0, strategy: { type: 'Percentage', steps: [100] } } as never),
    );
    await kit.as(() => kit.rollouts.start(kit.operator, r.id));
    const start = await tableUpdates(kit.ds, 'rollout_targets');
    // the step: targets inserted, each assigned and pushed (two updates per target)
    expect(await kit.engine.drive(r.id)).toBe('waiting');
    // every agent answers APPLIED: a third
    const at = kit.clock.now();
    expect(await kit.engine.observe(new Map(f.agents.map((id) => [id, { remoteConfig: { status: 'APPLIED', hash: f.v2.configHash, at } }])))).toBe(1000);
    const after = await tableUpdates(kit.ds, 'rollout_targets', start.all + 3000);
    expect(after.all - start.all).toBeGreaterThanOrEqual(3000);
    // with the default fill none was
    expect(after.hot - start.hot).toBeGreaterThanOrEqual(0.4 * (after.all - start.all));
  });
});
