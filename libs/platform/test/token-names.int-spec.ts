import { DataSource } from 'typeorm';
import { buildDataSourceOptions, loadConfig } from '@ampora/platform';
import { createTestDatabase, TestDatabase } from '@ampora/testing';
import { AgentOperations1764000050000 } from '../src/database/migrations/1764000050000-agent-operations';

/** The migration that makes token names unique keeps the oldest name and suffixes the later ones. */
describe('migration 1764000050000 and duplicate token names', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(buildDataSourceOptions(loadConfig({ DATABASE_URL: db.url }), { entities: [] }));
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('suffixes duplicates per tenant (first free suffix), then refuses new ones', async () => {
    const migration = new AgentOperations1764000050000();
    const q = ds.createQueryRunner();
    try {
      // the schema as it was before the migration, with the duplicates it allowed
      await migration.down(q);
      const [{ id: tenant }] = await q.query(`SELECT id FROM tenants WHERE name = 'default'`);
      const [{ id: other }] = await q.query(`INSERT INTO tenants (name, display_name) VALUES ('other', 'Other') RETURNING id`);
      const insert = (tenantId: string, name: string, minutesAgo: number) =>
        q.query(`INSERT INTO api_tokens (tenant_id, name, role, token_hash, created_by, created_at) VALUES ($1, $2, 'Viewer', md5(random()::text) || md5(random()::text), 'test', now() - ($3 || ' minutes')::interval) RETURNING id`, [tenantId, name, minutesAgo]);
      const [oldest] = await insert(tenant, 'ci', 30);
      const [middle] = await insert(tenant, 'ci', 20);
      await insert(tenant, 'ci-2', 15);
      const [newest] = await insert(tenant, 'ci', 10);
      const [elsewhere] = await insert(other, 'ci', 5);

      await migration.up(q);
      const names = new Map<string, string>(((await q.query(`SELECT id, name FROM api_tokens`)) as Array<{ id: string; name: string }>).map((r) => [r.id, r.name]));
      expect(names.get(oldest.id)).toBe('ci');
      expect(names.get(middle.id)).toBe('ci-3');
      expect(names.get(newest.id)).toBe('ci-4');
      expect(names.get(elsewhere.id)).toBe('ci');
      await expect(insert(tenant, 'ci', 0)).rejects.toMatchObject({ code: '23505', constraint: 'ux_api_tokens_tenant_name' });
    } finally {
      await q.release();
    }
  });
});
