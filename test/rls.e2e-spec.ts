import { DataSource } from 'typeorm';
import { TransactionRunner } from '@ampora/platform';
import { DEFAULT_TENANT, TenantService } from '@ampora/governance';
import { startTestServer, TestServer } from './support/test-server';

/** Random text and 64 hex characters (hashes, fingerprints), for the unique columns of the rows below. */
const UNIQUE = `gen_random_uuid()::text`;
const HEX64 = `encode(sha256(gen_random_uuid()::text::bytea), 'hex')`;

/** The ids of one tenant's rows, by table: the parents of the rows inserted after them. */
type Rows = Record<string, string>;

/**
 * A representative table of each lib (decision 0405), parents first, each with a valid new row of a
 * tenant whose parents are `rows` (the same tenant's); `RETURNING id` where a later row needs it.
 */
const TENANT_TABLES: Array<[table: string, insert: (tenantId: string, rows: Rows) => [sql: string, params: unknown[]]]> = [
  ['agents', (t) => [`INSERT INTO agents (tenant_id, instance_uid, identity_kind) VALUES ($1, gen_random_uuid(), 'token') RETURNING id`, [t]]],
  ['bootstrap_tokens', (t) => [`INSERT INTO bootstrap_tokens (tenant_id, label, token_hash, created_by, expires_at) VALUES ($1, 'rls', ${HEX64}, 'test', now() + interval '1 day')`, [t]]],
  ['configurations', (t) => [`INSERT INTO configurations (tenant_id, name, created_by) VALUES ($1, ${UNIQUE}, 'test') RETURNING id`, [t]]],
  ['configuration_versions', (t, r) => [
    `INSERT INTO configuration_versions (tenant_id, configuration_id, number, yaml, content_hash, config_hash, files, created_by)
     VALUES ($1, $2, (SELECT coalesce(max(number), 0) + 1 FROM configuration_versions WHERE configuration_id = $2), 'receivers: {}', ${HEX64}, ${HEX64}, '{}', 'test') RETURNING id`,
    [t, r.configurations],
  ]],
  ['groups', (t) => [`INSERT INTO groups (tenant_id, name, kind, created_by) VALUES ($1, ${UNIQUE}, 'Static', 'test') RETURNING id`, [t]]],
  ['packages', (t) => [`INSERT INTO packages (tenant_id, name, type, created_by) VALUES ($1, ${UNIQUE}, 'TopLevel', 'test')`, [t]]],
  ['rollouts', (t, r) => [
    `INSERT INTO rollouts (tenant_id, name, group_id, configuration_id, version_id, version_number, strategy, gates, auto_advance, created_by)
     VALUES ($1, 'rls', $2, $3, $4, 1, '{}', '[]', false, 'test') RETURNING id`,
    [t, r.groups, r.configurations, r.configuration_versions],
  ]],
  ['rollout_targets', (t, r) => [`INSERT INTO rollout_targets (rollout_id, agent_id, tenant_id, step, position) VALUES ($1, $2, $3, 0, 0)`, [r.rollouts, r.agents, t]]],
  ['pki_certificates', (t, r) => [
    `INSERT INTO pki_certificates (id, tenant_id, kind, signing_key_id, serial_number, fingerprint, subject, key_source, reason, certificate, not_before, not_after)
     VALUES (gen_random_uuid(), $1, 'agent', $2, ${UNIQUE}, ${HEX64}, 'CN=rls', 'server', 'api', '\\x00', now(), now() + interval '1 day')`,
    [t, r.pki_signing_keys],
  ]],
  ['gitops_sources', (t) => [
    `INSERT INTO gitops_sources (tenant_id, name, repository_url, branch, path_glob, credential_kind, poll_interval_seconds, created_by)
     VALUES ($1, ${UNIQUE}, 'https://git.example/rls.git', 'main', '*.yaml', 'None', 60, 'test') RETURNING id`,
    [t],
  ]],
  ['gitops_files', (t, r) => [
    `INSERT INTO gitops_files (source_id, path, tenant_id, blob_sha, configuration_id, configuration_name, commit_sha) VALUES ($1, ${UNIQUE}, $2, 'b', $3, 'c', 'c')`,
    [r.gitops_sources, t, r.configurations],
  ]],
  ['federation_peers', (t) => [
    `INSERT INTO federation_peers (id, tenant_id, name, endpoint, pinned_thumbprint, remote_tenant, inbound_secret_hash, outbound_secret_hash, outbound_secret_sealed, status, created_by, created_at, updated_at)
     VALUES (gen_random_uuid(), $1, ${UNIQUE}, 'https://peer.example', ${HEX64}, 'default', ${HEX64}, ${HEX64}, '\\x00', 'Active', 'test', now(), now())`,
    [t],
  ]],
  ['lint_rules', (t) => [
    `INSERT INTO lint_rules (tenant_id, name, expression, severity, status, created_by, created_at, updated_at) VALUES ($1, ${UNIQUE}, 'config.x = 1', 'Info', 'Active', 'test', now(), now())`,
    [t],
  ]],
  ['audit_events', (t) => [`INSERT INTO audit_events (tenant_id, actor, entity_type, entity_id, action) VALUES ($1, 'test', 'Rls', 'rls', 'Rls.Probed')`, [t]]],
];

