import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { POLICY_STATUSES } from '../../domain/policy/policy-lifecycle';
import { PolicyEntity } from '../entities/policy.entity';

const name = z.string().trim().min(1).max(100);
const description = z.string().max(2000);
const expression = z.string().trim().min(1).max(10_000).describe('Ampora language (docs/dsl.md) over the push context; the push is allowed when it matches');

export const CreatePolicySchema = z.object({ name, description: description.default(''), expression }).strict();
export class CreatePolicyDto extends createZodDto(CreatePolicySchema) {}

export const UpdatePolicySchema = z
  .object({ name: name.optional(), description: description.optional(), expression: expression.optional() })
  .strict()
  .refine((v) => v.name !== undefined || v.description !== undefined || v.expression !== undefined, { message: 'nothing to change' });
export class UpdatePolicyDto extends createZodDto(UpdatePolicySchema) {}

export const PolicyQuerySchema = PageQuerySchema.extend({ status: z.enum(POLICY_STATUSES).optional() });
export class PolicyQueryDto extends createZodDto(PolicyQuerySchema) {}

export const ApprovePolicySchema = z.object({ comment: z.string().trim().max(2000).optional() }).strict();
export class ApprovePolicyDto extends createZodDto(ApprovePolicySchema) {}
export const RejectPolicySchema = z.object({ reason: z.string().trim().min(1).max(2000) }).strict();
export class RejectPolicyDto extends createZodDto(RejectPolicySchema) {}

export const PolicySettingsSchema = z
  .object({
    mode: z.enum(['required', 'shadow']).describe('required: a deny blocks the push; shadow: evaluated and recorded, never blocks'),
    exporterSwap: z.boolean().describe('Built-in: deny a push replacing every exporter of a pipeline the agent runs today'),
    insecureTlsExporter: z.boolean().describe('Built-in: deny a TLS-insecure exporter to a non-local endpoint'),
    fourEyes: z.boolean().optional().describe('Four-eyes mode: lint-rule changes wait for another person\'s approval (off by default; left out: unchanged)'),
  })
  .strict();
export class PolicySettingsDto extends createZodDto(PolicySettingsSchema) {}

const AgentInputSchema = z
  .object({
    id: z.string().max(200).default('dry-run'),
    description: z.record(z.string(), z.unknown()).default({}),
    capabilities: z.array(z.string()).default([]),
    group: z.string().nullable().default(null),
    labels: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const EvaluatePolicySchema = z
  .object({
    agentId: z.string().max(200).optional().describe('With versionId: the agent and configuration version to evaluate (as the real push would)'),
    versionId: z.uuid().optional(),
    yaml: z.string().optional().describe('Or inline: the configuration to push'),
    currentYaml: z.string().optional().describe('Inline: the configuration the agent runs today (for the exporter-swap built-in)'),
    agent: AgentInputSchema.optional().describe('Inline: the agent as policies see it'),
  })
  .strict()
  .refine((v) => (v.agentId !== undefined && v.versionId !== undefined) || v.yaml !== undefined, { message: 'give agentId and versionId, or yaml' });
export class EvaluatePolicyDto extends createZodDto(EvaluatePolicySchema) {}

const EvaluationSchema = z.object({ policyId: z.string(), policyName: z.string(), outcome: z.enum(['allow', 'deny']), reason: z.string().nullable(), failedClosed: z.boolean() });
export const DryRunSchema = z
  .object({
    outcome: z.enum(['allow', 'deny']).describe('What this policy answers for the push'),
    reason: z.string().nullable(),
    wouldBlock: z.boolean().describe('Whether the real push would be blocked (any enabled built-in or Active policy, in required mode)'),
    mode: z.enum(['required', 'shadow']),
    evaluations: z.array(EvaluationSchema),
  });
export class DryRunDto extends createZodDto(DryRunSchema) {}

export const PolicySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    expression: z.string(),
    status: z.enum(POLICY_STATUSES),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    activatedAt: z.string().nullable(),
  })
  .meta({ id: 'Policy' });
export class PolicyDto extends createZodDto(PolicySchema.extend({})) {}
export class PolicyPageDto extends createZodDto(pageSchema(PolicySchema)) {}

export function toPolicyResponse(p: PolicyEntity): z.infer<typeof PolicySchema> {
  return { id: p.id, name: p.name, description: p.description, expression: p.expression, status: p.status, createdBy: p.createdBy, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString(), activatedAt: p.activatedAt?.toISOString() ?? null };
}
