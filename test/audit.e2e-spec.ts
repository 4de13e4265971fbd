import { Client } from 'pg';
import { captureLogs } from '@ampora/testing';
import { ProbeModule } from './support/probe.module';
import { startTestServer, TestServer } from './support/test-server';

function traceIdOf(res: { headers: Record<string, string> }): string {
  const header = res.headers['traceresponse'];
  expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  return header!.split('-')[1]!;
}

describe('audit log', () => {
  let server: TestServer;
  const logs = captureLogs('Information');

  beforeAll(async () => {
    server = await startTestServer({ modules: [ProbeModule] });
  });
  afterAll(() => server.close());

  it('writes exactly one event, with actor and trace id, when a token is created and when it is revoked', async () => {
    const created = await server.as().post('/api/tokens').send({ name: 'ci-bot', role: 'Operator' }).expect(201);
    const createTrace = traceIdOf(created);
    let events = await server.as().get(`/api/audit/events?entityType=Token&entityId=${created.body.id}`).expect(200);
    expect(events.body.items).toHaveLength(1);
    const adminName = events.body.items[0].actor as string;
    expect(events.body.items[0]).toMatchObject({
      action: 'Created',
      actor: expect.stringMatching(/^bootstrap-admin-/),
      actorRole: 'Admin',
      entityType: 'Token',
      traceId: createTrace,
      sourceIp: expect.any(String),
      before: null,
      after: { name: 'ci-bot', role: 'Operator' },
    });
    expect(events.body.items[0].timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(events.body)).not.toContain(created.body.token);

    const revoked = await server.as().delete(`/api/tokens/${created.body.id}`).expect(204);
    events = await server.as().get(`/api/audit/events?entityType=Token&entityId=${created.body.id}`).expect(200);
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual(['Revoked', 'Created']);
    expect(events.body.items[0]).toMatchObject({ actor: adminName, traceId: traceIdOf(revoked), after: { revokedAt: expect.any(String) } });

    await server.as().delete(`/api/tokens/${created.body.id}`).expect(409);
    events = await server.as().get(`/api/audit/events?entityType=Token&entityId=${created.body.id}`).expect(200);
    expect(events.body.items).toHaveLength(2);
  });

  it('filters by actor, action, entity and time, and pages with a cursor', async () => {
    const before = new Date(Date.now() - 1).toISOString();
    for (let i = 0; i < 3; i++) await server.as().post('/api/_probe/operator').expect(201);
    const all = await server.as().get(`/api/audit/events?entityType=Probe&action=Poked&since=${before}`).expect(200);
    expect(all.body.items).toHaveLength(3);
    const page1 = await server.as().get(`/api/audit/events?entityType=Probe&limit=2`).expect(200);
    expect(page1.body.items).toHaveLength(2);
    expect(page1.body.nextCursor).toEqual(expect.any(String));
    const page2 = await server.as().get(`/api/audit/events?entityType=Probe&limit=2&cursor=${page1.body.nextCursor}`).expect(200);
    expect(page2.body.items).toHaveLength(1);
    expect(page2.body.nextCursor).toBeNull();
    const ids = [...page1.body.items, ...page2.body.items].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(3);
    const future = await server.as().get(`/api/audit/events?since=${new Date(Date.now() + 60000).toISOString()}`).expect(200);
    expect(future.body.items).toHaveLength(0);
    await server.as().get('/api/audit/events?cursor=garbage').expect(400);
    const bad = await server.as().get('/api/audit/events?limit=0&since=yesterday').expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['limit', 'since']);
  });

  it('flags a mutating route that wrote no audit event', async () => {
    await server.as().post('/api/_probe/no-audit').expect(201);
    expect(logs.find((r) => r.category === 'Ampora.Platform.Audit.Discipline' && r.AuditWrites === 0)).toBeDefined();
  });

  it('is append-only in the database', async () => {
    const client = new Client({ connectionString: server.db.url });
    await client.connect();
    try {
      await expect(client.query(`UPDATE audit_events SET action = 'Forged'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
      await expect(client.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });
});
