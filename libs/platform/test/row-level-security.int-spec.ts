import { Client } from 'pg';
import { TENANT_SETTING } from '@ampora/platform';
import { createTestDatabase, TestDatabase } from '@ampora/testing';

/**
 * Row-level tenant isolation is complete (issue 17 item 5, decisions 0366 and 0405): in the migrated
 * schema, every table with a `tenant_id` column — and every table listed as the tenant's own row or as
 * tenant-owned through a parent — has row-level security enabled and exactly the one `tenant_isolation`
 * policy, with the expression every migration writes; every view with a `tenant_id` column reads as its
 * invoker (`security_invoker`), so it cannot bypass those policies. Any other table must be named below
 * as global, with the reason. A new tenant table without its policy, or a new table nobody classified,
 * fails this test.
 */

/** Tables that are deliberately not tenant-owned: no policy, each with why. */
const GLOBAL_TABLES: Record<string, string> = {
  ampora_migrations: "TypeORM's record of applied migrations: the deployment's, run by the owner",
  dispatch_envelopes: "the backplane's envelopes between server instances (channel, payload): transport, read and written by the owner for every tenant",
  worker_heartbeats: "the deployment's worker processes",
  agent_session_ownership: "which server instance holds an agent's OpAMP session (lease, fencing token): taken before the agent's tenant is known, keyed by agent id",
  agent_telemetry_keys: "the deployment's key the per-agent telemetry credentials are derived from",
  pki_signing_keys: "the deployment's CA keys: one CA signs every tenant's certificates",
  pki_ocsp_responders: "OCSP responder certificates of the deployment's CA keys",
  pki_crls: "the CRL of each of the deployment's CA keys, covering every tenant",
};

/** The table whose tenant is its own id. */
const OWN_ID_TABLES: Record<string, string> = { tenants: 'id' };

/** Tenant-owned tables without a `tenant_id`: their policy goes through a parent (`EXISTS`). None today. */
const THROUGH_PARENT: Record<string, { parent: string; fk: string }> = {};

interface Lists {
  global: Record<string, string>;
  ownId: Record<string, string>;
  throughParent: Record<string, { parent: string; fk: string }>;
}

const CURRENT_TENANT = `NULLIF(current_setting('${TENANT_SETTING}', true), '')::uuid`;

/** The policy expression a table of this kind must carry (the same for USING and WITH CHECK). */
function expectedExpression(table: string, hasTenantId: boolean, lists: Lists): string | undefined {
  if (lists.ownId[table]) return `${lists.ownId[table]} = ${CURRENT_TENANT}`;
  const parent = lists.throughParent[table];
  if (parent) return `EXISTS (SELECT 1 FROM ${parent.parent} p WHERE p.id = ${table}.${parent.fk})`;
  return hasTenantId ? `tenant_id = ${CURRENT_TENANT}` : undefined;
}

/** What is missing or wrong in the database's row-level security, one line each (empty: complete). */
async function rowLevelSecurityFindings(client: Client, lists: Lists): Promise<string[]> {
  const relations: Array<{ name: string; kind: string; rls: boolean; options: string[] | null; has_tenant_id: boolean }> = (
    await client.query(`
      SELECT c.relname AS name, c.relkind AS kind, c.relrowsecurity AS rls, c.reloptions AS options,
             EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS has_tenant_id
        FROM pg_class c
       WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
       ORDER BY c.relname`)
  ).rows;
  const policies: Array<{ table: string; name: string; permissive: string; roles: string[] | string; cmd: string; qual: string | null; with_check: string | null }> = (
    await client.query(`SELECT tablename AS table, policyname AS name, permissive, roles::text[] AS roles, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'`)
  ).rows;
  const findings: string[] = [];
  const names = new Set(relations.map((r) => r.name));
  for (const [list, entries] of Object.entries({ GLOBAL_TABLES: lists.global, OWN_ID_TABLES: lists.ownId, THROUGH_PARENT: lists.throughParent })) {
    for (const table of Object.keys(entries)) if (!names.has(table)) findings.push(`${list} names ${table}, which does not exist (remove it)`);
  }
  for (const rel of relations) {
    if (lists.global[rel.name]) continue;
    if (rel.kind === 'v' || rel.kind === 'm') {
      if (rel.has_tenant_id && !(rel.options ?? []).includes('security_invoker=true')) findings.push(`view ${rel.name} has a tenant_id but reads as its owner: set security_invoker = true`);
      continue;
    }
    const expected = expectedExpression(rel.name, rel.has_tenant_id, lists);
    if (!expected) {
      findings.push(`table ${rel.name} has no tenant_id: give it one and a tenant_isolation policy, list it in THROUGH_PARENT, or in GLOBAL_TABLES with the reason`);
      continue;
    }
    if (!rel.rls) findings.push(`table ${rel.name}: row-level security is not enabled`);
    const own = policies.filter((p) => p.table === rel.name);
    const policy = own.find((p) => p.name === 'tenant_isolation');
    for (const other of own.filter((p) => p !== policy && p.permissive === 'PERMISSIVE')) findings.push(`table ${rel.name}: permissive policy ${other.name} widens tenant_isolation`);
    if (!policy) {
      findings.push(`table ${rel.name}: no tenant_isolation policy`);
      continue;
    }
    const reference = await deparsedPolicy(client, rel.name, expected);
    if (policy.permissive !== 'PERMISSIVE' || policy.cmd !== 'ALL' || String(policy.roles) !== String(['public'])) {
      findings.push(`table ${rel.name}: tenant_isolation must be PERMISSIVE, FOR ALL, TO PUBLIC (is ${policy.permissive}, ${policy.cmd}, ${String(policy.roles)})`);
    }
    if (policy.qual !== reference || policy.with_check !== reference) {
      findings.push(`table ${rel.name}: tenant_isolation is USING ${policy.qual} WITH CHECK ${policy.with_check}, expected ${reference} for both`);
    }
  }
  return findings;
}

