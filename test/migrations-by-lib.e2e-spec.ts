import { DataSource } from 'typeorm';
import { buildDataSourceOptions, closeStorage, loadConfig, MIGRATIONS_TABLE, prepareDatabase } from '@ampora/platform';
import { createTestDatabase, TestDatabase } from '@ampora/testing';
import { AMPORA_MIGRATIONS } from '../apps/composition/src';

/**
 * Each lib owns its migrations (issue 14) and the apps compose the list. TypeORM knows an applied
 * migration by its name (and timestamp), so a database migrated before the files moved between libs
 * must find nothing to run. These are the rows such a database holds (main before the move).
 */
const APPLIED_BEFORE_THE_MOVE: Array<[number, string]> = [
  [1764000000000, 'Foundation1764000000000'],
  [1764000001000, 'Agents1764000001000'],
  [1764000002000, 'FleetConfigurationsGroups1764000002000'],
  [1764000003000, 'Backplane1764000003000'],
  [1764000004000, 'Pki1764000004000'],
  [1764000005000, 'Rollouts1764000005000'],
  [1764000006000, 'RolloutDefaults1764000006000'],
  [1764000010000, 'ConfigOutcomes1764000010000'],
  [1764000020000, 'CertificateOffers1764000020000'],
  [1764000040000, 'WorkerHeartbeats1764000040000'],
  [1764000050000, 'AgentOperations1764000050000'],
  [1764000060000, 'EffectiveConfigTooLarge1764000060000'],
];

describe('migrations owned by the libs, composed by the apps', () => {
  it('keeps every already-applied migration under its name, in timestamp order, once', () => {
    const names = AMPORA_MIGRATIONS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    const kept = names.filter((n) => APPLIED_BEFORE_THE_MOVE.some(([, name]) => name === n));
    expect(kept).toEqual(APPLIED_BEFORE_THE_MOVE.map(([, name]) => name));
    const stamps = names.map((n) => Number(/(\d{13})$/.exec(n)![1]));
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });

  describe('on a database holding the rows main wrote', () => {
    let db: TestDatabase;
    let ds: DataSource;

    beforeAll(async () => {
      // the test template was migrated by the same composition; its rows are what main wrote
      db = await createTestDatabase();
      ds = new DataSource(buildDataSourceOptions(loadConfig({ DATABASE_URL: db.url }), { entities: [], migrations: [...AMPORA_MIGRATIONS], extra: { max: 2 } }));
      await ds.initialize();
    });
    afterAll(async () => {
      await ds?.destroy();
      await db?.drop();
    });

    it('holds the rows main wrote and finds no pending migration', async () => {
      const rows: Array<{ timestamp: string; name: string }> = await ds.query(`SELECT timestamp, name FROM ${MIGRATIONS_TABLE} ORDER BY timestamp`);
      const applied = rows.map((r) => [Number(r.timestamp), r.name]);
      expect(applied).toEqual(expect.arrayContaining(APPLIED_BEFORE_THE_MOVE));
      // a database of main (exactly these rows) would see pending ones only among migrations added since
      await ds.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE timestamp > $1`, [APPLIED_BEFORE_THE_MOVE.at(-1)![0]]);
      const added = AMPORA_MIGRATIONS.filter((m) => !APPLIED_BEFORE_THE_MOVE.some(([, name]) => name === m.name));
      const pending = await pendingNames(ds);
      expect(pending).toEqual(added.map((m) => m.name));
    });
  });

  it('migrates an empty database with the composed list, then lists 0 pending', async () => {
    const db = await createTestDatabase({ empty: true });
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'Warning' });
    try {
      const applied = await prepareDatabase(config, AMPORA_MIGRATIONS);
      expect(applied).toEqual(AMPORA_MIGRATIONS.map((m) => m.name));
      const ds = new DataSource(buildDataSourceOptions(config, { entities: [], migrations: [...AMPORA_MIGRATIONS], extra: { max: 2 } }));
      await ds.initialize();
      try {
        expect(await pendingNames(ds)).toEqual([]);
        expect(await ds.showMigrations()).toBe(false);
        expect(await prepareDatabase(config, AMPORA_MIGRATIONS)).toEqual([]);
      } finally {
        await ds.destroy();
      }
    } finally {
      await closeStorage(config);
      await db.drop();
    }
  });
});

/** The migrations TypeORM would run now (it compares the list with the table by name). */
async function pendingNames(ds: DataSource): Promise<string[]> {
  const rows: Array<{ name: string }> = await ds.query(`SELECT name FROM ${MIGRATIONS_TABLE}`);
  const applied = new Set(rows.map((r) => r.name));
  return ds.migrations.map((m) => m.name!).filter((name) => !applied.has(name));
}
