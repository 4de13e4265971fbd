import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { ApprovalRuleStatus } from '../domain/approval-rules/approval-rule';
import { ApprovalRuleEntity } from './entities/approval-rule.entity';

@Injectable()
export class ApprovalRuleRepository {
  constructor(@InjectRepository(ApprovalRuleEntity) private readonly repo: Repository<ApprovalRuleEntity>) {}

  find(tenantId: string, id: string): Promise<ApprovalRuleEntity | null> {
    return this.repo.findOne({ where: { tenantId, id } });
  }

  lock(manager: EntityManager, tenantId: string, id: string): Promise<ApprovalRuleEntity | null> {
    return manager.getRepository(ApprovalRuleEntity).createQueryBuilder('r').setLock('pessimistic_write').where('r.tenantId = :tenantId AND r.id = :id', { tenantId, id }).getOne();
  }

  async nameTaken(manager: EntityManager, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
    const qb = manager.getRepository(ApprovalRuleEntity).createQueryBuilder('r').where('r.tenantId = :tenantId AND lower(r.name) = lower(:name)', { tenantId, name });
    if (exceptId) qb.andWhere('r.id <> :exceptId', { exceptId });
    return (await qb.getCount()) > 0;
  }

  create(manager: EntityManager, row: Omit<ApprovalRuleEntity, 'id'>): Promise<ApprovalRuleEntity> {
    const repo = manager.getRepository(ApprovalRuleEntity);
    return repo.save(repo.create(row));
  }

  save(manager: EntityManager, row: ApprovalRuleEntity): Promise<ApprovalRuleEntity> {
    return manager.getRepository(ApprovalRuleEntity).save(row);
  }

  async remove(manager: EntityManager, tenantId: string, id: string): Promise<void> {
    await manager.getRepository(ApprovalRuleEntity).delete({ tenantId, id });
  }

  /** The tenant's Active rules of one operation (in `manager`'s transaction when given: embedded mode has one connection). */
  active(tenantId: string, operation: string, manager?: EntityManager): Promise<ApprovalRuleEntity[]> {
    return (manager ? manager.getRepository(ApprovalRuleEntity) : this.repo).find({ where: { tenantId, operation, status: ApprovalRuleStatus.Active }, order: { name: 'ASC' } });
  }

  list(tenantId: string, filter: { status?: ApprovalRuleStatus; operation?: string }, page: PageQuery): Promise<Page<ApprovalRuleEntity>> {
    const qb = this.repo.createQueryBuilder('r').where('r.tenantId = :tenantId', { tenantId });
    if (filter.status) qb.andWhere('r.status = :status', { status: filter.status });
    if (filter.operation) qb.andWhere('r.operation = :operation', { operation: filter.operation });
    return paginate(qb, { alias: 'r', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }
}
