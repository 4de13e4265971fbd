import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, MoreThan, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { FederationCredentialEntity } from './entities/federation-credential.entity';
import { PeerEntity } from './entities/peer.entity';

/** Federation's two tables: credentials (this deployment's identity) and peers (per tenant). */
@Injectable()
export class FederationStore {
  constructor(
    @InjectRepository(FederationCredentialEntity) private readonly credentials: Repository<FederationCredentialEntity>,
    @InjectRepository(PeerEntity) private readonly peers: Repository<PeerEntity>,
  ) {}

  insertCredential(manager: EntityManager, row: FederationCredentialEntity): Promise<FederationCredentialEntity> {
    return manager.getRepository(FederationCredentialEntity).save(row);
  }

  listCredentials(page: PageQuery): Promise<Page<FederationCredentialEntity>> {
    return paginate(this.credentials.createQueryBuilder('c'), { alias: 'c', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  findCredential(id: string): Promise<FederationCredentialEntity | null> {
    return this.credentials.findOne({ where: { id } });
  }

  /** The newest credential still in date at `now`. */
  currentCredential(now: Date): Promise<FederationCredentialEntity | null> {
    return this.credentials.findOne({ where: { notAfter: MoreThan(now) }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  insertPeer(manager: EntityManager, row: PeerEntity): Promise<PeerEntity> {
    return manager.getRepository(PeerEntity).save(row);
  }

  savePeer(manager: EntityManager, row: PeerEntity): Promise<PeerEntity> {
    return manager.getRepository(PeerEntity).save(row);
  }

  deletePeer(manager: EntityManager, id: string): Promise<unknown> {
    return manager.getRepository(PeerEntity).delete({ id });
  }

  findPeer(tenantId: string, id: string): Promise<PeerEntity | null> {
    return this.peers.findOne({ where: { tenantId, id } });
  }

  lockPeer(manager: EntityManager, tenantId: string, id: string): Promise<PeerEntity | null> {
    return manager.getRepository(PeerEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
  }

  findPeerByName(tenantId: string, name: string, manager?: EntityManager): Promise<PeerEntity | null> {
    return (manager ? manager.getRepository(PeerEntity) : this.peers).findOne({ where: { tenantId, name } });
  }

  listPeers(tenantId: string, page: PageQuery): Promise<Page<PeerEntity>> {
    return paginate(this.peers.createQueryBuilder('p').where('p.tenantId = :tenantId', { tenantId }), { alias: 'p', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  activePeers(tenantId: string): Promise<PeerEntity[]> {
    return this.peers.find({ where: { tenantId, status: 'Active' }, order: { name: 'ASC' } });
  }

  /** Active peers (of any tenant) that pin this certificate thumbprint. */
  activePeersPinning(thumbprint: string): Promise<PeerEntity[]> {
    return this.peers.find({ where: { pinnedThumbprint: thumbprint, status: 'Active' } });
  }
}
