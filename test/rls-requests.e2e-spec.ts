import { DataSource } from 'typeorm';
import { Clock, LiveBus, RequestContext, TransactionRunner } from '@ampora/platform';
import { DEFAULT_TENANT, TenantService } from '@ampora/governance';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Operators' API requests run under row-level security (decision 0395), in PostgreSQL and in
 * embedded mode: once a request is authenticated, every statement it makes — inside a transaction or
 * not, through TypeORM or raw SQL — runs as `ampora_app` limited to the caller's tenant, so a query
 * that forgets its filter still sees nothing foreign; timers and live-bus reactions it sets off run
 * as system work; everything else (OpAMP, workers, sweeps) stays the owner's.
 */
describe.each([
  ['PostgreSQL', {}],
  ['embedded (PGlite)', { embedded: {}, env: { REDIS_URL: 'redis://127.0.0.1:1' } }],
])('tenant-limited API requests in %s', (_name, options) => {
  let server: TestServer;
  let ds: DataSource;
  let a: string;
  let b: string;
  let agentOfA: string;

  const owner = (sql: string, params: unknown[] = []) => ds.query(sql, params);
  const addAgent = async (tenantId: string): Promise<string> =>
    (await owner(`INSERT INTO agents (tenant_id, instance_uid, identity_kind) VALUES ($1, gen_random_uuid(), 'token') RETURNING id`, [tenantId]))[0].id;
  const tenantsOf = (rows: Array<{ tenant_id: string }>) => [...new Set(rows.map((r) => r.tenant_id))].sort();
  /** As the auth guard leaves a request of tenant `t`. */
  const limitedTo = <T>(t: string, fn: () => Promise<T>) =>
    RequestContext.run({}, () => {
      RequestContext.limitDataTo(t);
      return fn();
    });

  beforeAll(async () => {
    server = await startTestServer(options);
    ds = server.app.get(DataSource);
    const tenants = server.app.get(TenantService);
    a = (await tenants.getByName(DEFAULT_TENANT)).id;
    b = (await tenants.create('rls-requests-other')).id;
    agentOfA = await addAgent(a);
    await addAgent(a);
    for (let i = 0; i < 3; i++) await addAgent(b);
  }, 120_000);
  afterAll(() => server?.close());

  it('limits every statement of a limited scope, in or out of a transaction, to its tenant; the owner still sees all', async () => {
    const tx = server.app.get(TransactionRunner);
    const seen = await limitedTo(a, async () => ({
      raw: await ds.query('SELECT tenant_id FROM agents'),
      repository: await ds.createQueryBuilder().select('tenant_id').from('agents', 'a').getRawMany(),
      inTransaction: await tx.run(({ manager }) => manager.query('SELECT tenant_id FROM agents')),
      who: await ds.query(`SELECT current_user AS role, current_setting('ampora.tenant_id', true) AS tenant`),
    }));
    expect(seen.raw).toHaveLength(2);
    expect(tenantsOf(seen.raw)).toEqual([a]);
    expect(tenantsOf(seen.repository)).toEqual([a]);
    expect(tenantsOf(seen.inTransaction)).toEqual([a]);
    expect(seen.who[0]).toEqual({ role: 'ampora_app', tenant: a });
    expect(tenantsOf(await limitedTo(b, () => ds.query('SELECT tenant_id FROM agents')))).toEqual([b]);
    await expect(limitedTo(a, () => ds.query(`INSERT INTO agents (tenant_id, instance_uid, identity_kind) VALUES ($1, gen_random_uuid(), 'token')`, [b]))).rejects.toThrow(/row-level security/);

    // the same pooled connections serve system work afterwards as the owner again
    const after = await owner(`SELECT current_user AS role, current_setting('ampora.tenant_id', true) AS tenant`);
    expect(after[0].role).not.toBe('ampora_app');
    expect(tenantsOf(await owner('SELECT tenant_id FROM agents'))).toEqual([a, b].sort());
  });

  it('runs timers and live-bus reactions a limited scope sets off as system work', async () => {
    const clock = server.app.get(Clock);
    const fromTimer = await limitedTo(
      a,
      () =>
        new Promise<Array<{ tenant_id: string }>>((resolve, reject) => {
          clock.setTimeout(() => void ds.query('SELECT tenant_id FROM agents').then(resolve, reject), 1);
        }),
    );
    expect(tenantsOf(fromTimer)).toEqual([a, b].sort());
    const detached = await limitedTo(a, () => RequestContext.detached(() => ds.query('SELECT tenant_id FROM agents')));
    expect(tenantsOf(detached)).toEqual([a, b].sort());

    const bus = server.app.get(LiveBus);
    let reaction: Promise<Array<{ tenant_id: string }>> | undefined;
    const stop = bus.subscribe(() => void (reaction ??= ds.query('SELECT tenant_id FROM agents')), { name: 'rls-probe', filter: (e) => e.type === 'rls.probe' });
    try {
      await limitedTo(a, async () => void bus.publish({ type: 'rls.probe', tenantId: a, payload: {} } as never));
      expect(tenantsOf(await reaction!)).toEqual([a, b].sort());
    } finally {
      stop();
    }
  });

  it('runs an authenticated API request as ampora_app limited to the caller\'s tenant', async () => {
    // a probe the test installs: who wrote each row of agents, as PostgreSQL saw it
    await owner(`CREATE TABLE IF NOT EXISTS rls_probe (role text, tenant text)`);
    await owner(`GRANT INSERT ON rls_probe TO ampora_app`);
    await owner(`CREATE OR REPLACE FUNCTION rls_probe_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO rls_probe VALUES (current_user, current_setting('ampora.tenant_id', true)); RETURN NEW; END $$`);
    await owner(`DROP TRIGGER IF EXISTS rls_probe_on_agents ON agents`);
    await owner(`CREATE TRIGGER rls_probe_on_agents BEFORE UPDATE ON agents FOR EACH ROW EXECUTE FUNCTION rls_probe_write()`);
    try {
      await server.as().patch(`/api/agents/${agentOfA}`).send({ tags: { team: 'payments' } }).expect(200);
      const probes: Array<{ role: string; tenant: string }> = await owner(`SELECT role, tenant FROM rls_probe`);
      expect(probes.length).toBeGreaterThanOrEqual(1);
      expect(probes).toContainEqual({ role: 'ampora_app', tenant: a });
      // a request of tenant A cannot reach B's agent: not found, not another tenant's row
      const ofB = (await owner(`SELECT id FROM agents WHERE tenant_id = $1 LIMIT 1`, [b]))[0].id;
      await server.as().get(`/api/agents/${ofB}`).expect(404);
      // an unauthenticated request is refused before any tenant is known, and leaves nothing limited behind
      await server.http.get('/api/agents').expect(401);
    } finally {
      await owner(`DROP TRIGGER IF EXISTS rls_probe_on_agents ON agents`);
    }
  });
});
