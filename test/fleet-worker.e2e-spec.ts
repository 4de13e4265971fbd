import { Client } from 'pg';
import { createTestDatabase, eventually, startProcess, TestDatabase, testEnv } from '@ampora/testing';

/**
 * The built worker process: its job scheduler reconciles dynamic groups every
 * AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS, with nothing else running.
 */
describe('the worker process reconciles dynamic groups on its schedule', () => {
  let db: TestDatabase;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });
  afterAll(async () => {
    await pg.end();
    await db.drop();
  });

  it('places agents whose labels match, audited as the system', async () => {
    const { rows: [tenant] } = await pg.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'default'`);
    const { rows: [group] } = await pg.query<{ id: string }>(
      `INSERT INTO groups (tenant_id, name, kind, selector, created_by) VALUES ($1, 'eu', 'Dynamic', 'region in ("eu-1", "eu-2")', 'test') RETURNING id`,
      [tenant!.id],
    );
    const { rows: agents } = await pg.query<{ id: string; region: string }>(
      `INSERT INTO agents (tenant_id, instance_uid, identity_kind, labels)
       SELECT $1, gen_random_uuid(), 'token', jsonb_build_object('region', 'eu-' || (n % 3)) FROM generate_series(1, 30) AS n
       RETURNING id, labels->>'region' AS region`,
      [tenant!.id],
    );
    const { env } = testEnv(db.url, { AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS: '1', AMPORA_AUTO_MIGRATE: 'false' });
    const worker = startProcess('worker', env);
    try {
      await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 60000);
      await eventually(async () => {
        const { rows } = await pg.query<{ n: string }>(`SELECT count(*) AS n FROM agents WHERE group_id = $1`, [group!.id]);
        return Number(rows[0]!.n) === agents.filter((a) => a.region !== 'eu-0').length;
      }, 30000);
      const { rows: outside } = await pg.query(`SELECT id FROM agents WHERE labels->>'region' = 'eu-0' AND group_id IS NOT NULL`);
      expect(outside).toEqual([]);
      const { rows: audit } = await pg.query<{ actor: string; additional: { addedCount: number } }>(`SELECT actor, additional FROM audit_events WHERE entity_id = $1 AND action = 'MembershipReconciled'`, [group!.id]);
      expect(audit.map((a) => a.actor)).toEqual(['system']);
      expect(audit[0]!.additional.addedCount).toBe(20);
    } finally {
      expect(await worker.stop()).toBe(0);
    }
  });
});
