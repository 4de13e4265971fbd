import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Clock, Page, PageQuery, paginate } from '@ampora/platform';
import { ConfigurationEntity } from './entities/configuration.entity';

@Injectable()
export class ConfigurationRepository {
  constructor(private readonly clock: Clock, @InjectRepository(ConfigurationEntity) private readonly repo: Repository<ConfigurationEntity>) {}

  private r(manager?: EntityManager): Repository<ConfigurationEntity> {
    return manager ? manager.getRepository(ConfigurationEntity) : this.repo;
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<ConfigurationEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, id } });
  }

  findByName(tenantId: string, name: string, manager?: EntityManager): Promise<ConfigurationEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, name } });
  }

  /** Reads and locks the row (numbering versions, status changes of its versions). */
  lock(manager: EntityManager, tenantId: string, id: string): Promise<ConfigurationEntity | null> {
    return manager.getRepository(ConfigurationEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
  }

  insert(manager: EntityManager, row: Pick<ConfigurationEntity, 'tenantId' | 'name' | 'description' | 'source' | 'createdBy'>): Promise<ConfigurationEntity> {
    const repo = manager.getRepository(ConfigurationEntity);
    return repo.save(repo.create(row));
  }

  async bumpVersion(manager: EntityManager, id: string, latestVersion: number): Promise<void> {
    await manager.getRepository(ConfigurationEntity).update({ id }, { latestVersion, updatedAt: this.clock.now() });
  }

  async touch(manager: EntityManager, id: string): Promise<void> {
    await manager.getRepository(ConfigurationEntity).update({ id }, { updatedAt: this.clock.now() });
  }

  list(tenantId: string, page: PageQuery): Promise<Page<ConfigurationEntity>> {
    const qb = this.repo.createQueryBuilder('c').where('c.tenantId = :tenantId', { tenantId });
    return paginate(qb, { alias: 'c', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  async rename(manager: EntityManager, id: string, values: { name: string; description: string }): Promise<ConfigurationEntity> {
    const repo = manager.getRepository(ConfigurationEntity);
    await repo.update({ id }, { ...values, updatedAt: this.clock.now() });
    return (await repo.findOne({ where: { id } }))!;
  }

  /** Deletes the configuration and its versions (ON DELETE CASCADE); rows that reference them refuse it. */
  async delete(manager: EntityManager, id: string): Promise<void> {
    await manager.query(`DELETE FROM configurations WHERE id = $1`, [id]);
  }
}
