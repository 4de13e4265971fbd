import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate, returnedRows } from '@ampora/platform';
import { RolloutEntity } from '../entities/rollout.entity';

/** Persistence of the rollouts themselves (the `rollouts` table): rows, locks, listing and the engine's lease. */
@Injectable()
export class RolloutRepository {
  constructor(
    @InjectRepository(RolloutEntity) private readonly rollouts: Repository<RolloutEntity>,
    private readonly dataSource: DataSource,
  ) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  insert(manager: EntityManager, values: Partial<RolloutEntity>): Promise<RolloutEntity> {
    const repo = manager.getRepository(RolloutEntity);
    return repo.save(repo.create(values));
  }

  save(manager: EntityManager, rollout: RolloutEntity, at: Date): Promise<RolloutEntity> {
    rollout.updatedAt = at;
    return manager.getRepository(RolloutEntity).save(rollout);
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<RolloutEntity | null> {
    return this.manager(manager).getRepository(RolloutEntity).findOne({ where: { tenantId, id } });
  }

  findById(id: string, manager?: EntityManager): Promise<RolloutEntity | null> {
    return this.manager(manager).getRepository(RolloutEntity).findOne({ where: { id } });
  }

  /** The rollout, locked against every other transition until the transaction ends. */
  lock(manager: EntityManager, id: string, mode: 'update' | 'share' = 'update'): Promise<RolloutEntity | null> {
    return manager.getRepository(RolloutEntity).findOne({ where: { id }, lock: { mode: mode === 'update' ? 'pessimistic_write' : 'pessimistic_read' } });
  }

  list(tenantId: string, filter: { state?: string }, page: PageQuery): Promise<Page<RolloutEntity>> {
    const qb = this.rollouts.createQueryBuilder('r').where('r.tenantId = :tenantId', { tenantId });
    if (filter.state) qb.andWhere('r.state = :state', { state: filter.state });
    return paginate(qb, { alias: 'r', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  /** An active rollout (any kind) on the group, if there is one. */
  async activeOnGroup(manager: EntityManager, groupId: string): Promise<string | null> {
    const rows: Array<{ id: string }> = await manager.query(`SELECT id FROM rollouts WHERE group_id = $1 AND state IN ('Pending', 'InProgress', 'Paused') LIMIT 1`, [groupId]);
    return rows[0]?.id ?? null;
  }

  /** Active rollouts (for the worker's start-up sweep). */
  async activeIds(): Promise<Array<{ id: string; tenantId: string }>> {
    const rows: Array<{ id: string; tenant_id: string }> = await this.dataSource.query(`SELECT id, tenant_id FROM rollouts WHERE state IN ('InProgress', 'Paused')`);
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id }));
  }

  // ----- the engine's lease (the database's time: it is shared by every worker) -----

  async acquireLease(id: string, owner: string, seconds: number): Promise<boolean> {
    const rows = returnedRows(
      await this.dataSource.query(
        `UPDATE rollouts SET engine_owner = $2, engine_lease_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND state = 'InProgress' AND (engine_owner IS NULL OR engine_owner = $2 OR engine_lease_until < now())
         RETURNING id`,
        [id, owner, seconds],
      ),
    );
    return rows.length > 0;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.dataSource.query(`UPDATE rollouts SET engine_owner = NULL, engine_lease_until = NULL WHERE id = $1 AND engine_owner = $2`, [id, owner]);
  }
}
