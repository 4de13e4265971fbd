import { Injectable } from '@nestjs/common';
import { createLogger, DomainException, Principal, RequestContext } from '@ampora/platform';
import { ConfigurationsService } from '@ampora/fleet';
import { RolloutsService } from '@ampora/rollouts';
import { groupForPath } from './domain/group-assignment';
import type { GitSourceEntity } from './entities/git-source.entity';

/**
 * A source's optional autoPublish (off by default): an imported version without Error findings is
 * published, and when its path falls under a group assignment, a rollout of it to that group starts
 * with the tenant's default strategy — through the same services as an operator's calls, so every
 * check they make applies. A refusal is the file's error in the run, never the sweep's.
 */
@Injectable()
export class AutoPublisher {
  private readonly log = createLogger('Ampora.Gitops.AutoPublisher');

  constructor(
    private readonly configurations: ConfigurationsService,
    private readonly rollouts: RolloutsService,
  ) {}

  /** Answers the reason when publishing or rolling out was refused. */
  async publish(source: GitSourceEntity, principal: Principal, file: { path: string; name: string }, configurationId: string, version: number): Promise<string | undefined> {
    return RequestContext.run({ principal, tenantId: principal.tenantId }, async () => {
      try {
        const published = await this.configurations.publish(principal, configurationId, version);
        // a tenant approval rule holds the publication (decision 0400): no rollout of a Draft
        if (published.approvalId) return `imported as Draft version ${version}; its publication waits for approval ${published.approvalId}`;
      } catch (error) {
        return `imported as Draft version ${version}; not published: ${refusal(error)}`;
      }
      const groupId = groupForPath(source.groupAssignments, file.path);
      if (!groupId) return undefined;
      try {
        const rollout = await this.rollouts.create(principal, { name: `gitops ${source.name}: ${file.name} v${version}`.slice(0, 200), configurationId, version, groupId, dwellSeconds: 0 });
        const started = await this.rollouts.start(principal, rollout.id);
        if (started.approvalId) {
          // a tenant approval rule holds the start (decision 0365): it begins once another person approves it
          this.log.info('GitOps source {SourceId} created rollout {RolloutId} of {Name} version {Version} to group {GroupId}; its start waits for approval {ApprovalId}', { SourceId: source.id, RolloutId: rollout.id, Name: file.name, Version: version, GroupId: groupId, ApprovalId: started.approvalId });
          return undefined;
        }
        this.log.info('GitOps source {SourceId} started rollout {RolloutId} of {Name} version {Version} to group {GroupId}', { SourceId: source.id, RolloutId: rollout.id, Name: file.name, Version: version, GroupId: groupId });
        return undefined;
      } catch (error) {
        return `published as version ${version}; no rollout to group ${groupId}: ${refusal(error)}`;
      }
    });
  }
}

function refusal(error: unknown): string {
  if (error instanceof DomainException && error.status < 500) return `${error.code}: ${error.message}`;
  throw error;
}
