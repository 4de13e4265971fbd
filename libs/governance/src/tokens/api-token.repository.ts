import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { ApiTokenEntity } from './entities/api-token.entity';

@Injectable()
export class ApiTokenRepository {
  constructor(@InjectRepository(ApiTokenEntity) private readonly repo: Repository<ApiTokenEntity>) {}

  findByHash(tokenHash: string): Promise<ApiTokenEntity | null> {
    return this.repo.findOne({ where: { tokenHash } });
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<ApiTokenEntity | null> {
    const repo = manager ? manager.getRepository(ApiTokenEntity) : this.repo;
    return repo.findOne({ where: { tenantId, id } });
  }

  /** Whether the tenant has a usable token with this role (not revoked, not expired at `now`). */
  async hasUsable(tenantId: string, role: string, now: Date): Promise<boolean> {
    const n = await this.repo
      .createQueryBuilder('t')
      .where('t.tenantId = :tenantId AND t.role = :role AND t.revokedAt IS NULL AND (t.expiresAt IS NULL OR t.expiresAt > :now)', { tenantId, role, now })
      .getCount();
    return n > 0;
  }

  list(tenantId: string, page: PageQuery): Promise<Page<ApiTokenEntity>> {
    const qb = this.repo.createQueryBuilder('t').where('t.tenantId = :tenantId', { tenantId });
    return paginate(qb, { alias: 't', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  insert(manager: EntityManager, row: Pick<ApiTokenEntity, 'tenantId' | 'name' | 'role' | 'tokenHash' | 'createdBy' | 'expiresAt'>): Promise<ApiTokenEntity> {
    const repo = manager.getRepository(ApiTokenEntity);
    return repo.save(repo.create(row));
  }

  /** Whether a token of the tenant (revoked or not) has this name. */
  async nameTaken(manager: EntityManager, tenantId: string, name: string): Promise<boolean> {
    return (await manager.getRepository(ApiTokenEntity).count({ where: { tenantId, name } })) > 0;
  }

  /** Inserts unless a token with the same hash exists; true when inserted. */
  async insertIfAbsent(row: Pick<ApiTokenEntity, 'tenantId' | 'name' | 'role' | 'tokenHash' | 'createdBy'>): Promise<boolean> {
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .into(ApiTokenEntity)
      .values(row)
      .orIgnore()
      .execute();
    return Array.isArray(result.raw) && result.raw.length > 0;
  }

  async markRevoked(manager: EntityManager, id: string, at: Date): Promise<void> {
    await manager.getRepository(ApiTokenEntity).update({ id, revokedAt: IsNull() }, { revokedAt: at });
  }

  /** Records use, at most once a minute per token, so authentication rarely writes. */
  async touch(id: string, at: Date): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .update(ApiTokenEntity)
      .set({ lastUsedAt: at })
      .where('id = :id AND (last_used_at IS NULL OR last_used_at < :stale)', { id, stale: new Date(at.getTime() - 60_000) })
      .execute();
  }
}
