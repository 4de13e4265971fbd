import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { APPROVAL_OPERATIONS, APPROVAL_RULE_ROLES, APPROVAL_RULE_STATUSES } from '../../domain/approval-rules/approval-rule';
import { ApprovalRuleEntity } from '../entities/approval-rule.entity';

const name = z.string().trim().min(1).max(100);
const description = z.string().max(2000);
const operation = z.enum(APPROVAL_OPERATIONS).describe('The operation the rule gates');
const condition = z
  .string()
  .max(10_000)
  .nullable()
  .describe(
    'Ampora language (docs/dsl.md) over the operation\'s context, with tenant and actor: rollout.start: rollout.{name,kind,strategy,version}, group.name; configuration.publish: configuration.{id,name}, version.{id,number,warningCount}; group.assignment: group.{id,name,kind,members}, configuration.{id,name}, version.{id,number}; agent.force-push: agents.{count,ids,groups,labels}, configurations; gitops.source.edit: source.{id,name,repositoryUrl,branch,pathGlob,credentialKind,pollIntervalSeconds,autoPublish,groupAssignments,change,fields}. Null or empty: always. A condition that errs applies (fail closed)',
  );
const requiredRole = z.enum(APPROVAL_RULE_ROLES).describe('The role the deciding person needs (never the author)');
const status = z.enum(APPROVAL_RULE_STATUSES);

export const CreateApprovalRuleSchema = z
  .object({ name, description: description.default(''), operation, condition: condition.optional(), requiredRole: requiredRole.default('Operator'), status: status.default('Active') })
  .strict();
export class CreateApprovalRuleDto extends createZodDto(CreateApprovalRuleSchema) {}

export const UpdateApprovalRuleSchema = z
  .object({ name: name.optional(), description: description.optional(), operation: operation.optional(), condition: condition.optional(), requiredRole: requiredRole.optional() })
  .strict()
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'nothing to change' });
export class UpdateApprovalRuleDto extends createZodDto(UpdateApprovalRuleSchema) {}

export const ApprovalRuleQuerySchema = PageQuerySchema.extend({ status: status.optional(), operation: operation.optional() });
export class ApprovalRuleQueryDto extends createZodDto(ApprovalRuleQuerySchema) {}

export const ApprovalRuleSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    operation: z.string(),
    condition: z.string().nullable(),
    requiredRole: z.string(),
    status,
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ApprovalRule' });
export class ApprovalRuleDto extends createZodDto(ApprovalRuleSchema.extend({})) {}
export class ApprovalRulePageDto extends createZodDto(pageSchema(ApprovalRuleSchema)) {}

export function toApprovalRuleResponse(r: ApprovalRuleEntity): z.infer<typeof ApprovalRuleSchema> {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    operation: r.operation,
    condition: r.condition,
    requiredRole: r.requiredRole,
    status: r.status,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
