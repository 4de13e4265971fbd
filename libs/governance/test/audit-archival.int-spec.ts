import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { Clock, PlatformModule, startTelemetry } from '@ampora/platform';
import { createTestDatabase, TestClock, TestDatabase, testEnv } from '@ampora/testing';
import { AuditRetentionService, GovernanceModule, SweepResult } from '../src';
import { AuditArchiveRepository, MOVE_BATCH_SQL, RETENTION_SESSION_SQL } from '../src/audit/retention/audit-archive.repository';

const DAY = 86_400_000;
const HOT_DAYS = 90;
const ARCHIVE_DAYS = 2555;
/** The issue asks for 10,000; AMPORA_TEST_AUDIT_ROWS scales it (the default runs in a few seconds). */
const ROWS = Number(process.env.AMPORA_TEST_AUDIT_ROWS ?? 10_000);
const BATCH = 250;
const NOW = new Date('2026-12-06T12:00:00.000Z');

/**
 * Audit retention against real PostgreSQL (issue 17 item 4): aged rows of two tenants, two sweepers
 * at once and a third killed in the middle of its batch; nothing lost, nothing duplicated.
 */
describe('audit retention sweep', () => {
  let db: TestDatabase;
  const apps: INestApplication[] = [];
  let sql: Client;
  let tenants: string[];

  async function worker(): Promise<AuditRetentionService> {
    const { config } = testEnv(db.url, { AMPORA_AUDIT_HOT_DAYS: String(HOT_DAYS), AMPORA_AUDIT_ARCHIVE_DAYS: String(ARCHIVE_DAYS), AMPORA_AUDIT_BATCH_SIZE: String(BATCH) });
    startTelemetry(config, 'worker');
    const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), GovernanceModule], providers: [AuditArchiveRepository, AuditRetentionService] })
      .overrideProvider(Clock)
      .useValue(new TestClock(NOW.getTime()))
      .compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    apps.push(app);
    return app.get(AuditRetentionService);
  }

  /** Age in days of row i (0-based): spread over 0..3000 days, plus rows exactly on both boundaries. */
  const ageOf = (i: number) => (i === 0 ? HOT_DAYS : i === 1 ? ARCHIVE_DAYS : (i * 7) % 3001);

  beforeAll(async () => {
    db = await createTestDatabase();
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    await sql.query(`INSERT INTO tenants (name, display_name) VALUES ('second', 'Second')`);
    tenants = (await sql.query<{ id: string }>(`SELECT id FROM tenants ORDER BY name`)).rows.map((r) => r.id);
    await sql.query(
      `INSERT INTO audit_events (tenant_id, actor, entity_type, entity_id, action, occurred_at, additional)
       SELECT (ARRAY[$1, $2]::uuid[])[1 + i % 2], 'seed', 'Thing', i::text, 'Seeded',
              $3::timestamptz - make_interval(days => CASE WHEN i = 0 THEN $5 WHEN i = 1 THEN $6 ELSE (i * 7) % 3001 END),
              jsonb_build_object('i', i)
       FROM generate_series(0, $4 - 1) AS i`,
      [tenants[0], tenants[1], NOW, ROWS, HOT_DAYS, ARCHIVE_DAYS],
    );
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await sql?.end();
    await db?.drop();
  });

  it('moves and purges with two concurrent sweepers and a third killed mid-batch: hot + archive + purged = before, no duplicates', async () => {
    const expectHot = Array.from({ length: ROWS }, (_, i) => ageOf(i)).filter((a) => a <= HOT_DAYS).length;
    const expectPurged = Array.from({ length: ROWS }, (_, i) => ageOf(i)).filter((a) => a > ARCHIVE_DAYS).length;
    expect(expectHot).toBeGreaterThan(0);
    expect(expectPurged).toBeGreaterThan(0);
    const [first, second] = [await worker(), await worker()];

    // the third sweeper: the production batch statement in an open transaction, then its backend dies
    const doomed = new Client({ connectionString: db.url });
    doomed.on('error', () => undefined);
    await doomed.connect();
    const doomedPid = (await doomed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await doomed.query('BEGIN');
    await doomed.query(RETENTION_SESSION_SQL);
    const held = await doomed.query<{ moved: number }>(MOVE_BATCH_SQL, [new Date(NOW.getTime() - HOT_DAYS * DAY), BATCH, NOW]);
    expect(held.rows[0]!.moved).toBe(BATCH);

    const sweeps = Promise.all([first.sweep(), second.sweep()]);
    await new Promise((r) => setTimeout(r, 20));
    await sql.query('SELECT pg_terminate_backend($1)', [doomedPid]);
    const results: SweepResult[] = await sweeps;
    await doomed.end().catch(() => undefined);

    const purged = results.reduce((n, r) => n + r.purged, 0);
    await expectConserved(purged);

    // whatever the killed sweeper held is swept by the next run; then the state is exact
    const last = await first.sweep();
    const totalPurged = purged + last.purged;
    await expectConserved(totalPurged);
    expect(totalPurged).toBe(expectPurged);
    const hot = await sql.query<{ n: number; oldest: Date }>(`SELECT count(*)::int AS n, min(occurred_at) AS oldest FROM audit_events`);
    expect(hot.rows[0]!.n).toBe(expectHot);
    // inclusive windows: the row aged exactly the hot days is still hot, the one aged exactly the archive days still archived
    expect(hot.rows[0]!.oldest.getTime()).toBe(NOW.getTime() - HOT_DAYS * DAY);
    const archive = await sql.query<{ oldest: Date; newest: Date }>(`SELECT min(occurred_at) AS oldest, max(occurred_at) AS newest FROM audit_event_archive`);
    expect(archive.rows[0]!.oldest.getTime()).toBe(NOW.getTime() - ARCHIVE_DAYS * DAY);
    expect(archive.rows[0]!.newest.getTime()).toBeLessThan(NOW.getTime() - HOT_DAYS * DAY);

    // both tenants were swept and counted per tenant
    const archivedByTenant = [...results, last].reduce<Record<string, number>>((acc, r) => {
      for (const [t, n] of Object.entries(r.archivedByTenant)) acc[t] = (acc[t] ?? 0) + n;
      return acc;
    }, {});
    expect(Object.keys(archivedByTenant).sort()).toEqual([...tenants].sort());

    // idempotent: a sweep with nothing aged changes nothing
    expect(await second.sweep()).toMatchObject({ archived: 0, purged: 0 });
    await expectConserved(totalPurged);
  }, 60_000);

  it('keeps both audit tables append-only for the application: no UPDATE, no DELETE outside the retention sweep', async () => {
    await expect(sql.query(`UPDATE audit_events SET actor = 'x'`)).rejects.toThrow(/append-only/);
    await expect(sql.query(`UPDATE audit_event_archive SET actor = 'x'`)).rejects.toThrow(/append-only/);
    await expect(sql.query(`DELETE FROM audit_event_archive`)).rejects.toThrow(/append-only/);
    await expect(sql.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
  });

  async function expectConserved(purged: number): Promise<void> {
    const counts = await sql.query<{ hot: number; archive: number; both: number; seeded: number }>(`
      SELECT (SELECT count(*) FROM audit_events)::int AS hot,
             (SELECT count(*) FROM audit_event_archive)::int AS archive,
             (SELECT count(*) FROM audit_events h JOIN audit_event_archive a ON a.id = h.id)::int AS both,
             (SELECT count(DISTINCT additional->>'i') FROM (SELECT additional FROM audit_events UNION ALL SELECT additional FROM audit_event_archive) s)::int AS seeded`);
    const c = counts.rows[0]!;
    expect(c.both).toBe(0);
    expect(c.hot + c.archive + purged).toBe(ROWS);
    expect(c.seeded).toBe(c.hot + c.archive);
  }
});
