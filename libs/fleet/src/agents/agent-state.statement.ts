/** The SQL of the agent state writer's batches: column types, the batched UPDATE, and which errors are the data's. */

/**
 * The row lock of every change to agents that leaves their keys alone (assignment, membership, tags,
 * the state writer's flushes), always taken in id order (decision 0436). Not FOR UPDATE: that lock
 * also blocks the FOR KEY SHARE of foreign-key checks — an insert of rows that reference agents
 * (their config events, rollout targets), which takes it in its own order — and the two deadlocked.
 * An update of a key column (`instance_uid`, in a unique index) needs FOR UPDATE and takes it from the
 * start, as forgetting agents (a delete) does.
 */
export const CHANGE_LOCK = 'FOR NO KEY UPDATE';

/** Column → SQL type, for the casts of the batched UPDATE ... FROM unnest(...). */
export const COLUMN_TYPES = {
  last_seen_at: 'timestamptz',
  connected: 'boolean',
  transport: 'varchar',
  owner_instance: 'varchar',
  connected_at: 'timestamptz',
  disconnected_at: 'timestamptz',
  capabilities: 'bigint',
  instance_uid: 'uuid',
  identifying_attributes: 'jsonb',
  non_identifying_attributes: 'jsonb',
  display_name: 'varchar',
  agent_type: 'varchar',
  agent_version: 'varchar',
  healthy: 'boolean',
  health: 'jsonb',
  effective_config: 'jsonb',
  effective_config_hash: 'text',
  effective_config_too_large: 'boolean',
  remote_config_status: 'varchar',
  remote_config_hash: 'varchar',
  remote_config_error: 'text',
  failed_config_hash: 'varchar',
  remote_config_at: 'timestamptz',
  last_failure_hash: 'varchar',
  last_failure_message: 'text',
  last_failure_at: 'timestamptz',
  package_statuses: 'jsonb',
  available_components: 'jsonb',
  custom_capabilities: 'jsonb',
  connection_settings_status: 'jsonb',
} as const;
export type Column = keyof typeof COLUMN_TYPES;

/** Columns whose new value must be combined with the stored row. */
const LABEL_SOURCES: ReadonlySet<Column> = new Set(['identifying_attributes', 'non_identifying_attributes']);

export type Pending = Partial<Record<Column, unknown>>;

/**
 * One batched `UPDATE agents ... FROM unnest(...)` for rows that change the same columns, locking them
 * in id order. Labels are recomputed when attributes change; a connect applies only if it is not older
 * than the recorded one, a disconnect only while `instanceId` is still the recorded owner.
 *
 * The rows travel as one array per column (decision 0446): a `VALUES` list of a thousand rows cost
 * PostgreSQL about as much to plan as to run (40 ms), and its text differed with every batch size.
 */
export function stateUpdateStatement(columns: Column[], rows: Array<[string, Pending]>, instanceId: string): { sql: string; params: unknown[] } {
  const params: unknown[] = [rows.map(([id]) => id)];
  const arrays = ['$1::uuid[]'];
  for (const c of columns) {
    const json = COLUMN_TYPES[c] === 'jsonb';
    params.push(rows.map(([, row]) => (json && row[c] != null ? JSON.stringify(row[c]) : (row[c] ?? null))));
    arrays.push(`$${params.length}::${COLUMN_TYPES[c]}[]`);
  }
  const sets = columns.map((c) => `${c} = v.${c}`);
  if (columns.some((c) => LABEL_SOURCES.has(c))) {
    const ident = columns.includes('identifying_attributes') ? 'v.identifying_attributes' : 'a.identifying_attributes';
    const nonIdent = columns.includes('non_identifying_attributes') ? 'v.non_identifying_attributes' : 'a.non_identifying_attributes';
    sets.push(`labels = ${nonIdent} || ${ident} || a.tags`);
  }
  sets.push('updated_at = now()');
  // Several instances write the same agent when it moves between them, each in its own flush: a
  // connect applies only if it is not older than the recorded one, and a disconnect only while this
  // instance is still the recorded owner (the agent may already be connected elsewhere).
  let where = 'a.id = v.id';
  if (columns.includes('connected')) {
    const newer = columns.includes('connected_at') ? '(a.connected_at IS NULL OR a.connected_at <= v.connected_at)' : 'true';
    where += ` AND CASE WHEN v.connected THEN ${newer} ELSE (a.owner_instance IS NULL OR a.owner_instance = $${params.push(instanceId)}) END`;
  }
  // the rows are locked in id order first (the sub-select's ORDER BY ... CHANGE_LOCK), as every
  // other writer of many agents locks them (lockForChange): a batch in join order
  // deadlocked with the reconciler under a storm of enrolments (bench:scale at 18,000 agents)
  // a new instance uid changes a key: the UPDATE would take FOR UPDATE anyway, so the batch locks so at once (no upgrade)
  const lock = columns.includes('instance_uid') ? 'FOR UPDATE' : CHANGE_LOCK;
  const source = `SELECT v.* FROM unnest(${arrays.join(', ')}) AS v(id, ${columns.join(', ')}) JOIN agents AS l ON l.id = v.id ORDER BY l.id ${lock} OF l`;
  return { sql: `UPDATE agents AS a SET ${sets.join(', ')} FROM (${source}) AS v WHERE ${where}`, params };
}

/**
 * Errors tied to the values of a row rather than to the database or the statement: data exceptions
 * (class 22: a NUL or an unpaired surrogate escape, a value out of range), integrity violations (23)
 * and program limits (54: a jsonb too large). Retrying them cannot succeed.
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^(22|23|54)/.test(code);
}
