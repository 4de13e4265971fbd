import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate, prepared, returnedRows } from '@ampora/platform';
import type { StoredConfigFiles } from '../agents/entities/agent.entity';
import { BootstrapTokenEntity } from './entities/bootstrap-token.entity';

/** What a redemption statement found and did for one request (decisions 0415, 0440). */
export interface RedemptionRow {
  /** The token as it was when locked; null when there is no such token. */
  token: BootstrapTokenEntity | null;
  /** The agent it made; null when it made none (the token was not redeemable, or the uid was taken). */
  agent: { id: string; agentType: string; groupId: string | null; assignedConfig: StoredConfigFiles | null; assignedConfigHash: string | null } | null;
}

/** One redemption of a statement: a token (each at most once in a statement) by an agent of this uid. */
export interface RedemptionRequest {
  tokenId: string;
  instanceUid: string;
  /** The agent's capabilities (a uint64 as a decimal string). */
  capabilities: string;
}

/** A bootstrap_tokens row as plain SQL returns it (TOKEN_COLUMNS). */
interface TokenSqlRow {
  id: string;
  tenant_id: string;
  label: string;
  token_hash: string;
  group_id: string | null;
  labels: Record<string, string>;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
  agent_id: string | null;
  revoked_at: Date | null;
}

const TOKEN_COLUMNS = 'id, tenant_id, label, token_hash, group_id, labels, created_by, created_at, expires_at, redeemed_at, agent_id, revoked_at';
/** The tokens of an array of hashes: one text for any number of them, so it is prepared once per connection (decision 0444). */
const TOKENS_BY_HASHES_SQL = prepared(`SELECT ${TOKEN_COLUMNS} FROM bootstrap_tokens WHERE token_hash = ANY($1::char(64)[])`);

function tokenFromRow(r: TokenSqlRow): BootstrapTokenEntity {
  return Object.assign(new BootstrapTokenEntity(), {
    id: r.id,
    tenantId: r.tenant_id,
    label: r.label,
    tokenHash: r.token_hash,
    groupId: r.group_id,
    labels: r.labels,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    redeemedAt: r.redeemed_at,
    agentId: r.agent_id,
    revokedAt: r.revoked_at,
  });
}

/** One answer of a redemption statement: the request's token (no id when there is none) and the agent it made. */
interface RedemptionSqlRow extends Omit<TokenSqlRow, 'id'> {
  id: string | null;
  new_agent_id: string | null;
  new_agent_type: string | null;
  new_group_id: string | null;
  new_assigned_config: StoredConfigFiles | null;
  new_assigned_config_hash: string | null;
}

@Injectable()
export class BootstrapTokenRepository {
  constructor(@InjectRepository(BootstrapTokenEntity) private readonly repo: Repository<BootstrapTokenEntity>) {}

  /**
   * The tokens of several hashes in one statement (decision 0425), by hash; unknown hashes are absent.
   * Plain SQL (decision 0441): every connecting agent asks, and the ORM's query building and
   * hydration cost more than the statement.
   */
  async findByHashes(tokenHashes: readonly string[]): Promise<Map<string, BootstrapTokenEntity>> {
    const hashes = [...new Set(tokenHashes)];
    if (hashes.length === 0) return new Map();
    const rows = (await this.repo.query(TOKENS_BY_HASHES_SQL, [hashes])) as TokenSqlRow[];
    return new Map(rows.map((row) => [row.token_hash, tokenFromRow(row)]));
  }

