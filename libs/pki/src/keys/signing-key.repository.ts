import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Clock, Page, PageQuery, paginate, returnedRows } from '@ampora/platform';
import { OcspResponderEntity } from './entities/ocsp-responder.entity';
import { SigningKeyEntity } from './entities/signing-key.entity';

@Injectable()
export class SigningKeyRepository {
  constructor(
    private readonly clock: Clock,
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    @InjectRepository(OcspResponderEntity) private readonly responders: Repository<OcspResponderEntity>,
  ) {}

  private k(manager?: EntityManager): Repository<SigningKeyEntity> {
    return manager ? manager.getRepository(SigningKeyEntity) : this.keys;
  }

  private r(manager?: EntityManager): Repository<OcspResponderEntity> {
    return manager ? manager.getRepository(OcspResponderEntity) : this.responders;
  }

  findById(id: string, manager?: EntityManager): Promise<SigningKeyEntity | null> {
    return this.k(manager).findOne({ where: { id } });
  }

  lockById(manager: EntityManager, id: string): Promise<SigningKeyEntity | null> {
    return manager.getRepository(SigningKeyEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  findActive(manager?: EntityManager): Promise<SigningKeyEntity | null> {
    return this.k(manager).findOne({ where: { state: 'Active' } });
  }

  /** Keys whose certificates are published: Active and Trusted (the window is checked by the caller). */
  findPublished(manager?: EntityManager): Promise<SigningKeyEntity[]> {
    return this.k(manager).find({ where: { state: In(['Active', 'Trusted']) }, order: { createdAt: 'DESC' } });
  }

  findByKeyId(keyId: string, manager?: EntityManager): Promise<SigningKeyEntity | null> {
    return this.k(manager).findOne({ where: { keyId } });
  }

  findAll(manager?: EntityManager): Promise<SigningKeyEntity[]> {
    return this.k(manager).find({ order: { createdAt: 'ASC' } });
  }

  async count(manager?: EntityManager): Promise<number> {
    return this.k(manager).count();
  }

  list(page: PageQuery): Promise<Page<SigningKeyEntity>> {
    const qb = this.keys.createQueryBuilder('k');
    return paginate(qb, { alias: 'k', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  insert(manager: EntityManager, row: Partial<SigningKeyEntity>): Promise<SigningKeyEntity> {
    const repo = manager.getRepository(SigningKeyEntity);
    return repo.save(repo.create(row));
  }

  async update(manager: EntityManager, id: string, patch: Partial<SigningKeyEntity>): Promise<void> {
    await manager.getRepository(SigningKeyEntity).update({ id }, { ...patch, updatedAt: this.clock.now() });
  }

  /** Takes the next CRL number of a key (monotonic even with several publishers). */
  async nextCrlNumber(manager: EntityManager, id: string): Promise<bigint> {
    const rows = returnedRows<{ crl_number: string }>(await manager.query(`UPDATE pki_signing_keys SET crl_number = crl_number + 1 WHERE id = $1 RETURNING crl_number`, [id]));
    return BigInt(rows[0]!.crl_number);
  }

  /** Serialises the first-start key generation of several instances (released at commit). */
  async lockBootstrap(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ampora.pki.bootstrap'))`);
  }

  // ---- OCSP responders ----------------------------------------------------------------------

  /** The responder of a key that is valid longest. */
  currentResponder(signingKeyId: string, manager?: EntityManager): Promise<OcspResponderEntity | null> {
    return this.r(manager).findOne({ where: { signingKeyId }, order: { notAfter: 'DESC' } });
  }

  allResponders(manager?: EntityManager): Promise<OcspResponderEntity[]> {
    return this.r(manager).find();
  }

  insertResponder(manager: EntityManager, row: Partial<OcspResponderEntity>): Promise<OcspResponderEntity> {
    const repo = manager.getRepository(OcspResponderEntity);
    return repo.save(repo.create(row));
  }

  async updateResponder(manager: EntityManager, id: string, patch: Partial<OcspResponderEntity>): Promise<void> {
    await manager.getRepository(OcspResponderEntity).update({ id }, patch as never);
  }
}
