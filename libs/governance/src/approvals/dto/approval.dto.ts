import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { APPROVAL_STATUSES, APPROVAL_SUBJECT_KINDS } from '../../domain/approval';
import { ApprovalRequestEntity } from '../entities/approval-request.entity';

export const ApprovalQuerySchema = PageQuerySchema.extend({
  status: z.enum(APPROVAL_STATUSES).default('Pending').describe('Pending by default'),
  subjectKind: z.enum(APPROVAL_SUBJECT_KINDS).optional(),
  subjectId: z.string().max(200).optional(),
  author: z.string().max(200).optional().describe('Token name or OIDC subject of an author'),
});
export class ApprovalQueryDto extends createZodDto(ApprovalQuerySchema) {}

export const ApproveSchema = z
  .object({
    revision: z.number().int().min(1).optional().describe('The revision you reviewed; 409 APPROVAL_STALE when it was edited since'),
    comment: z.string().trim().max(2000).optional(),
  })
  .strict();
export class ApproveDto extends createZodDto(ApproveSchema) {}

export const RejectSchema = z
  .object({
    reason: z.string().trim().min(1).max(2000).describe('Why; kept on the request and in the audit log'),
    revision: z.number().int().min(1).optional(),
  })
  .strict();
export class RejectDto extends createZodDto(RejectSchema) {}

const IdentitySchema = z.object({ actor: z.string(), kind: z.string(), role: z.string() });

export const ApprovalRequestSchema = z
  .object({
    id: z.uuid(),
    subjectKind: z.enum(APPROVAL_SUBJECT_KINDS),
    subjectId: z.string(),
    title: z.string(),
    status: z.enum(APPROVAL_STATUSES),
    revision: z.number().int().describe('Moves on with every edit while pending (an edit resets the approval)'),
    requiredRole: z.string(),
    authors: z.array(IdentitySchema).describe('Everyone who authored a revision; none of them can decide'),
    diff: z.object({ before: z.unknown(), after: z.unknown() }).describe('The change waiting for approval (JSON snapshots)'),
    decidedBy: IdentitySchema.nullable(),
    decidedAt: z.string().nullable(),
    reason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ApprovalRequest' });
export class ApprovalRequestDto extends createZodDto(ApprovalRequestSchema.extend({})) {}
export class ApprovalPageDto extends createZodDto(pageSchema(ApprovalRequestSchema)) {}

export function toApprovalResponse(a: ApprovalRequestEntity): z.infer<typeof ApprovalRequestSchema> {
  return {
    id: a.id,
    subjectKind: a.subjectKind,
    subjectId: a.subjectId,
    title: a.title,
    status: a.status,
    revision: a.revision,
    requiredRole: a.requiredRole,
    authors: a.authors.map(({ actor, kind, role }) => ({ actor, kind, role })),
    diff: { before: a.before ?? null, after: a.after ?? null },
    decidedBy: a.decidedBy ? { actor: a.decidedBy, kind: a.decidedByKind ?? '', role: a.decidedByRole ?? '' } : null,
    decidedAt: a.decidedAt?.toISOString() ?? null,
    reason: a.reason,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}
