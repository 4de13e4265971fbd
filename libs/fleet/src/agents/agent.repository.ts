import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { AgentStatus } from './domain/agent-derivations';
import { AgentEntity, StoredConfigFiles } from './entities/agent.entity';

export interface AgentFilter {
  tenantId: string;
  status?: AgentStatus;
  /** Each entry must match (`labels @> {key: value}`). */
  labels?: Array<{ key: string; value: string }>;
  text?: string;
  /** The heartbeat window that separates connected from stale. */
  staleAfterSeconds: number;
}

@Injectable()
export class AgentRepository {
  constructor(@InjectRepository(AgentEntity) private readonly repo: Repository<AgentEntity>) {}

  private r(manager?: EntityManager): Repository<AgentEntity> {
    return manager ? manager.getRepository(AgentEntity) : this.repo;
  }

  findById(id: string, manager?: EntityManager): Promise<AgentEntity | null> {
    return this.r(manager).findOne({ where: { id } });
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<AgentEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, id } });
  }

  async uidTaken(tenantId: string, instanceUid: string, exceptAgentId: string | undefined, manager?: EntityManager): Promise<boolean> {
    const row = await this.r(manager).findOne({ where: { tenantId, instanceUid }, select: { id: true } });
    return Boolean(row && row.id !== exceptAgentId);
  }

  insert(manager: EntityManager, row: Partial<AgentEntity> & Pick<AgentEntity, 'tenantId' | 'instanceUid' | 'identityKind'>): Promise<AgentEntity> {
    const repo = manager.getRepository(AgentEntity);
    return repo.save(repo.create(row));
  }

  async setInstanceUid(id: string, instanceUid: string): Promise<void> {
    await this.repo.update({ id }, { instanceUid });
  }

  /** The agent connected with this certificate (its identity is now the certificate). */
  async setCertificate(id: string, fingerprint: string): Promise<void> {
    await this.repo.update({ id }, { certFingerprint: fingerprint, identityKind: 'certificate' });
  }

  async setAssignedConfig(manager: EntityManager, id: string, assigned: { files: StoredConfigFiles; hash: string; contentHash: string; at: Date }): Promise<void> {
    await manager.getRepository(AgentEntity).update(
      { id },
      { assignedConfig: assigned.files, assignedConfigHash: assigned.hash, assignedContentHash: assigned.contentHash, assignedAt: assigned.at, failedConfigHash: null },
    );
  }

  list(filter: AgentFilter, page: PageQuery): Promise<Page<AgentEntity>> {
    const qb = this.repo.createQueryBuilder('a').where('a.tenantId = :tenantId', { tenantId: filter.tenantId });
    const cutoff = new Date(Date.now() - filter.staleAfterSeconds * 1000);
    if (filter.status === 'disconnected') qb.andWhere('a.connected = false');
    if (filter.status === 'connected') qb.andWhere('a.connected = true AND a.lastSeenAt >= :cutoff', { cutoff });
    if (filter.status === 'stale') qb.andWhere('a.connected = true AND (a.lastSeenAt IS NULL OR a.lastSeenAt < :cutoff)', { cutoff });
    filter.labels?.forEach((l, i) => qb.andWhere(`a.labels @> CAST(:label${i} AS jsonb)`, { [`label${i}`]: JSON.stringify({ [l.key]: l.value }) }));
    if (filter.text) {
      const like = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        new Brackets((b) =>
          b.where('a.displayName ILIKE :like', { like }).orWhere('a.agentType ILIKE :like').orWhere('CAST(a.instanceUid AS text) ILIKE :like').orWhere('CAST(a.labels AS text) ILIKE :like'),
        ),
      );
    }
    return paginate(qb, { alias: 'a', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }
}
