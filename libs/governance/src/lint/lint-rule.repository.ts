import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { LintRuleStatus } from '../domain/lint/lint-rule';
import { LintRuleEntity } from './entities/lint-rule.entity';

@Injectable()
export class LintRuleRepository {
  constructor(@InjectRepository(LintRuleEntity) private readonly repo: Repository<LintRuleEntity>) {}

  find(tenantId: string, id: string): Promise<LintRuleEntity | null> {
    return this.repo.findOne({ where: { tenantId, id } });
  }

  lock(manager: EntityManager, tenantId: string, id: string): Promise<LintRuleEntity | null> {
    return manager.getRepository(LintRuleEntity).createQueryBuilder('r').setLock('pessimistic_write').where('r.tenantId = :tenantId AND r.id = :id', { tenantId, id }).getOne();
  }

  async nameTaken(manager: EntityManager, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
    const qb = manager.getRepository(LintRuleEntity).createQueryBuilder('r').where('r.tenantId = :tenantId AND lower(r.name) = lower(:name)', { tenantId, name });
    if (exceptId) qb.andWhere('r.id <> :exceptId', { exceptId });
    return (await qb.getCount()) > 0;
  }

  create(manager: EntityManager, row: Omit<LintRuleEntity, 'id'>): Promise<LintRuleEntity> {
    const repo = manager.getRepository(LintRuleEntity);
    return repo.save(repo.create(row));
  }

  save(manager: EntityManager, row: LintRuleEntity): Promise<LintRuleEntity> {
    return manager.getRepository(LintRuleEntity).save(row);
  }

  async remove(manager: EntityManager, tenantId: string, id: string): Promise<void> {
    await manager.getRepository(LintRuleEntity).delete({ tenantId, id });
  }

  /** The tenant's Active rules (what version validation runs). */
  /** In `manager`'s transaction when given (embedded mode has one connection: a read beside an open transaction would wait for it). */
  active(tenantId: string, manager?: EntityManager): Promise<LintRuleEntity[]> {
    return (manager ? manager.getRepository(LintRuleEntity) : this.repo).find({ where: { tenantId, status: LintRuleStatus.Active }, order: { name: 'ASC' } });
  }

  list(tenantId: string, status: LintRuleStatus | undefined, page: PageQuery): Promise<Page<LintRuleEntity>> {
    const qb = this.repo.createQueryBuilder('r').where('r.tenantId = :tenantId', { tenantId });
    if (status) qb.andWhere('r.status = :status', { status });
    return paginate(qb, { alias: 'r', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }
}
