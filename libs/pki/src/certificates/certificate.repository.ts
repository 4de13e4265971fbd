import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, MoreThan, Not, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { CertificateEntity } from './entities/certificate.entity';

@Injectable()
export class CertificateRepository {
  constructor(@InjectRepository(CertificateEntity) private readonly repo: Repository<CertificateEntity>) {}

  private r(manager?: EntityManager): Repository<CertificateEntity> {
    return manager ? manager.getRepository(CertificateEntity) : this.repo;
  }

  insert(manager: EntityManager, row: Partial<CertificateEntity>): Promise<CertificateEntity> {
    const repo = manager.getRepository(CertificateEntity);
    return repo.save(repo.create(row));
  }

  findByFingerprint(fingerprint: string, manager?: EntityManager): Promise<CertificateEntity | null> {
    return this.r(manager).findOne({ where: { fingerprint } });
  }

  lockByFingerprint(manager: EntityManager, fingerprint: string): Promise<CertificateEntity | null> {
    return manager.getRepository(CertificateEntity).findOne({ where: { fingerprint }, lock: { mode: 'pessimistic_write' } });
  }

  findById(id: string, manager?: EntityManager): Promise<CertificateEntity | null> {
    return this.r(manager).findOne({ where: { id } });
  }

  lockById(manager: EntityManager, tenantId: string, id: string): Promise<CertificateEntity | null> {
    return manager.getRepository(CertificateEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
  }

  findInTenant(tenantId: string, id: string): Promise<CertificateEntity | null> {
    return this.repo.findOne({ where: { tenantId, id } });
  }

  findBySerial(signingKeyId: string, serialNumber: string, manager?: EntityManager): Promise<CertificateEntity | null> {
    return this.r(manager).findOne({ where: { signingKeyId, serialNumber } });
  }

  /** Every certificate of an agent, newest first. */
  forAgent(agentId: string, manager?: EntityManager): Promise<CertificateEntity[]> {
    return this.r(manager).find({ where: { agentId }, order: { createdAt: 'DESC' } });
  }

  /** Locks the agent's certificates of a tenant (revocation). */
  lockForAgent(manager: EntityManager, tenantId: string, agentId: string): Promise<CertificateEntity[]> {
    return manager.getRepository(CertificateEntity).find({ where: { tenantId, agentId }, order: { createdAt: 'DESC' }, lock: { mode: 'pessimistic_write' } });
  }

  /** The certificates of several agents, locked in one order (agent, then newest first). */
  lockForAgents(manager: EntityManager, tenantId: string, agentIds: string[]): Promise<CertificateEntity[]> {
    return manager.getRepository(CertificateEntity).find({ where: { tenantId, agentId: In(agentIds) }, order: { agentId: 'ASC', createdAt: 'DESC' }, lock: { mode: 'pessimistic_write' } });
  }

  /** Revokes certificates in one statement. */
  async revokeMany(manager: EntityManager, ids: string[], at: Date, reason: string): Promise<void> {
    if (ids.length) await manager.getRepository(CertificateEntity).update({ id: In(ids) }, { revokedAt: at, revocationReason: reason } as never);
  }

  /** Revoked certificates of a key that have not expired yet (what a CRL lists). */
  revokedForKey(signingKeyId: string, now: Date, manager?: EntityManager): Promise<CertificateEntity[]> {
    return this.r(manager).find({
      where: { signingKeyId, revokedAt: Not(IsNull()), notAfter: MoreThan(now) },
      select: { id: true, serialNumber: true, revokedAt: true, revocationReason: true },
      order: { revokedAt: 'ASC' },
    });
  }

  async update(manager: EntityManager, id: string, patch: Partial<CertificateEntity>): Promise<void> {
    await manager.getRepository(CertificateEntity).update({ id }, patch as never);
  }

  list(tenantId: string, filter: { agentId?: string }, page: PageQuery): Promise<Page<CertificateEntity>> {
    const qb = this.repo.createQueryBuilder('c').where('c.tenantId = :tenantId', { tenantId });
    if (filter.agentId) qb.andWhere('c.agentId = :agentId', { agentId: filter.agentId });
    return paginate(qb, { alias: 'c', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }
}
