import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Not, Repository } from 'typeorm';
import { GitFileEntity } from './entities/git-file.entity';

@Injectable()
export class GitFileRepository {
  constructor(@InjectRepository(GitFileEntity) private readonly repo: Repository<GitFileEntity>) {}

  ofSource(sourceId: string): Promise<GitFileEntity[]> {
    return this.repo.find({ where: { sourceId }, order: { path: 'ASC' } });
  }

  /** Other sources of the tenant that track a configuration of one of these names. */
  async namesHeldElsewhere(tenantId: string, sourceId: string, names: string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const rows = await this.repo.find({ where: { tenantId, sourceId: Not(sourceId), configurationName: In(names), status: 'tracked' }, select: { configurationName: true, sourceId: true } });
    return new Map(rows.map((r) => [r.configurationName, r.sourceId]));
  }

  async upsert(row: Omit<GitFileEntity, 'source'>, manager?: EntityManager): Promise<void> {
    const repo = manager ? manager.getRepository(GitFileEntity) : this.repo;
    await repo.upsert(row, ['sourceId', 'path']);
  }

  async markOrphaned(sourceId: string, paths: string[], at: Date, manager?: EntityManager): Promise<void> {
    if (paths.length === 0) return;
    const repo = manager ? manager.getRepository(GitFileEntity) : this.repo;
    await repo.update({ sourceId, path: In(paths) }, { status: 'orphaned', updatedAt: at });
  }
}
