import { createdTables, describeUse, foreignTablesIn, readOwnership, scanLibs, TableUse } from './table-ownership';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { libLevel } = require('./lib-order') as { libLevel(lib: string): number };

/**
 * KNOWN_VIOLATIONS_TO_REMOVE — must stay empty (issue 14: no lib reads or writes another lib's
 * tables). Kept as the one place where a temporary, reviewed exception would be written, with the work
 * that removes it; an entry that no longer occurs fails the test too, so the list can only shrink.
 */
const KNOWN_VIOLATIONS_TO_REMOVE: Record<string, string[]> = {
};

/**
 * Permanent: migrations already applied that touch tables of several libs. They cannot be split (a
 * database knows them by name), so they stay whole in platform (libs/platform/src/database/migrations/index.ts).
 */
const APPLIED_MIGRATIONS_SPANNING_LIBS: Record<string, string[]> = {
  'libs/platform/src/database/migrations/1764000003000-backplane.ts': ['agent_session_ownership'],
  'libs/platform/src/database/migrations/1764000010000-config-outcomes.ts': ['agents', 'agent_config_events', 'rollout_targets'],
  'libs/platform/src/database/migrations/1764000020000-certificate-offers.ts': ['pki_certificates', 'agents'],
  'libs/platform/src/database/migrations/1764000050000-agent-operations.ts': ['api_tokens', 'agents'],
};

/** A lib's migration may reference (foreign key) a table of a lib before it in the order. */
function isForeignKeyAlongTheOrder(use: TableUse): boolean {
  return /\/migrations\//.test(use.file) && use.how === 'SQL REFERENCES' && libLevel(use.owner) >= 0 && libLevel(use.owner) < libLevel(use.lib);
}

function allowed(use: TableUse): boolean {
  return isForeignKeyAlongTheOrder(use) || (KNOWN_VIOLATIONS_TO_REMOVE[use.file] ?? []).includes(use.table) || (APPLIED_MIGRATIONS_SPANNING_LIBS[use.file] ?? []).includes(use.table);
}

describe('each lib names only the tables it owns', () => {
  const { uses, ownership } = scanLibs();

  it('every table is declared by one lib (libs/<lib>/src/<lib>.tables.ts), and every created table is declared', () => {
    expect(ownership.problems).toEqual([]);
    expect(ownership.declared.size).toBeGreaterThanOrEqual(5);
    expect(createdTables().filter((c) => !ownership.owners.has(c.table)).map((c) => `${c.file} creates ${c.table}, which no lib declares`)).toEqual([]);
  });

  it("no lib's SQL, query builder, entity or entity class names another lib's table", () => {
    expect(uses.filter((u) => !allowed(u)).map(describeUse)).toEqual([]);
  });

  it('the allow-lists hold only what still occurs (remove an entry once its file is fixed)', () => {
    const stale: string[] = [];
    for (const [list, entries] of Object.entries({ KNOWN_VIOLATIONS_TO_REMOVE, APPLIED_MIGRATIONS_SPANNING_LIBS })) {
      for (const [file, tables] of Object.entries(entries)) {
        for (const table of tables) if (!uses.some((u) => u.file === file && u.table === table)) stale.push(`${list}: ${file} no longer names ${table}`);
      }
    }
    expect(stale).toEqual([]);
  });

  it('catches raw SQL, a query builder, an entity and an entity class of another lib (the scan can fail)', () => {
    const owners = readOwnership().owners;
    const entities = new Map([['AgentEntity', 'agents']]);
    const text = [
      '// a comment naming FROM agents is not SQL',
      "const rows = await q.query(`SELECT id FROM agents a JOIN groups g ON g.id = a.group_id WHERE a.tenant_id = $1`);",
      "await manager.createQueryBuilder().update('configurations').set({}).execute();",
      "@Entity({ name: 'pki_certificates' })",
      'constructor(@InjectRepository(AgentEntity) repo: Repository<AgentEntity>) {}',
      "await q.query('INSERT INTO rollout_targets (id) VALUES ($1)');",
      "throw new Error('cannot move agents from groups');",
    ].join('\n');
    const found = foreignTablesIn('rollouts', 'libs/rollouts/src/x.ts', text, owners, entities).map((u) => `${u.line} ${u.table} ${u.owner} ${u.how}`);
    expect(found).toEqual([
      '2 agents fleet SQL FROM',
      '2 groups fleet SQL JOIN',
      '3 configurations fleet query builder .update()',
      '4 pki_certificates pki @Entity',
      '5 agents fleet entity AgentEntity',
    ]);
  });
});
