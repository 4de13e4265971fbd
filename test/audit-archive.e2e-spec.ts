import { Client } from 'pg';
import { JobProducer } from '@ampora/platform';
import { AUDIT_ARCHIVAL_QUEUE, AUDIT_SWEEP_SCHEDULER_ID, AuditRetentionService } from '@ampora/governance';
import { metricValue, scrape } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

/** `GET /api/audit/events?includeArchive=true` (issue 17 item 4): Admin only, and itself audited. */
describe('reading the audit archive', () => {
  let server: TestServer;
  let sql: Client;

  beforeAll(async () => {
    server = await startTestServer({ withWorker: true, env: { AMPORA_AUDIT_SWEEP_MINUTES: '15' } });
    sql = new Client({ connectionString: server.db.url });
    await sql.connect();
    const { rows } = await sql.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'default'`);
    await sql.query(
      `INSERT INTO audit_event_archive (id, tenant_id, actor, entity_type, entity_id, action, occurred_at)
       VALUES (gen_random_uuid(), $1, 'old-actor', 'Thing', 'ancient', 'Seeded', now() - interval '400 days')`,
      [rows[0]!.id],
    );
  });
  afterAll(async () => {
    await sql?.end();
    await server?.close();
  });

  it('registers the sweep on the audit-archival queue as a job scheduler every AMPORA_AUDIT_SWEEP_MINUTES', async () => {
    const scheduler = await server.app.get(JobProducer).queue(AUDIT_ARCHIVAL_QUEUE.name).getJobScheduler(AUDIT_SWEEP_SCHEDULER_ID);
    expect(scheduler).toMatchObject({ name: 'audit-archival.sweep', every: 15 * 60_000 });
  });

  it('leaves archived events out by default', async () => {
    const res = await server.as().get('/api/audit/events?entityId=ancient').expect(200);
    expect(res.body.items).toEqual([]);
  });

  it('refuses the archive to an Operator with 403 FORBIDDEN', async () => {
    const operator = await createToken(server, 'Operator');
    const res = await server.as(operator).get('/api/audit/events?includeArchive=true').expect(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('answers an Admin with archived events marked as such, and audits the read with its query', async () => {
    const res = await server.as().get('/api/audit/events?includeArchive=true&entityId=ancient').expect(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ actor: 'old-actor', entityId: 'ancient', archived: true });

    const reads = await server.as().get('/api/audit/events?entityType=AuditLog&action=ArchiveRead').expect(200);
    expect(reads.body.items).toHaveLength(1);
    expect(reads.body.items[0]).toMatchObject({ actorRole: 'Admin', archived: false, additional: { query: { entityId: 'ancient', includeArchive: true } } });
  });

  it('the worker\'s sweep moves an aged event, purges an ancient one, and counts both per tenant', async () => {
    const { rows } = await sql.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'default'`);
    await sql.query(
      `INSERT INTO audit_events (tenant_id, actor, entity_type, entity_id, action, occurred_at) VALUES
         ($1, 'seed', 'Thing', 'aged', 'Seeded', now() - interval '91 days'),
         ($1, 'seed', 'Thing', 'ancient', 'Seeded', now() - interval '2556 days')`,
      [rows[0]!.id],
    );
    const result = await server.app.get(AuditRetentionService).sweep();
    expect(result).toMatchObject({ archived: 2, purged: 1 });
    const archived = await server.as().get('/api/audit/events?includeArchive=true&entityId=aged').expect(200);
    expect(archived.body.items).toMatchObject([{ archived: true }]);
    const text = await scrape(server.url);
    expect(metricValue(text, 'ampora_audit_archived_total', { tenant: 'default' })).toBe(2);
    expect(metricValue(text, 'ampora_audit_purged_total', { tenant: 'default' })).toBe(1);
  });
});
