import { DataSource } from 'typeorm';
import { buildDataSourceOptions, loadConfig } from '@ampora/platform';
import { createTestDatabase, findFiles, REPO_ROOT, TestDatabase } from '@ampora/testing';

/**
 * The migrations are the schema; the entities describe it. If they ever disagree, TypeORM's schema
 * builder would want to change something, and this test names what.
 */
describe('entities and migrations agree', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    const files = findFiles(REPO_ROOT, /^libs\/[^/]+\/src\/.*\.entity\.ts$/);
    expect(files.length).toBeGreaterThan(2);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const entities = files.flatMap((f) => Object.values(require(f) as Record<string, unknown>)).filter((v) => typeof v === 'function') as Array<new () => unknown>;
    ds = new DataSource(buildDataSourceOptions(loadConfig({ DATABASE_URL: db.url }), { entities }));
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('leaves nothing for synchronize to do', async () => {
    const pending = await ds.driver.createSchemaBuilder().log();
    // Foreign keys to another lib's table (tenants, agents, configurations, ...) live in the migrations only:
    // an entity never names another lib's entity (issue 14, scripts/architecture/tables.spec.ts).
    const crossLib = /^ALTER TABLE "\w+" DROP CONSTRAINT "fk_\w+_(tenant|agent|configuration|version|group)"$/;
    expect(pending.upQueries.map((q) => q.query).filter((q) => !crossLib.test(q))).toEqual([]);
  });
});
