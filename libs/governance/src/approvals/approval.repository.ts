import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { ApprovalStatus, ApprovalSubjectKind } from '../domain/approval';
import { ApprovalRequestEntity } from './entities/approval-request.entity';

export interface ApprovalFilter {
  tenantId: string;
  status?: ApprovalStatus;
  subjectKind?: ApprovalSubjectKind;
  subjectId?: string;
  author?: string;
}

@Injectable()
export class ApprovalRepository {
  constructor(@InjectRepository(ApprovalRequestEntity) private readonly repo: Repository<ApprovalRequestEntity>) {}

  private of(manager?: EntityManager): Repository<ApprovalRequestEntity> {
    return manager ? manager.getRepository(ApprovalRequestEntity) : this.repo;
  }

  find(tenantId: string, id: string, manager?: EntityManager): Promise<ApprovalRequestEntity | null> {
    return this.of(manager).findOne({ where: { tenantId, id } });
  }

  /** The request row locked for a decision or an edit (FOR UPDATE, inside the caller's transaction). */
  lock(manager: EntityManager, tenantId: string, id: string): Promise<ApprovalRequestEntity | null> {
    return manager.getRepository(ApprovalRequestEntity).createQueryBuilder('a').setLock('pessimistic_write').where('a.tenantId = :tenantId AND a.id = :id', { tenantId, id }).getOne();
  }

  lockPendingFor(manager: EntityManager, tenantId: string, subjectKind: ApprovalSubjectKind, subjectId: string): Promise<ApprovalRequestEntity | null> {
    return manager
      .getRepository(ApprovalRequestEntity)
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .where('a.tenantId = :tenantId AND a.subjectKind = :subjectKind AND a.subjectId = :subjectId AND a.status = :status', { tenantId, subjectKind, subjectId, status: ApprovalStatus.Pending })
      .getOne();
  }

  save(manager: EntityManager, row: ApprovalRequestEntity): Promise<ApprovalRequestEntity> {
    return manager.getRepository(ApprovalRequestEntity).save(row);
  }

  create(manager: EntityManager, row: Omit<ApprovalRequestEntity, 'id'>): Promise<ApprovalRequestEntity> {
    const repo = manager.getRepository(ApprovalRequestEntity);
    return repo.save(repo.create(row));
  }

  list(filter: ApprovalFilter, page: PageQuery): Promise<Page<ApprovalRequestEntity>> {
    const qb = this.repo.createQueryBuilder('a').where('a.tenantId = :tenantId', { tenantId: filter.tenantId });
    if (filter.status) qb.andWhere('a.status = :status', { status: filter.status });
    if (filter.subjectKind) qb.andWhere('a.subjectKind = :subjectKind', { subjectKind: filter.subjectKind });
    if (filter.subjectId) qb.andWhere('a.subjectId = :subjectId', { subjectId: filter.subjectId });
    if (filter.author) qb.andWhere(`a.authors @> :author::jsonb`, { author: JSON.stringify([{ actor: filter.author }]) });
    return paginate(qb, { alias: 'a', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }
}
