import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { AuditEventEntity } from './entities/audit-event.entity';
import { AuditEventWithArchiveView } from './entities/audit-event-with-archive.view';

export interface AuditFilter {
  tenantId: string;
  actor?: string;
  action?: string[];
  entityType?: string;
  entityId?: string;
  since?: Date;
  until?: Date;
  /** Also read `audit_event_archive` (Admin only; the caller checks). */
  includeArchive?: boolean;
}

export type AuditRow = AuditEventEntity & { archived?: boolean };

@Injectable()
export class AuditRepository {
  constructor(
    @InjectRepository(AuditEventEntity) private readonly repo: Repository<AuditEventEntity>,
    @InjectRepository(AuditEventWithArchiveView) private readonly withArchive: Repository<AuditEventWithArchiveView>,
  ) {}

  async insert(manager: EntityManager | undefined, row: Omit<AuditEventEntity, 'id' | 'occurredAt'>): Promise<AuditEventEntity> {
    const repo = manager ? manager.getRepository(AuditEventEntity) : this.repo;
    return repo.save(repo.create(row));
  }

  list(filter: AuditFilter, page: PageQuery): Promise<Page<AuditRow>> {
    const source = filter.includeArchive ? this.withArchive : this.repo;
    const qb = (source as Repository<AuditRow>).createQueryBuilder('e').where('e.tenantId = :tenantId', { tenantId: filter.tenantId });
    if (filter.actor) qb.andWhere('e.actor = :actor', { actor: filter.actor });
    if (filter.action?.length) qb.andWhere('e.action IN (:...action)', { action: filter.action });
    if (filter.entityType) qb.andWhere('e.entityType = :entityType', { entityType: filter.entityType });
    if (filter.entityId) qb.andWhere('e.entityId = :entityId', { entityId: filter.entityId });
    if (filter.since) qb.andWhere('e.occurredAt >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('e.occurredAt < :until', { until: filter.until });
    return paginate(qb, { alias: 'e', column: 'occurredAt', direction: 'DESC', query: page, key: (r) => r.occurredAt.toISOString() });
  }
}
