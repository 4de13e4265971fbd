import { stateUpdateStatement } from '../src/agents/agent-state.statement';
import { AgentRepository } from '../src/agents/agent.repository';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/**
 * The state writer's batched UPDATE locks its agents in id order, as every other writer of many
 * agents does (`lockForChange`: `ORDER BY id FOR NO KEY UPDATE`), so the two never deadlock. In join order
 * (the batch's own order) it did, under bench:scale's storm of enrolments at 18,000 agents. The lock
 * is FOR NO KEY UPDATE (decision 0436), which lets the foreign-key checks of inserts that reference
 * agents through: with FOR UPDATE, such an insert in the writer's transaction deadlocked with a
 * rollout's completion (bench:rollout, 1 s lost to the deadlock timeout).
 */
describe('agent state writer: lock order', () => {
  let kit: FleetKit;
  beforeAll(async () => {
    kit = await startFleetKit();
  });
  afterAll(() => kit.close());

  it('waits behind a transaction that locks the same agents in id order, instead of deadlocking with it', async () => {
    const ids = (await kit.insertAgents([{}, {}])).sort();
    const [low, high] = [ids[0]!, ids[1]!];
    // the batch lists the higher id first: in join order it would lock `high`, then wait for `low`
    const { sql, params } = stateUpdateStatement(['healthy'], [[high, { healthy: true }], [low, { healthy: true }]], 'test-instance');

    const other = kit.ds.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query(`SELECT id FROM agents WHERE id = $1 FOR UPDATE`, [low]);
      const batch = kit.ds.query(sql, params).then(
        () => 'written',
        (error: Error) => `failed: ${error.message}`,
      );
      await new Promise((r) => setTimeout(r, 300));
      // the other transaction goes on in id order; it would be the deadlock's other half
      await other.query(`SET LOCAL deadlock_timeout = '100ms'`);
      await other.query(`SELECT id FROM agents WHERE id = $1 FOR UPDATE`, [high]);
      await other.commitTransaction();
      expect(await batch).toBe('written');
    } finally {
      if (other.isTransactionActive) await other.rollbackTransaction().catch(() => undefined);
      await other.release();
    }
    const rows: Array<{ healthy: boolean }> = await kit.ds.query(`SELECT healthy FROM agents WHERE id = ANY($1::uuid[])`, [ids]);
    expect(rows.map((r) => r.healthy)).toEqual([true, true]);
  });

  it("lets an insert that references locked agents through, so the writer's config events cannot deadlock with a change", async () => {
    const ids = (await kit.insertAgents([{}, {}])).sort();
    const [low, high] = [ids[0]!, ids[1]!];
    const writer = kit.ds.createQueryRunner();
    const change = kit.ds.createQueryRunner();
    await writer.connect();
    await change.connect();
    try {
      // the state writer's transaction: its flush locks `high`
      await writer.startTransaction();
      await writer.query(`SET LOCAL deadlock_timeout = '100ms'`);
      const { sql, params } = stateUpdateStatement(['healthy'], [[high, { healthy: true }]], 'test-instance');
      await writer.query(sql, params);
      // a change of both (a completed rollout handing them back to their group) locks `low`, then waits for `high`
      await change.startTransaction();
      await change.query(`SET LOCAL deadlock_timeout = '100ms'`);
      const locking = kit.app
        .get(AgentRepository)
        .lockForChange(change.manager, kit.tenantId, [high, low])
        .then(
          (locked) => `locked ${locked.length}`,
          (error: Error) => `failed: ${error.message}`,
        );
      await new Promise((r) => setTimeout(r, 300));
      // the writer records a config event of `low`: its foreign-key check must not wait for the change
      await writer.query(`INSERT INTO agent_config_events (tenant_id, agent_id, at, kind, config_hash, message) VALUES ($1, $2, now(), 'APPLIED', repeat('a', 64), NULL)`, [kit.tenantId, low]);
      await writer.commitTransaction();
      expect(await locking).toBe('locked 2');
      await change.commitTransaction();
    } finally {
      for (const r of [writer, change]) {
        if (r.isTransactionActive) await r.rollbackTransaction().catch(() => undefined);
        await r.release();
      }
    }
    expect(await kit.ds.query(`SELECT count(*)::int AS n FROM agent_config_events WHERE agent_id = $1`, [low])).toEqual([{ n: 1 }]);
  });
});
