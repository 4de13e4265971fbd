import { Injectable } from '@nestjs/common';
import { Page, PageQuery } from '@ampora/platform';
import { GitFileEntity } from './entities/git-file.entity';
import { GitSyncRunEntity } from './entities/git-sync-run.entity';
import { GitFileRepository } from './git-file.repository';
import { GitSyncRunRepository } from './git-sync-run.repository';
import { SourcesService } from './sources.service';

/** Read side of a source: its sync runs and the files it tracks. */
@Injectable()
export class GitopsQueries {
  constructor(
    private readonly sources: SourcesService,
    private readonly runsRepo: GitSyncRunRepository,
    private readonly filesRepo: GitFileRepository,
  ) {}

  async runs(tenantId: string, sourceId: string, page: PageQuery): Promise<Page<GitSyncRunEntity>> {
    await this.sources.get(tenantId, sourceId);
    return this.runsRepo.list(sourceId, page);
  }

  async files(tenantId: string, sourceId: string): Promise<GitFileEntity[]> {
    await this.sources.get(tenantId, sourceId);
    return this.filesRepo.ofSource(sourceId);
  }
}
