import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { AgentConfigEventEntity, AgentConfigEventKind } from './entities/agent-config-event.entity';

/** Entries kept per agent (decision 0111): the newest, older ones are deleted as new ones arrive. */
export const CONFIG_HISTORY_PER_AGENT = 200;

export interface NewConfigEvent {
  tenantId: string;
  agentId: string;
  at: Date;
  kind: AgentConfigEventKind;
  configHash: string;
  message: string | null;
}

/** An agent's remote-config history: pushes and the statuses the agent reported. */
@Injectable()
export class AgentConfigEventRepository {
  constructor(
    @InjectRepository(AgentConfigEventEntity) private readonly repo: Repository<AgentConfigEventEntity>,
    private readonly dataSource: DataSource,
  ) {}

  /** Inserts events (agents deleted meanwhile are skipped) and trims each agent's history to its newest entries. */
  async append(events: NewConfigEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 2000) {
      const chunk = events.slice(i, i + 2000);
      await this.dataSource.query(
        `INSERT INTO agent_config_events (tenant_id, agent_id, at, kind, config_hash, message)
         SELECT v.tenant_id, v.agent_id, v.at, v.kind, v.config_hash, v.message
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::varchar[], $5::varchar[], $6::text[]) AS v(tenant_id, agent_id, at, kind, config_hash, message)
         WHERE EXISTS (SELECT 1 FROM agents a WHERE a.id = v.agent_id)`,
        [chunk.map((e) => e.tenantId), chunk.map((e) => e.agentId), chunk.map((e) => e.at.toISOString()), chunk.map((e) => e.kind), chunk.map((e) => e.configHash), chunk.map((e) => e.message)],
      );
      const agents = [...new Set(chunk.map((e) => e.agentId))];
      await this.dataSource.query(
        `DELETE FROM agent_config_events WHERE id IN (
           SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY agent_id ORDER BY at DESC, id DESC) AS n FROM agent_config_events WHERE agent_id = ANY($1::uuid[])) x
           WHERE x.n > $2)`,
        [agents, CONFIG_HISTORY_PER_AGENT],
      );
    }
  }

  /** Newest first, keyset-paged. */
  list(tenantId: string, agentId: string, page: PageQuery): Promise<Page<AgentConfigEventEntity>> {
    const qb = this.repo.createQueryBuilder('e').where('e.tenantId = :tenantId AND e.agentId = :agentId', { tenantId, agentId });
    return paginate(qb, { alias: 'e', column: 'at', direction: 'DESC', query: page, key: (e) => e.at.toISOString() });
  }
}