  /**
   * Redeems bootstrap tokens in one statement (decisions 0415, 0440), each request on its own: locks
   * the tokens (in id order), and for each that is neither revoked, redeemed nor expired at `now`,
   * places the new agent in the token's group if that is still live (locked shared, as an assignment
   * change locks it exclusively, with the group's assigned version copied onto the agent), inserts
   * the agent, marks the token redeemed by it and writes the audit event (`audit`: the governance
   * part of the statement, gated on the agent CTE `agent`). A uid another agent of the tenant has
   * makes no agent for that request (ON CONFLICT DO NOTHING): the caller tries again with a new uid.
   * No transaction around it: the statement is atomic, and a concurrent redemption of the same token
   * waits on the row lock, then sees it redeemed. A token may appear only once per statement.
   * Answers in the order of `requests`.
   */
  async redeem(
    requests: readonly RedemptionRequest[],
    now: Date,
    audit: (param: (value: unknown) => string) => string,
  ): Promise<RedemptionRow[]> {
    if (new Set(requests.map((r) => r.tokenId)).size !== requests.length) throw new Error('a redemption statement redeems each token once');
    const params: unknown[] = [requests.map((r) => r.tokenId), requests.map((r) => r.instanceUid), requests.map((r) => r.capabilities), now];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    // the token CTE first: the statement's metric label stays `with bootstrap_tokens`
    const sql = `WITH token AS (
        SELECT ${TOKEN_COLUMNS}
        FROM bootstrap_tokens WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
      ), req AS (
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) WITH ORDINALITY AS r(token_id, instance_uid, capabilities, n)
      ), live AS (
        SELECT t.*, r.instance_uid AS req_uid, r.capabilities AS req_capabilities, r.n
        FROM token t JOIN req r ON r.token_id = t.id WHERE t.revoked_at IS NULL AND t.redeemed_at IS NULL AND t.expires_at > $4::timestamptz
      ), grp AS (
        SELECT g.id, g.kind, g.assigned_version_id, g.tenant_id FROM groups g JOIN (SELECT DISTINCT group_id, tenant_id FROM live) t ON g.id = t.group_id AND g.tenant_id = t.tenant_id
        WHERE g.deleted_at IS NULL FOR SHARE OF g
      ), ver AS (
        SELECT v.id, v.files, v.config_hash, v.content_hash, v.tenant_id FROM configuration_versions v JOIN grp ON v.id = grp.assigned_version_id AND v.tenant_id = grp.tenant_id
      ), agent AS (
        INSERT INTO agents (tenant_id, instance_uid, identity_kind, bootstrap_token_id, group_id, group_pinned, assignment_source, assigned_version_id,
                            assigned_config, assigned_config_hash, assigned_content_hash, assigned_at, tags, labels, capabilities)
        SELECT t.tenant_id, t.req_uid, 'token', t.id, g.id, COALESCE(g.kind = 'Static', false), CASE WHEN v.id IS NOT NULL THEN 'group' END, v.id,
               v.files, v.config_hash, v.content_hash, CASE WHEN v.id IS NOT NULL THEN $4::timestamptz END, t.labels, t.labels, t.req_capabilities
        FROM live t LEFT JOIN grp g ON g.id = t.group_id AND g.tenant_id = t.tenant_id LEFT JOIN ver v ON v.id = g.assigned_version_id AND v.tenant_id = g.tenant_id
        ORDER BY t.n
        ON CONFLICT DO NOTHING
        RETURNING id, bootstrap_token_id, agent_type, group_id, assigned_config, assigned_config_hash
      ), redeemed AS (
        UPDATE bootstrap_tokens b SET redeemed_at = $4::timestamptz, agent_id = a.id FROM agent a WHERE b.id = a.bootstrap_token_id RETURNING b.id
      ), ${audit(param)}
      SELECT t.*, a.id AS new_agent_id, a.agent_type AS new_agent_type, a.group_id AS new_group_id,
             a.assigned_config AS new_assigned_config, a.assigned_config_hash AS new_assigned_config_hash
      FROM req r LEFT JOIN token t ON t.id = r.token_id LEFT JOIN agent a ON a.bootstrap_token_id = r.token_id
      ORDER BY r.n`;
    const rows = (await this.repo.query(prepared(sql), params)) as RedemptionSqlRow[];
    if (rows.length !== requests.length) throw new Error(`a redemption statement answered ${rows.length} rows for ${requests.length} requests`);
    return rows.map((r) => {
      if (!r.id) return { token: null, agent: null };
      const token = tokenFromRow({ ...r, id: r.id });
      const agent = r.new_agent_id
        ? { id: r.new_agent_id, agentType: r.new_agent_type ?? '', groupId: r.new_group_id, assignedConfig: r.new_assigned_config, assignedConfigHash: r.new_assigned_config_hash }
        : null;
      return { token, agent };
    });
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<BootstrapTokenEntity | null> {
    return (manager ? manager.getRepository(BootstrapTokenEntity) : this.repo).findOne({ where: { tenantId, id } });
  }

  list(tenantId: string, page: PageQuery): Promise<Page<BootstrapTokenEntity>> {
    const qb = this.repo.createQueryBuilder('t').where('t.tenantId = :tenantId', { tenantId });
    return paginate(qb, { alias: 't', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  insert(manager: EntityManager, row: Omit<BootstrapTokenEntity, 'id' | 'createdAt' | 'redeemedAt' | 'agentId' | 'revokedAt' | 'tenant'>): Promise<BootstrapTokenEntity> {
    const repo = manager.getRepository(BootstrapTokenEntity);
    return repo.save(repo.create(row));
  }

  async markRevoked(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.getRepository(BootstrapTokenEntity).update({ id }, { revokedAt: at });
  }

  /** Revokes the live tokens bound to these agents (redeemed by them); returns their ids. */
  async revokeForAgents(manager: EntityManager, tenantId: string, agentIds: string[], at: Date): Promise<string[]> {
    if (agentIds.length === 0) return [];
    const rows = returnedRows<{ id: string }>(
      await manager.query(`UPDATE bootstrap_tokens SET revoked_at = $3 WHERE tenant_id = $1 AND agent_id = ANY($2::uuid[]) AND revoked_at IS NULL RETURNING id`, [tenantId, agentIds, at]),
    );
    return rows.map((r) => r.id);
  }
}
