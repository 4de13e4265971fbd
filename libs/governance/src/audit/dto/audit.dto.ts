import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { isoDateTime, PageQuerySchema, pageSchema } from '@ampora/platform';
import type { AuditRow } from '../audit.repository';

const csv = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

export const AuditQuerySchema = PageQuerySchema.extend({
  actor: z.string().max(200).optional(),
  action: csv.optional().describe('One action or several, comma-separated'),
  entityType: z.string().max(64).optional(),
  entityId: z.string().max(200).optional(),
  since: isoDateTime().optional().describe('ISO-8601, inclusive'),
  until: isoDateTime().optional().describe('ISO-8601, exclusive'),
  includeArchive: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('Also read the archive (events older than AMPORA_AUDIT_HOT_DAYS). Admin only; the read is itself audited'),
});
export class AuditQueryDto extends createZodDto(AuditQuerySchema) {}

export const AuditEventSchema = z
  .object({
    id: z.uuid(),
    tenantId: z.uuid(),
    actor: z.string(),
    actorRole: z.string().nullable(),
    entityType: z.string(),
    entityId: z.string(),
    action: z.string(),
    before: z.unknown().describe('Snapshot before the change (JSON), null when created'),
    after: z.unknown().describe('Snapshot after the change (JSON), null when deleted'),
    timestamp: z.string().describe('UTC, ISO-8601 with milliseconds'),
    sourceIp: z.string().nullable(),
    traceId: z.string().nullable(),
    additional: z.unknown().describe('Action-specific details (JSON)'),
    archived: z.boolean().describe('True when the event was read from the archive'),
  })
  .meta({ id: 'AuditEvent' });
export class AuditEventPageDto extends createZodDto(pageSchema(AuditEventSchema)) {}

export function toAuditEventResponse(e: AuditRow): z.infer<typeof AuditEventSchema> {
  return {
    id: e.id,
    tenantId: e.tenantId,
    actor: e.actor,
    actorRole: e.actorRole,
    entityType: e.entityType,
    entityId: e.entityId,
    action: e.action,
    before: e.before ?? null,
    after: e.after ?? null,
    timestamp: e.occurredAt.toISOString(),
    sourceIp: e.sourceIp,
    traceId: e.traceId,
    additional: e.additional ?? null,
    archived: e.archived ?? false,
  };
}
