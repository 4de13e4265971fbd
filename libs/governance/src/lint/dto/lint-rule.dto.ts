import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { LINT_RULE_STATUSES, LINT_SEVERITIES } from '../../domain/lint/lint-rule';
import { LintRuleEntity } from '../entities/lint-rule.entity';

const name = z.string().trim().min(1).max(100);
const description = z.string().max(2000).describe('What the rule asks for: the message of its finding');
const expression = z.string().trim().min(1).max(10_000).describe('Ampora language (docs/dsl.md) over config.* only; a configuration it does not match gets a finding');
const severity = z.enum(LINT_SEVERITIES).describe('Error blocks publishing; Warning and Info are reported with the findings');
const status = z.enum(LINT_RULE_STATUSES);

export const CreateLintRuleSchema = z.object({ name, description: description.default(''), expression, severity, status: status.default('Active') }).strict();
export class CreateLintRuleDto extends createZodDto(CreateLintRuleSchema) {}

export const UpdateLintRuleSchema = z
  .object({ name: name.optional(), description: description.optional(), expression: expression.optional(), severity: severity.optional() })
  .strict()
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'nothing to change' });
export class UpdateLintRuleDto extends createZodDto(UpdateLintRuleSchema) {}

export const LintRuleQuerySchema = PageQuerySchema.extend({ status: status.optional() });
export class LintRuleQueryDto extends createZodDto(LintRuleQuerySchema) {}

const ProposalSchema = z.object({ name: z.string(), description: z.string(), expression: z.string(), severity, status });
export const LintRuleSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    expression: z.string(),
    severity,
    status,
    pendingChange: z
      .object({ op: z.enum(['create', 'update', 'delete']), rule: ProposalSchema.nullable(), approvalId: z.uuid(), proposedBy: z.string() })
      .nullable()
      .describe('Four-eyes mode: the change waiting for approval (applied when approved at /api/approvals)'),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'LintRule' });
export class LintRuleDto extends createZodDto(LintRuleSchema.extend({})) {}
export class LintRulePageDto extends createZodDto(pageSchema(LintRuleSchema)) {}

export function toLintRuleResponse(r: LintRuleEntity): z.infer<typeof LintRuleSchema> {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    expression: r.expression,
    severity: r.severity,
    status: r.status,
    pendingChange: r.pendingChange,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
