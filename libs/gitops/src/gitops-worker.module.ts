import { Module } from '@nestjs/common';
import { GitopsSchedules } from './gitops-schedules';
import { GitopsModule } from './gitops.module';
import { GitopsProcessor } from './gitops.processor';

/** GitOps' background work (worker process only): sweeps and the pruning of old sync runs. */
@Module({ imports: [GitopsModule], providers: [GitopsProcessor, GitopsSchedules] })
export class GitopsWorkerModule {}