/** How PostgreSQL prints `expression` as a policy of `table` (created in a transaction that is rolled back). */
async function deparsedPolicy(client: Client, table: string, expression: string): Promise<string> {
  await client.query('BEGIN');
  try {
    await client.query(`CREATE POLICY tenant_isolation_expected ON ${table} USING (${expression})`);
    const rows = (await client.query(`SELECT qual FROM pg_policies WHERE schemaname = 'public' AND tablename = $1 AND policyname = 'tenant_isolation_expected'`, [table])).rows;
    return rows[0].qual;
  } finally {
    await client.query('ROLLBACK');
  }
}

describe('row-level tenant isolation covers every tenant-owned table', () => {
  const lists: Lists = { global: GLOBAL_TABLES, ownId: OWN_ID_TABLES, throughParent: THROUGH_PARENT };
  let db: TestDatabase;
  let client: Client;

  beforeEach(async () => {
    db = await createTestDatabase();
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterEach(async () => {
    await client.end();
    await db.drop();
  });

  it('finds every tenant table of the migrated schema with its policy, and the audit view reading as its invoker', async () => {
    expect(await rowLevelSecurityFindings(client, lists)).toEqual([]);
    // the check looked at the tables it is about (not an empty schema)
    const covered = (await client.query(`SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation' ORDER BY 1`)).rows.map((r) => r.tablename);
    expect(covered).toEqual(expect.arrayContaining(['agents', 'configurations', 'configuration_versions', 'rollout_targets', 'pki_certificates', 'gitops_files', 'federation_peers', 'tenants']));
  });

  it('names a tenant table without the policy, a wrong policy, a widening one, an owner-rights view, an unclassified table, and a stale entry (the check can fail)', async () => {
    const tenant = CURRENT_TENANT;
    await client.query(`
      CREATE TABLE probe_missing (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
      CREATE TABLE probe_wrong (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
      ALTER TABLE probe_wrong ENABLE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON probe_wrong USING (true);
      CREATE TABLE probe_widened (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
      ALTER TABLE probe_widened ENABLE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON probe_widened USING (tenant_id = ${tenant}) WITH CHECK (tenant_id = ${tenant});
      CREATE POLICY everyone ON probe_widened FOR SELECT USING (true);
      CREATE TABLE probe_child (probe_widened_id uuid NOT NULL REFERENCES probe_widened (id));
      ALTER TABLE probe_child ENABLE ROW LEVEL SECURITY;
      CREATE POLICY tenant_isolation ON probe_child
        USING (EXISTS (SELECT 1 FROM probe_widened p WHERE p.id = probe_child.probe_widened_id))
        WITH CHECK (EXISTS (SELECT 1 FROM probe_widened p WHERE p.id = probe_child.probe_widened_id));
      CREATE TABLE probe_orphan (probe_widened_id uuid NOT NULL);
      CREATE TABLE probe_unclassified (x int);
      CREATE VIEW probe_view AS SELECT tenant_id FROM probe_missing;
    `);
    const findings = await rowLevelSecurityFindings(client, {
      ...lists,
      global: { ...lists.global, probe_gone: 'a table that was dropped' },
      throughParent: { probe_child: { parent: 'probe_widened', fk: 'probe_widened_id' }, probe_orphan: { parent: 'probe_widened', fk: 'probe_widened_id' } },
    });
    expect(findings).toEqual([
      'GLOBAL_TABLES names probe_gone, which does not exist (remove it)',
      'table probe_missing: row-level security is not enabled',
      'table probe_missing: no tenant_isolation policy',
      'table probe_orphan: row-level security is not enabled',
      'table probe_orphan: no tenant_isolation policy',
      'table probe_unclassified has no tenant_id: give it one and a tenant_isolation policy, list it in THROUGH_PARENT, or in GLOBAL_TABLES with the reason',
      'view probe_view has a tenant_id but reads as its owner: set security_invoker = true',
      'table probe_widened: permissive policy everyone widens tenant_isolation',
      expect.stringMatching(/^table probe_wrong: tenant_isolation is USING true WITH CHECK null, expected \(tenant_id = .*ampora\.tenant_id.*\) for both$/),
    ]);
  });
});
