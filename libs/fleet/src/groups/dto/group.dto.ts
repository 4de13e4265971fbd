import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema, namedZodDto } from '@ampora/platform';
import { AgentSummarySchema } from '../../agents/dto/agent.dto';
import { DispatchReportSchema } from '../../assignment/dto/dispatch-report.dto';
import { GroupEntity } from '../entities/group.entity';

const MAX_MEMBERS_PER_REQUEST = 10_000;

const name = z.string().trim().min(1).max(200);
const selector = z.string().trim().min(1).max(4096).describe('An Ampora-language expression over the agent\'s labels (docs/dsl.md)');
const priority = z.number().int().min(-1_000_000).max(1_000_000).describe('Breaks ties between Dynamic groups: higher wins, then the older group');

export const CreateGroupSchema = z
  .object({
    name,
    kind: z.enum(['Static', 'Dynamic']),
    selector: selector.optional().describe('Required for Dynamic groups, not allowed for Static ones'),
    priority: priority.default(0),
    description: z.string().max(2000).optional(),
  })
  .strict();
export class CreateGroupDto extends createZodDto(CreateGroupSchema) {}

export const UpdateGroupSchema = z
  .object({ name: name.optional(), selector: selector.optional(), priority: priority.optional(), description: z.string().max(2000).optional() })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');
export class UpdateGroupDto extends createZodDto(UpdateGroupSchema) {}

export const GroupListQuerySchema = PageQuerySchema.extend({
  deleted: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .default(false)
    .describe('true lists soft-deleted groups (restorable)'),
  kind: z.enum(['Static', 'Dynamic']).optional(),
});
export class GroupListQueryDto extends createZodDto(GroupListQuerySchema) {}

export const GroupAssignmentSchema = z
  .object({
    configurationId: z.uuid(),
    versionId: z.uuid(),
    version: z.number().int(),
    assignedAt: z.string().nullable(),
  })
  .meta({ id: 'GroupAssignment' });

export const GroupSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    kind: z.enum(['Static', 'Dynamic']),
    selector: z.string().nullable(),
    priority: z.number().int(),
    memberCount: z.number().int(),
    assignment: GroupAssignmentSchema.nullable().describe('The configuration version members run unless assigned one directly'),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    deletedAt: z.string().nullable(),
    deletedBy: z.string().nullable(),
  })
  .meta({ id: 'Group' });
export class GroupDto extends createZodDto(GroupSchema.extend({})) {}
export class GroupPageDto extends createZodDto(pageSchema(GroupSchema)) {}

export const AgentIdsSchema = z
  .object({ agentIds: z.array(z.uuid()).min(1).max(MAX_MEMBERS_PER_REQUEST).describe(`At most ${MAX_MEMBERS_PER_REQUEST} agents`) })
  .strict();
export class AddMembersDto extends createZodDto(AgentIdsSchema) {}

export const MembersResultSchema = z.object({
  groupId: z.uuid(),
  added: z.number().int().describe('Agents that joined (moved from another group or from none)'),
  alreadyMembers: z.number().int(),
  movedFrom: z.record(z.string(), z.number().int()).describe('Group id → agents that left it for this one'),
  dispatch: DispatchReportSchema,
});
export class MembersResultDto extends createZodDto(MembersResultSchema) {}

export const MemberParamSchema = z.object({ id: z.uuid(), agentId: z.uuid() });
export class MemberParamDto extends createZodDto(MemberParamSchema) {}

export class MemberRemovedDto extends createZodDto(z.object({ groupId: z.uuid(), agentId: z.uuid() })) {}

export const SetAssignmentSchema = z
  .object({ configurationId: z.uuid(), version: z.number().int().min(1).describe('A Published version number') })
  .strict();
export class SetAssignmentDto extends createZodDto(SetAssignmentSchema) {}

const GroupAssignmentResultSchema = z.object({ group: GroupSchema, changedAgents: z.number().int().describe('Members whose assigned config changed'), dispatch: DispatchReportSchema });
export class GroupAssignmentResultDto extends createZodDto(GroupAssignmentResultSchema) {}
const GroupAssignmentPendingSchema = z.object({ group: GroupSchema, approvalId: z.uuid().describe('Decide it at /api/approvals/{approvalId} (another person than the one who asked)') });
/** What setting an assignment answers: the assignment done (200), or the pending one (202, decision 0401). */
export const GroupAssignmentOutcomeDto = namedZodDto('GroupAssignmentOutcomeDto', z.union([GroupAssignmentResultSchema, GroupAssignmentPendingSchema]));

export const PreviewSchema = z
  .object({ selector, limit: z.number().int().min(0).max(200).default(20).describe('How many matching agents to list') })
  .strict();
export class PreviewDto extends createZodDto(PreviewSchema) {}

export class PreviewResultDto extends createZodDto(
  z.object({
    selector: z.string(),
    evaluated: z.number().int().describe('Agents the selector was evaluated on'),
    matched: z.number().int(),
    failedClosed: z.object({ missing: z.number().int(), type: z.number().int(), deadline: z.number().int() }).describe('Agents that did not match because evaluating failed (a missing label, a wrong type, the deadline)'),
    complete: z.boolean().describe('false when the preview stopped at its time limit'),
    agents: z.array(AgentSummarySchema),
  }),
) {}

export function toGroupResponse(g: GroupEntity, memberCount: number, assignment: z.infer<typeof GroupAssignmentSchema> | null): z.infer<typeof GroupSchema> {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    kind: g.kind,
    selector: g.selector,
    priority: g.priority,
    memberCount,
    assignment,
    createdBy: g.createdBy,
    createdAt: g.createdAt.toISOString(),
    updatedAt: g.updatedAt.toISOString(),
    deletedAt: g.deletedAt?.toISOString() ?? null,
    deletedBy: g.deletedBy,
  };
}