/**
 * Row-level tenant isolation (issue 17 item 5, decisions 0366 and 0405), in PostgreSQL and in
 * embedded mode (PGlite): inside `TransactionRunner.runForTenant`, deliberately unfiltered queries see
 * only the current tenant's rows of a table of every lib (and of the audit view), a row of another
 * tenant cannot be written, no tenant sees nothing, and the audit tables stay append-only for the
 * application role.
 */
describe.each([
  ['PostgreSQL', {}],
  ['embedded (PGlite)', { embedded: {}, env: { REDIS_URL: 'redis://127.0.0.1:1' } }],
])('row-level security in %s', (_name, options) => {
  let server: TestServer;
  let tx: TransactionRunner;
  let a: string;
  let b: string;

  const owner = (sql: string, params: unknown[] = []) => server.app.get(DataSource).query(sql, params);
  const addAgent = (tenantId: string) => owner(`INSERT INTO agents (tenant_id, instance_uid, identity_kind) VALUES ($1, gen_random_uuid(), 'token')`, [tenantId]);
  const addLintRule = (tenantId: string, name: string) =>
    owner(`INSERT INTO lint_rules (tenant_id, name, expression, severity, status, created_by, created_at, updated_at) VALUES ($1, $2, 'config.x = 1', 'Info', 'Active', 'test', now(), now())`, [tenantId, name]);
  const tenantsOf = (rows: Array<{ tenant_id: string }>) => [...new Set(rows.map((r) => r.tenant_id))];
  /** Inserts, as the owner, one row of each of TENANT_TABLES for the tenant (but `skip`), parents first. */
  const seed = async (tenantId: string, skip: string[] = []): Promise<Rows> => {
    const key = await owner(
      `INSERT INTO pki_signing_keys (id, state, algorithm, provider, common_name, certificate, fingerprint, key_id, wrapped_private_key, wrapping_key_id, not_before, not_after, created_by)
       VALUES (gen_random_uuid(), 'Retired', 'ECDSA', 'software', 'rls', '\\x00', ${HEX64}, substr(${HEX64}, 1, 40), '\\x00', 'rlsrlsrlsrlsrlsr', now(), now() + interval '1 day', 'test') RETURNING id`,
    );
    const rows: Rows = { pki_signing_keys: key[0].id };
    for (const [table, insert] of TENANT_TABLES) {
      if (skip.includes(table)) continue;
      const [sql, params] = insert(tenantId, rows);
      const inserted = await owner(sql, params);
      if (inserted[0]?.id) rows[table] = inserted[0].id;
    }
    return rows;
  };

  beforeAll(async () => {
    server = await startTestServer(options);
    tx = server.app.get(TransactionRunner);
    const tenants = server.app.get(TenantService);
    a = (await tenants.getByName(DEFAULT_TENANT)).id;
    b = (await tenants.create('rls-other')).id;
    for (let i = 0; i < 2; i++) await addAgent(a);
    for (let i = 0; i < 3; i++) await addAgent(b);
    await addLintRule(a, 'a-rule');
    await addLintRule(b, 'b-rule-1');
    await addLintRule(b, 'b-rule-2');
  }, 120_000);
  afterAll(() => server?.close());

  it('shows an unfiltered query only the current tenant\'s rows', async () => {
    const seen = await tx.runForTenant(a, async ({ manager }) => ({
      agents: await manager.query('SELECT tenant_id FROM agents'),
      lint: await manager.query('SELECT tenant_id, name FROM lint_rules'),
      audit: await manager.query('SELECT tenant_id FROM audit_events'),
      tenants: await manager.query('SELECT id AS tenant_id FROM tenants'),
    }));
    expect(seen.agents).toHaveLength(2);
    expect(tenantsOf(seen.agents)).toEqual([a]);
    expect(seen.lint.map((r: { name: string }) => r.name)).toEqual(['a-rule']);
    expect(tenantsOf(seen.audit).filter((t) => t !== a)).toEqual([]);
    expect(tenantsOf(seen.tenants)).toEqual([a]);

    const other = await tx.runForTenant(b, ({ manager }) => manager.query('SELECT tenant_id FROM agents'));
    expect(other).toHaveLength(3);
    expect(tenantsOf(other)).toEqual([b]);
    // the owner (system work) sees both, as before
    expect(tenantsOf(await owner('SELECT tenant_id FROM agents')).sort()).toEqual([a, b].sort());
  });

  it('shows each lib\'s tables (and the audit view) to a tenant with only its rows, to no tenant nothing, and refuses a row of another tenant there', async () => {
    await seed(a);
    await seed(b);
    // B's parents, fresh (its rollout target left out: that row's key is its parents)
    const parentsOfB = await seed(b, ['rollout_targets']);
    const ownedBy = async (table: string, tenantId: string) => (await owner(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenantId]))[0].n;
    const seen: Array<{ table: string; byA: string; byB: string; byNoTenant: number; insertOfBUnderA: string }> = [];
    for (const table of [...TENANT_TABLES.map(([t]) => t), 'audit_events_with_archive']) {
      const view = async (tenantId: string) => {
        const rows: Array<{ tenant_id: string }> = await tx.runForTenant(tenantId, ({ manager }) => manager.query(`SELECT tenant_id FROM ${table}`));
        const owned = await ownedBy(table, tenantId);
        return `${tenantsOf(rows).map((t) => (t === a ? 'A' : t === b ? 'B' : t)).join(',')}: ${rows.length === owned ? 'all' : `${rows.length} rows, ${owned} its own`}`;
      };
      const insert = TENANT_TABLES.find(([t]) => t === table)?.[1];
      const insertOfBUnderA = insert
        ? await tx.runForTenant(a, ({ manager }) => manager.query(...insert(b, parentsOfB))).then(
            () => 'accepted',
            (error: Error) => (error.message.includes(`row-level security policy for table "${table}"`) ? 'refused' : error.message),
          )
        : 'not insertable (a view)';
      const byNoTenant = (await tx.runForTenant(null, ({ manager }) => manager.query(`SELECT count(*)::int AS n FROM ${table}`)))[0].n;
      seen.push({ table, byA: await view(a), byB: await view(b), byNoTenant, insertOfBUnderA });
    }
    expect(seen).toEqual(seen.map(({ table }) => ({ table, byA: 'A: all', byB: 'B: all', byNoTenant: 0, insertOfBUnderA: table.endsWith('_with_archive') ? 'not insertable (a view)' : 'refused' })));
    // the owner (system work) still sees both tenants' rows
    for (const [table] of TENANT_TABLES) expect(tenantsOf(await owner(`SELECT DISTINCT tenant_id FROM ${table}`)).sort()).toEqual(expect.arrayContaining([a, b].sort()));
  });

  it('shows a transaction without a tenant nothing of any tenant (fail closed)', async () => {
    const seen = await tx.runForTenant(null, async ({ manager }) => ({
      agents: await manager.query('SELECT count(*)::int AS n FROM agents'),
      lint: await manager.query('SELECT count(*)::int AS n FROM lint_rules'),
      tenants: await manager.query('SELECT count(*)::int AS n FROM tenants'),
    }));
    expect([seen.agents[0].n, seen.lint[0].n, seen.tenants[0].n]).toEqual([0, 0, 0]);
  });

  it('refuses to write a row of another tenant, and to change or remove audit events', async () => {
    await expect(tx.runForTenant(a, ({ manager }) => manager.query(`INSERT INTO agents (tenant_id, instance_uid, identity_kind) VALUES ($1, gen_random_uuid(), 'token')`, [b]))).rejects.toThrow(/row-level security/);
    // an UPDATE that forgets its filter touches the current tenant's rows only
    const updated = await tx.runForTenant(a, ({ manager }) => manager.query(`UPDATE lint_rules SET description = 'touched' RETURNING tenant_id`));
    expect(tenantsOf(updated[0] ?? updated)).toEqual([a]);
    expect((await owner(`SELECT count(*)::int AS n FROM lint_rules WHERE description = 'touched' AND tenant_id = $1`, [b]))[0].n).toBe(0);
    await expect(tx.runForTenant(a, ({ manager }) => manager.query(`UPDATE audit_events SET action = 'x'`))).rejects.toThrow(/permission denied/);
    await expect(tx.runForTenant(a, ({ manager }) => manager.query(`DELETE FROM audit_events`))).rejects.toThrow(/permission denied/);
  });
});
