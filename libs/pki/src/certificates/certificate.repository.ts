import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, MoreThan, Not, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Page, PageQuery, paginate, prepared } from '@ampora/platform';
import { CertificateEntity } from './entities/certificate.entity';

/** The columns a certificate's state is decided by (valid, unused, revoked, expired). */
export type CertificateValidity = Pick<CertificateEntity, 'agentId' | 'notBefore' | 'notAfter' | 'revokedAt' | 'revocationReason' | 'firstUsedAt'>;

const VALIDITY_FOR_AGENTS_SQL = prepared(
  `SELECT agent_id, not_before, not_after, revoked_at, revocation_reason, first_used_at FROM pki_certificates WHERE agent_id = ANY($1::uuid[]) ORDER BY agent_id, created_at DESC`,
);

@Injectable()
export class CertificateRepository {
  constructor(@InjectRepository(CertificateEntity) private readonly repo: Repository<CertificateEntity>) {}

  private r(manager?: EntityManager): Repository<CertificateEntity> {
    return manager ? manager.getRepository(CertificateEntity) : this.repo;
  }

  /** One INSERT … RETURNING (`save` would first SELECT the row by its id, which the issuer sets). */
  async insert(manager: EntityManager, row: Partial<CertificateEntity>): Promise<CertificateEntity> {
    const repo = manager.getRepository(CertificateEntity);
    const entity = repo.create(row);
    await repo.insert(entity as QueryDeepPartialEntity<CertificateEntity>);
    return entity;
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

  /**
   * What the state of several agents' certificates is made of, agent then newest first, in one
   * statement (decision 0444): every connecting agent with a bound token asks, so one prepared
   * statement with the few columns needed, not the ORM's whole rows (the certificate itself included).
   */
  async validityForAgents(agentIds: string[]): Promise<CertificateValidity[]> {
    if (agentIds.length === 0) return [];
    const rows = (await this.repo.query(VALIDITY_FOR_AGENTS_SQL, [agentIds])) as Array<{
      agent_id: string;
      not_before: Date;
      not_after: Date;
      revoked_at: Date | null;
      revocation_reason: string | null;
      first_used_at: Date | null;
    }>;
    return rows.map((r) => ({ agentId: r.agent_id, notBefore: r.not_before, notAfter: r.not_after, revokedAt: r.revoked_at, revocationReason: r.revocation_reason, firstUsedAt: r.first_used_at }));
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

  /** Sets first_used_at once; true when this call did. */
  async markFirstUse(manager: EntityManager, id: string, at: Date): Promise<boolean> {
    const result = await manager.getRepository(CertificateEntity).update({ id, firstUsedAt: IsNull() }, { firstUsedAt: at } as never);
    return (result.affected ?? 0) > 0;
  }

  /** Revokes (superseded) the agent's unrevoked server-made offers older than `offeredAt`, other than `keepId`. */
  async supersedeOlderOffers(manager: EntityManager, agentId: string, keepId: string, offeredAt: Date, at: Date): Promise<number> {
    const result = await manager
      .createQueryBuilder()
      .update(CertificateEntity)
      .set({ revokedAt: at, revocationReason: 'superseded' } as never)
      .where('agent_id = :agentId AND id <> :keepId AND revoked_at IS NULL AND key_source = :server AND offered_at IS NOT NULL AND offered_at < :offeredAt', { agentId, keepId, server: 'server', offeredAt })
      .execute();
    return result.affected ?? 0;
  }

  /** The agent's newest certificate that was offered over OpAMP. */
  latestOffer(agentId: string): Promise<CertificateEntity | null> {
    return this.repo.findOne({ where: { agentId, offeredAt: Not(IsNull()) }, order: { offeredAt: 'DESC' } });
  }

  /** Offers still open (not used, not marked, not revoked) made before `before`: the candidates of the offer watcher. */
  openOffersBefore(before: Date): Promise<CertificateEntity[]> {
    return this.repo
      .createQueryBuilder('c')
      .where('c.offered_at IS NOT NULL AND c.offered_at < :before AND c.first_used_at IS NULL AND c.offer_unusable_at IS NULL AND c.revoked_at IS NULL', { before })
      .getMany();
  }

  /** Marks these offers unusable, those still open (each once, whichever instance gets there first); returns them. */
  async markUnusableOffers(ids: string[], at: Date): Promise<CertificateEntity[]> {
    if (ids.length === 0) return [];
    const result = await this.repo
      .createQueryBuilder()
      .update(CertificateEntity)
      .set({ offerUnusableAt: at } as never)
      .where('id IN (:...ids) AND first_used_at IS NULL AND offer_unusable_at IS NULL AND revoked_at IS NULL', { ids })
      .returning(['id', 'tenant_id', 'agent_id', 'serial_number', 'offer_endpoint', 'offered_at'])
      .execute();
    return (result.raw as Array<Record<string, unknown>>).map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      agentId: r.agent_id,
      serialNumber: r.serial_number,
      offerEndpoint: r.offer_endpoint,
      offeredAt: r.offered_at ? new Date(r.offered_at as string) : null,
    })) as unknown as CertificateEntity[];
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
