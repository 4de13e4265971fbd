import { RequestContext } from '../context/request-context';

/** The non-owner role whose statements the tenant-isolation policies apply to (decision 0366). */
export const TENANT_ISOLATION_ROLE = 'ampora_app';
/** The setting naming the tenant whose rows a limited connection may see. */
export const TENANT_SETTING = 'ampora.tenant_id';

/** What a pooled connection was last set to: a tenant's id, or the owner (system work). */
const SCOPE = Symbol('ampora.tenantScope');
const OWNER = '';

interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

let ambient = false;

/**
 * Turns the ambient tenant limit on or off for this process (decision 0395): on, a connection taken
 * from the pool inside a scope with a data tenant (an operator's API request) runs as the non-owner
 * role `ampora_app` with `ampora.tenant_id` set, so every table under a `tenant_isolation` policy
 * answers and accepts that tenant's rows alone, whatever filter a query forgets.
 */
export function setAmbientTenantIsolation(on: boolean): void {
  ambient = on;
}

export function ambientTenantIsolation(): boolean {
  return ambient;
}

/** The scope the current async context asks of a connection: a tenant's id, or '' for the owner. */
export function wantedScope(): string {
  return (ambient && RequestContext.dataTenant()) || OWNER;
}

/** The statement that moves a session to `scope` (session-level: a pooled connection keeps it until the next move). */
export function scopeStatement(scope: string): { text: string; values: unknown[] } {
  return scope === OWNER
    ? { text: `SELECT set_config('role', 'none', false), set_config('${TENANT_SETTING}', '', false)`, values: [] }
    : { text: `SELECT set_config('role', '${TENANT_ISOLATION_ROLE}', false), set_config('${TENANT_SETTING}', $1, false)`, values: [scope] };
}

/**
 * Sets a pooled connection to the scope of the caller's context before it is handed out; a
 * connection already there costs nothing, so system work that never meets a request pays nothing.
 */
export async function applyScope(client: Queryable, scope = wantedScope()): Promise<void> {
  const target = client as unknown as Record<symbol, string | undefined>;
  if ((target[SCOPE] ?? OWNER) === scope) return;
  const { text, values } = scopeStatement(scope);
  // unknown until the statement is through: a failure leaves the connection to be discarded
  target[SCOPE] = undefined;
  await client.query(text, values);
  target[SCOPE] = scope;
}

/** Whether the connecting user may take the isolation role (the migration grants it where it can). */
export const CAN_TAKE_ROLE_SQL = `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TENANT_ISOLATION_ROLE}') AND pg_has_role(current_user, (SELECT oid FROM pg_roles WHERE rolname = '${TENANT_ISOLATION_ROLE}'), 'MEMBER') AS ok`;

/** The tenant a limited connection or transaction may see; NULL when unset, which matches no row (fail closed). */
export const CURRENT_TENANT = `NULLIF(current_setting('${TENANT_SETTING}', true), '')::uuid`;

/** A tenant-owned table, or a table and the column naming its tenant (`tenants`: its own `id`). */
export type TenantTable = string | readonly [table: string, column: string];

const tableAndColumn = (t: TenantTable): readonly [string, string] => (typeof t === 'string' ? [t, 'tenant_id'] : t);

/**
 * A migration's step: row-level security on each table with the one `tenant_isolation` policy every
 * lib uses (decisions 0366, 0405), reading and writing only the rows of `CURRENT_TENANT`.
 */
export async function enableTenantIsolation(q: Queryable, tables: readonly TenantTable[]): Promise<void> {
  for (const [table, column] of tables.map(tableAndColumn)) {
    await q.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
    await q.query(`CREATE POLICY tenant_isolation ON ${table} USING (${column} = ${CURRENT_TENANT}) WITH CHECK (${column} = ${CURRENT_TENANT})`);
  }
}

/** The down step of `enableTenantIsolation`, in reverse order. */
export async function disableTenantIsolation(q: Queryable, tables: readonly TenantTable[]): Promise<void> {
  for (const [table] of [...tables].reverse().map(tableAndColumn)) {
    await q.query(`DROP POLICY IF EXISTS tenant_isolation ON ${table}`);
    await q.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
  }
}
