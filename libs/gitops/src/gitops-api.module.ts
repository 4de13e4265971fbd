import { Module } from '@nestjs/common';
import { GitWebhookController } from './git-webhook.controller';
import { GitopsController } from './gitops.controller';
import { GitopsModule } from './gitops.module';

/** GitOps' REST surface (server process): sources, runs, files, webhook tokens, the webhook. */
@Module({ imports: [GitopsModule], controllers: [GitopsController, GitWebhookController] })
export class GitopsApiModule {}
