import { MigrationInterface, QueryRunner } from 'typeorm';
import { suffixedName } from '../unique-names';

/**
 * Everyday operations on agents and tokens (decisions 0160–0166):
 * - API token names are unique per tenant (the name is the audit actor). Existing duplicates keep the
 *   oldest token's name; the later ones get `-2`, `-3`, ... (the first free suffix, within 100 chars).
 * - Operator tags are filtered with containment (`tags @> {"k":"v"}`), like labels.
 * - The retention sweep finds disconnected agents by their disconnection time.
 */
export class AgentOperations1764000050000 implements MigrationInterface {
  name = 'AgentOperations1764000050000';

  async up(q: QueryRunner): Promise<void> {
    const duplicates: Array<{ id: string; tenant_id: string; name: string }> = await q.query(`
      SELECT id, tenant_id, name FROM (
        SELECT id, tenant_id, name, row_number() OVER (PARTITION BY tenant_id, name ORDER BY created_at, id) AS n FROM api_tokens
      ) ranked WHERE n > 1 ORDER BY tenant_id, name, n`);
    if (duplicates.length) {
      const taken = new Set<string>(
        ((await q.query(`SELECT tenant_id, name FROM api_tokens`)) as Array<{ tenant_id: string; name: string }>).map((r) => `${r.tenant_id}/${r.name}`),
      );
      for (const d of duplicates) {
        const name = suffixedName(d.name, (candidate) => taken.has(`${d.tenant_id}/${candidate}`));
        taken.add(`${d.tenant_id}/${name}`);
        await q.query(`UPDATE api_tokens SET name = $2 WHERE id = $1`, [d.id, name]);
      }
    }
    await q.query(`CREATE UNIQUE INDEX ux_api_tokens_tenant_name ON api_tokens (tenant_id, name)`);

    await q.query(`CREATE INDEX ix_agents_tags ON agents USING gin (tags jsonb_path_ops)`);
    await q.query(`CREATE INDEX ix_agents_disconnected ON agents (disconnected_at) WHERE connected = false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_agents_disconnected`);
    await q.query(`DROP INDEX ix_agents_tags`);
    await q.query(`DROP INDEX ux_api_tokens_tenant_name`);
  }
}
