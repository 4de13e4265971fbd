import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueModule } from '@ampora/platform';
import { FleetModule } from '@ampora/fleet';
import { RolloutsModule } from '@ampora/rollouts';
import { AutoPublisher } from './auto-publish.service';
import { GitFileEntity } from './entities/git-file.entity';
import { GitSourceEditEntity } from './entities/git-source-edit.entity';
import { GitSourceEntity } from './entities/git-source.entity';
import { GitSyncRunEntity } from './entities/git-sync-run.entity';
import { GitFileRepository } from './git-file.repository';
import { GitSourceRepository } from './git-source.repository';
import { GitSourceEditRepository } from './git-source-edit.repository';
import { GitSyncRunRepository } from './git-sync-run.repository';
import { GIT_SPAWN_HOOK, GitWorkspace } from './git/git-workspace';
import { GitopsQueries } from './gitops-queries.service';
import { GITOPS_QUEUE } from './gitops.jobs';
import { RunRetentionService } from './run-retention.service';
import { SourcesService } from './sources.service';
import { SweepLock } from './sweep-lock';
import { SweepScheduler } from './sweep-scheduler';
import { SweepService } from './sweep.service';

/**
 * GitOps: sources, their sweeps (git CLI into a bare cache per source, imports through fleet's
 * version path) and sync runs. Imported by GitopsApiModule (server) and GitopsWorkerModule.
 */
@Module({
  imports: [TypeOrmModule.forFeature([GitSourceEntity, GitSyncRunEntity, GitFileEntity, GitSourceEditEntity]), QueueModule.forFeature(GITOPS_QUEUE), FleetModule, RolloutsModule],
  // GIT_SPAWN_HOOK: nothing in production; tests override it to record every git process
  providers: [{ provide: GIT_SPAWN_HOOK, useValue: null }, GitSourceRepository, GitSourceEditRepository, GitSyncRunRepository, GitFileRepository, GitWorkspace, SweepLock, AutoPublisher, SweepScheduler, SweepService, SourcesService, GitopsQueries, RunRetentionService],
  exports: [SourcesService, GitopsQueries, SweepService, SweepScheduler, RunRetentionService, GitSourceRepository],
})
export class GitopsModule {}
