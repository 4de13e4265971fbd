import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, LessThan, Repository } from 'typeorm';
import { Page, PageQuery, paginate } from '@ampora/platform';
import { GitSyncRunEntity } from './entities/git-sync-run.entity';

@Injectable()
export class GitSyncRunRepository {
  constructor(@InjectRepository(GitSyncRunEntity) private readonly repo: Repository<GitSyncRunEntity>) {}

  insert(row: Omit<GitSyncRunEntity, 'id' | 'source'>, manager?: EntityManager): Promise<GitSyncRunEntity> {
    const repo = manager ? manager.getRepository(GitSyncRunEntity) : this.repo;
    return repo.save(repo.create(row));
  }

  list(sourceId: string, page: PageQuery): Promise<Page<GitSyncRunEntity>> {
    const qb = this.repo.createQueryBuilder('r').where('r.sourceId = :sourceId', { sourceId });
    return paginate(qb, { alias: 'r', column: 'startedAt', direction: 'DESC', query: page, key: (r) => r.startedAt.toISOString() });
  }

  /** Deletes runs that started before `cutoff`; answers how many. */
  async deleteStartedBefore(cutoff: Date): Promise<number> {
    const result = await this.repo.delete({ startedAt: LessThan(cutoff) });
    return result.affected ?? 0;
  }
}
