import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Clock, encodeCursor, Page, PageQuery } from '@ampora/platform';
import { AgentListFilter, AgentsService } from '../agents/agents.service';
import { AgentSummarySchema, toAgentDetail, toAgentSummary } from '../agents/dto/agent.dto';
import { ConfigurationVersionRepository } from '../configurations/configuration-version.repository';
import { ConfigurationRepository } from '../configurations/configuration.repository';
import { GroupRepository } from '../groups/group.repository';
import { GroupsService } from '../groups/groups.service';

export type AgentSummary = z.infer<typeof AgentSummarySchema>;
/** A summary with the cursor that continues the list after it (merged lists page by it). */
export type AgentSummaryWithCursor = AgentSummary & { cursor: string };

/** Where a version with a content hash stands in a configuration (by name), for a peer's pre-flight check. */
export interface VersionByHash {
  configurationId: string;
  versionId: string;
  configurationName: string;
  version: number;
  status: string;
  contentHash: string;
}

/**
 * Read-only views of the fleet in the API's own shapes, for a later lib that serves them elsewhere
 * (federation's read surface, decision 0312): the agent list with a cursor per item, an agent's
 * detail, groups, and a configuration's version by content hash.
 */
@Injectable()
export class FleetReads {
  constructor(
    private readonly clock: Clock,
    private readonly agents: AgentsService,
    private readonly groups: GroupsService,
    private readonly configurations: ConfigurationRepository,
    private readonly versions: ConfigurationVersionRepository,
    private readonly groupRows: GroupRepository,
  ) {}

  async agentSummaries(tenantId: string, filter: AgentListFilter, page: PageQuery): Promise<Page<AgentSummaryWithCursor>> {
    const listed = await this.agents.list(tenantId, filter, page);
    const now = this.clock.nowMs();
    return {
      items: listed.items.map((a) => ({ ...toAgentSummary(a, this.agents.staleAfterSeconds, now), cursor: encodeCursor('a.createdAt:DESC', a.createdAt.toISOString(), a.id) })),
      nextCursor: listed.nextCursor,
    };
  }

  async agentDetail(tenantId: string, id: string) {
    const agent = await this.agents.get(tenantId, id);
    return toAgentDetail(agent, this.agents.staleAfterSeconds, this.clock.nowMs(), await this.agents.assignmentOf(agent));
  }

  async groupList(tenantId: string, page: PageQuery) {
    const listed = await this.groups.list({ tenantId, deleted: false }, page);
    return { items: await this.groups.describe(listed.items), nextCursor: listed.nextCursor };
  }

  /** The version of configuration `name` whose content hash is `contentHash`, or null. */
  async versionByHash(tenantId: string, name: string, contentHash: string): Promise<VersionByHash | null> {
    const configuration = await this.configurations.findByName(tenantId, name);
    if (!configuration) return null;
    const version = await this.versions.findByContentHash(configuration.id, contentHash);
    if (!version) return null;
    return { configurationId: configuration.id, versionId: version.id, configurationName: configuration.name, version: version.number, status: version.status, contentHash: version.contentHash };
  }

  /** Version `number` of configuration `configurationId` with its name and content hash, or null (a federated rollout names it so). */
  async versionByNumber(tenantId: string, configurationId: string, number: number): Promise<VersionByHash | null> {
    const configuration = await this.configurations.findInTenant(tenantId, configurationId);
    if (!configuration) return null;
    const version = await this.versions.findByNumber(configuration.id, number);
    if (!version) return null;
    return { configurationId: configuration.id, versionId: version.id, configurationName: configuration.name, version: version.number, status: version.status, contentHash: version.contentHash };
  }

  /** The id of the live group named `name`, or null (a federated rollout's leg names its group). */
  async groupIdByName(tenantId: string, name: string): Promise<string | null> {
    return (await this.groupRows.findLiveByName(tenantId, name))?.id ?? null;
  }
}
