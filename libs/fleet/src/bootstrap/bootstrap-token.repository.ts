import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate, returnedRows } from '@ampora/platform';
import { BootstrapTokenEntity } from './entities/bootstrap-token.entity';

@Injectable()
export class BootstrapTokenRepository {
  constructor(@InjectRepository(BootstrapTokenEntity) private readonly repo: Repository<BootstrapTokenEntity>) {}

  findByHash(tokenHash: string): Promise<BootstrapTokenEntity | null> {
    return this.repo.findOne({ where: { tokenHash } });
  }

  /** Reads and locks the row for the rest of the transaction (redemption). */
  lockById(manager: EntityManager, id: string): Promise<BootstrapTokenEntity | null> {
    return manager.getRepository(BootstrapTokenEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
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

  async markRedeemed(manager: EntityManager, id: string, agentId: string, at: Date): Promise<void> {
    await manager.getRepository(BootstrapTokenEntity).update({ id }, { redeemedAt: at, agentId });
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
