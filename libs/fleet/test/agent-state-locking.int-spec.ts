import { stateUpdateStatement } from '../src/agents/agent-state.statement';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/**
 * The state writer's batched UPDATE locks its agents in id order, as every other writer of many
 * agents does (`lockForChange`: `ORDER BY id FOR UPDATE`), so the two never deadlock. In join order
 * (the batch's own order) it did, under bench:scale's storm of enrolments at 18,000 agents.
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
});
