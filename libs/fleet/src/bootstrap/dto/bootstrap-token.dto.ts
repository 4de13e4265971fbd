import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { BootstrapTokenEntity } from '../entities/bootstrap-token.entity';
import { bootstrapTokenExpired } from '../domain/token-expiry';

export const BOOTSTRAP_TTL_MINUTES = { min: 15, max: 168 * 60, default: 24 * 60 };

const LabelsSchema = z
  .record(z.string().min(1).max(100).regex(/^[A-Za-z0-9_.\/-]+$/, 'label keys are letters, digits and _ . / -'), z.string().max(200))
  .refine((r) => Object.keys(r).length <= 50, 'at most 50 labels');

export const CreateBootstrapTokenSchema = z
  .object({
    label: z.string().trim().min(1).max(200).describe('What the token is for (shown in lists and the audit log)'),
    ttlMinutes: z
      .number()
      .int()
      .min(BOOTSTRAP_TTL_MINUTES.min)
      .max(BOOTSTRAP_TTL_MINUTES.max)
      .default(BOOTSTRAP_TTL_MINUTES.default)
      .describe('How long the token can be redeemed: 15 minutes to 168 hours, 24 hours by default'),
    groupId: z.uuid().optional().describe('Group the enrolled agent joins'),
    labels: LabelsSchema.optional().describe('Ampora-side labels the enrolled agent gets'),
  })
  .strict();
export class CreateBootstrapTokenDto extends createZodDto(CreateBootstrapTokenSchema) {}

export const BootstrapTokenSchema = z
  .object({
    id: z.uuid(),
    label: z.string(),
    status: z.enum(['active', 'redeemed', 'expired', 'revoked']),
    groupId: z.uuid().nullable(),
    labels: z.record(z.string(), z.string()),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string(),
    redeemedAt: z.string().nullable(),
    agentId: z.uuid().nullable().describe('The agent that redeemed the token, bound to it from then on'),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'BootstrapToken' });

export class CreatedBootstrapTokenDto extends createZodDto(
  BootstrapTokenSchema.extend({ token: z.string().describe('amp-bs.<secret>.<check>; shown only in this answer') }),
) {}
export class BootstrapTokenPageDto extends createZodDto(pageSchema(BootstrapTokenSchema)) {}
export class BootstrapTokenListQueryDto extends createZodDto(PageQuerySchema) {}

export function bootstrapTokenStatus(t: BootstrapTokenEntity, now: number): z.infer<typeof BootstrapTokenSchema>['status'] {
  if (t.revokedAt) return 'revoked';
  if (t.redeemedAt) return 'redeemed';
  return bootstrapTokenExpired(t, now) ? 'expired' : 'active';
}

/** The token as the API shows it; its status is judged at `now` (ms since the epoch). */
export function toBootstrapTokenResponse(t: BootstrapTokenEntity, now: number): z.infer<typeof BootstrapTokenSchema> {
  return {
    id: t.id,
    label: t.label,
    status: bootstrapTokenStatus(t, now),
    groupId: t.groupId,
    labels: t.labels,
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt.toISOString(),
    redeemedAt: t.redeemedAt?.toISOString() ?? null,
    agentId: t.agentId,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}
