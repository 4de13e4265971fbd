import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { GitSourceEntity } from './entities/git-source.entity';

@Injectable()
export class GitSourceRepository {
  constructor(@InjectRepository(GitSourceEntity) private readonly repo: Repository<GitSourceEntity>) {}

  private r(manager?: EntityManager): Repository<GitSourceEntity> {
    return manager ? manager.getRepository(GitSourceEntity) : this.repo;
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<GitSourceEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, id } });
  }

  /** Any tenant's source (the worker and the webhook, which know only the id). */
  findById(id: string): Promise<GitSourceEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  lock(manager: EntityManager, tenantId: string, id: string): Promise<GitSourceEntity | null> {
    return manager.getRepository(GitSourceEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
  }

  insert(manager: EntityManager, row: Partial<GitSourceEntity>): Promise<GitSourceEntity> {
    const repo = manager.getRepository(GitSourceEntity);
    return repo.save(repo.create(row));
  }

  /** An unsaved source (a creation waiting for its approval is answered as it will be). */
  build(row: Partial<GitSourceEntity>): GitSourceEntity {
    return this.repo.create(row);
  }

  /** Whether another source of the tenant has this name. */
  async nameTaken(manager: EntityManager, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
    const found = await manager.getRepository(GitSourceEntity).findOne({ where: { tenantId, name }, select: { id: true } });
    return found !== null && found.id !== exceptId;
  }

  save(manager: EntityManager, row: GitSourceEntity): Promise<GitSourceEntity> {
    return manager.getRepository(GitSourceEntity).save(row);
  }

  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.getRepository(GitSourceEntity).delete({ id });
  }

  list(tenantId: string, page: PageQuery): Promise<Page<GitSourceEntity>> {
    const qb = this.repo.createQueryBuilder('s').where('s.tenantId = :tenantId', { tenantId });
    return paginate(qb, { alias: 's', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  /** Every Active source of every tenant (the worker keeps one job scheduler per each). */
  active(): Promise<Array<Pick<GitSourceEntity, 'id' | 'tenantId' | 'pollIntervalSeconds'>>> {
    return this.repo.find({ where: { status: 'Active' }, select: { id: true, tenantId: true, pollIntervalSeconds: true } });
  }

  /** Records the tip a sweep imported. */
  async markSynced(id: string, sha: string, at: Date, manager?: EntityManager): Promise<void> {
    await this.r(manager).update({ id }, { lastSyncedSha: sha, lastSyncedAt: at });
  }
}
