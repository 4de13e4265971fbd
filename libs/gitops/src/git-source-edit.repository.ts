import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { GitSourceEditEntity } from './entities/git-source-edit.entity';

/** Pending source creations and edits (decision 0403), one per source. */
@Injectable()
export class GitSourceEditRepository {
  /** Stores (or replaces: asked again while pending) the source's pending edit. */
  async put(manager: EntityManager, row: GitSourceEditEntity): Promise<void> {
    const repo = manager.getRepository(GitSourceEditEntity);
    await repo.save(repo.create(row));
  }

  lock(manager: EntityManager, tenantId: string, sourceId: string): Promise<GitSourceEditEntity | null> {
    return manager.getRepository(GitSourceEditEntity).findOne({ where: { tenantId, sourceId }, lock: { mode: 'pessimistic_write' } });
  }

  async remove(manager: EntityManager, sourceId: string, tenantId?: string): Promise<void> {
    await manager.getRepository(GitSourceEditEntity).delete(tenantId ? { sourceId, tenantId } : { sourceId });
  }
}
