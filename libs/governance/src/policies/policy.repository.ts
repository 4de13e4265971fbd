import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { DEFAULT_POLICY_SETTINGS, TenantPolicySettings } from '../domain/policy/policy-evaluation';
import { PolicyStatus } from '../domain/policy/policy-lifecycle';
import { PolicyEntity, TenantPolicySettingsEntity } from './entities/policy.entity';

@Injectable()
export class PolicyRepository {
  constructor(
    @InjectRepository(PolicyEntity) private readonly repo: Repository<PolicyEntity>,
    @InjectRepository(TenantPolicySettingsEntity) private readonly settingsRepo: Repository<TenantPolicySettingsEntity>,
  ) {}

  find(tenantId: string, id: string, manager?: EntityManager): Promise<PolicyEntity | null> {
    return (manager ? manager.getRepository(PolicyEntity) : this.repo).findOne({ where: { tenantId, id } });
  }

  lock(manager: EntityManager, tenantId: string, id: string): Promise<PolicyEntity | null> {
    return manager.getRepository(PolicyEntity).createQueryBuilder('p').setLock('pessimistic_write').where('p.tenantId = :tenantId AND p.id = :id', { tenantId, id }).getOne();
  }

  async nameTaken(manager: EntityManager, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
    const qb = manager.getRepository(PolicyEntity).createQueryBuilder('p').where('p.tenantId = :tenantId AND lower(p.name) = lower(:name)', { tenantId, name });
    if (exceptId) qb.andWhere('p.id <> :exceptId', { exceptId });
    return (await qb.getCount()) > 0;
  }

  save(manager: EntityManager, row: PolicyEntity): Promise<PolicyEntity> {
    return manager.getRepository(PolicyEntity).save(row);
  }

  create(manager: EntityManager, row: Omit<PolicyEntity, 'id'>): Promise<PolicyEntity> {
    const repo = manager.getRepository(PolicyEntity);
    return repo.save(repo.create(row));
  }

  active(tenantId: string): Promise<PolicyEntity[]> {
    return this.repo.find({ where: { tenantId, status: PolicyStatus.Active }, order: { name: 'ASC' } });
  }

  list(tenantId: string, status: PolicyStatus | undefined, page: PageQuery): Promise<Page<PolicyEntity>> {
    const qb = this.repo.createQueryBuilder('p').where('p.tenantId = :tenantId', { tenantId });
    if (status) qb.andWhere('p.status = :status', { status });
    return paginate(qb, { alias: 'p', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  async settings(tenantId: string): Promise<TenantPolicySettings> {
    const row = await this.settingsRepo.findOne({ where: { tenantId } });
    return row ? { mode: row.mode, exporterSwap: row.exporterSwap, insecureTlsExporter: row.insecureTlsExporter, fourEyes: row.fourEyes } : { ...DEFAULT_POLICY_SETTINGS };
  }

  async saveSettings(manager: EntityManager, tenantId: string, settings: TenantPolicySettings, now: Date): Promise<void> {
    await manager.getRepository(TenantPolicySettingsEntity).upsert({ tenantId, ...settings, updatedAt: now }, ['tenantId']);
  }
}
