import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { isoDateTime, PageQuerySchema, pageSchema } from '@ampora/platform';
import { Role } from '../../domain/role';
import { ApiTokenEntity } from '../entities/api-token.entity';

export const CreateTokenSchema = z
  .object({
    name: z.string().trim().min(1).max(100).describe('Shown in the audit trail as the actor of every call made with the token'),
    role: z.enum(Role),
    expiresAt: isoDateTime().optional().describe('ISO-8601; the token stops working then'),
  })
  .strict()
;
export class CreateTokenDto extends createZodDto(CreateTokenSchema) {}

export const TokenSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: z.enum(Role),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'Token' });

export const CreatedTokenSchema = TokenSchema.extend({
  token: z.string().describe('The token itself, amp-pat.<secret>.<check>; shown only in this answer'),
});
export class CreatedTokenDto extends createZodDto(CreatedTokenSchema) {}

export class TokenPageDto extends createZodDto(pageSchema(TokenSchema)) {}
export class TokenListQueryDto extends createZodDto(PageQuerySchema) {}

export function toTokenResponse(t: ApiTokenEntity): z.infer<typeof TokenSchema> {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}
