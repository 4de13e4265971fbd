import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { TenantEntity } from './entities/tenant.entity';

@Injectable()
export class TenantRepository {
  constructor(@InjectRepository(TenantEntity) private readonly repo: Repository<TenantEntity>) {}

  findAll(): Promise<TenantEntity[]> {
    return this.repo.find({ order: { name: 'ASC' } });
  }

  findByName(name: string): Promise<TenantEntity | null> {
    return this.repo.findOne({ where: { name } });
  }

  findById(id: string): Promise<TenantEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  insert(manager: EntityManager, name: string, displayName: string): Promise<TenantEntity> {
    const repo = manager.getRepository(TenantEntity);
    return repo.save(repo.create({ name, displayName }));
  }
}
