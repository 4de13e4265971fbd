import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Not, Repository } from 'typeorm';
import { Clock, Page, PageQuery, paginate } from '@ampora/platform';
import { GroupEntity, GroupKind } from './entities/group.entity';

export interface GroupFilter {
  tenantId: string;
  deleted: boolean;
  kind?: GroupKind;
}

@Injectable()
export class GroupRepository {
  constructor(private readonly clock: Clock, @InjectRepository(GroupEntity) private readonly repo: Repository<GroupEntity>) {}

  private r(manager?: EntityManager): Repository<GroupEntity> {
    return manager ? manager.getRepository(GroupEntity) : this.repo;
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<GroupEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, id } });
  }

  findLiveByName(tenantId: string, name: string, manager?: EntityManager): Promise<GroupEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, name, deletedAt: IsNull() } });
  }

  /**
   * Reads the group and locks it: `update` for changes to the group itself (assignment, delete),
   * `share` for changes to its membership (so a concurrent assignment change cannot slip between
   * reading the group's version and materialising it on the moved agents).
   */
  lock(manager: EntityManager, tenantId: string, id: string, mode: 'update' | 'share'): Promise<GroupEntity | null> {
    return manager.getRepository(GroupEntity).findOne({ where: { tenantId, id }, lock: { mode: mode === 'update' ? 'pessimistic_write' : 'pessimistic_read' } });
  }

  /** Locks several groups for membership changes, in id order (no deadlocks between reconcilers). */
  async lockShared(manager: EntityManager, tenantId: string, ids: string[]): Promise<GroupEntity[]> {
    if (ids.length === 0) return [];
    return manager
      .getRepository(GroupEntity)
      .createQueryBuilder('g')
      .where('g.tenantId = :tenantId AND g.id IN (:...ids)', { tenantId, ids: [...ids].sort() })
      .orderBy('g.id')
      .setLock('pessimistic_read')
      .getMany();
  }

  insert(manager: EntityManager, row: Pick<GroupEntity, 'tenantId' | 'name' | 'description' | 'kind' | 'selector' | 'priority' | 'createdBy'>): Promise<GroupEntity> {
    const repo = manager.getRepository(GroupEntity);
    return repo.save(repo.create(row));
  }

  save(manager: EntityManager, row: GroupEntity): Promise<GroupEntity> {
    row.updatedAt = this.clock.now();
    return manager.getRepository(GroupEntity).save(row);
  }

  /** Live dynamic groups in reconcile order: higher priority first, then the older group, then id. */
  dynamicGroups(tenantId: string): Promise<GroupEntity[]> {
    return this.repo.find({
      where: { tenantId, kind: 'Dynamic', deletedAt: IsNull(), selector: Not(IsNull()) },
      order: { priority: 'DESC', createdAt: 'ASC', id: 'ASC' },
    });
  }

  list(filter: GroupFilter, page: PageQuery): Promise<Page<GroupEntity>> {
    const qb = this.repo.createQueryBuilder('g').where('g.tenantId = :tenantId', { tenantId: filter.tenantId });
    qb.andWhere(filter.deleted ? 'g.deletedAt IS NOT NULL' : 'g.deletedAt IS NULL');
    if (filter.kind) qb.andWhere('g.kind = :kind', { kind: filter.kind });
    return paginate(qb, { alias: 'g', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  async memberCounts(ids: string[], manager?: EntityManager): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ group_id: string; n: string }> = await (manager ?? this.repo.manager).query(`SELECT group_id, count(*) AS n FROM agents WHERE group_id = ANY($1::uuid[]) GROUP BY group_id`, [ids]);
    return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
  }

  async tenantsWithGroups(): Promise<string[]> {
    const rows: Array<{ tenant_id: string }> = await this.repo.query(
      `SELECT DISTINCT tenant_id FROM groups WHERE kind = 'Dynamic' AND deleted_at IS NULL
       UNION SELECT DISTINCT a.tenant_id FROM agents a JOIN groups g ON g.id = a.group_id WHERE NOT a.group_pinned`,
    );
    return rows.map((r) => r.tenant_id);
  }
}
