import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { MAX_TAGS, tagProblems } from '../domain/operator-tags';

/** Operator tags: a string map, validated by the rules of domain/operator-tags.ts. */
export const OperatorTagsSchema = z
  .record(z.string(), z.string())
  .superRefine((tags, ctx) => {
    for (const p of tagProblems(tags)) ctx.addIssue({ code: 'custom', message: p.message, path: p.field === 'tags' ? [] : [p.field.slice('tags.'.length)] });
  })
  .describe(`Operator tags (at most ${MAX_TAGS}): keys of letters, digits, ".", "_", "-", "/" (≤ 63), string values (≤ 255). Replaces the agent's tags; selectors see them as tag.<key>`);

export const UpdateAgentSchema = z
  .object({ tags: OperatorTagsSchema.optional() })
  .strict()
  .refine((v) => v.tags !== undefined, { message: 'send tags', path: ['tags'] })
  .describe('What an operator sets on an agent');
export class UpdateAgentDto extends createZodDto(UpdateAgentSchema) {}

export const ForgetAgentResultSchema = z.object({
  agentId: z.uuid(),
  certificatesRevoked: z.number().int().describe('Certificates of the agent revoked now (reason cessationOfOperation)'),
  bootstrapTokensRevoked: z.number().int().describe('The bootstrap token it enrolled with, revoked now (0 or 1)'),
});
export class ForgetAgentResultDto extends createZodDto(ForgetAgentResultSchema) {}

/** Agents one bulk delete forgets at most (like the bulk certificate revocation it includes). */
export const BULK_DELETE_MAX = 1000;

export const BulkDeleteSchema = z
  .object({ agentIds: z.array(z.uuid()).min(1).max(BULK_DELETE_MAX).describe(`1 to ${BULK_DELETE_MAX.toLocaleString('en')} agent ids (duplicates ignored)`) })
  .strict();
export class BulkDeleteDto extends createZodDto(BulkDeleteSchema) {}

export const BulkDeleteResultSchema = z.object({
  forgotten: z.number().int(),
  certificatesRevoked: z.number().int(),
  bootstrapTokensRevoked: z.number().int(),
  skipped: z.array(z.object({ agentId: z.uuid(), reason: z.enum(['not_found']) })).describe('Ids that are no agent of your tenant (already forgotten, say)'),
});
export class BulkDeleteResultDto extends createZodDto(BulkDeleteResultSchema) {}
