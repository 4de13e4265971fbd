import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { CrlEntity } from './entities/crl.entity';

@Injectable()
export class CrlRepository {
  constructor(@InjectRepository(CrlEntity) private readonly repo: Repository<CrlEntity>) {}

  /** Stores a CRL unless a newer one (higher number) is already there. */
  async save(manager: EntityManager, row: CrlEntity): Promise<void> {
    await manager.query(
      `INSERT INTO pki_crls (signing_key_id, crl_number, this_update, next_update, entries, der) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (signing_key_id) DO UPDATE SET crl_number = EXCLUDED.crl_number, this_update = EXCLUDED.this_update,
         next_update = EXCLUDED.next_update, entries = EXCLUDED.entries, der = EXCLUDED.der
       WHERE pki_crls.crl_number < EXCLUDED.crl_number`,
      [row.signingKeyId, row.crlNumber, row.thisUpdate, row.nextUpdate, row.entries, row.der],
    );
  }

  findForKeys(signingKeyIds: string[]): Promise<CrlEntity[]> {
    if (signingKeyIds.length === 0) return Promise.resolve([]);
    return this.repo.find({ where: { signingKeyId: In(signingKeyIds) } });
  }
}
