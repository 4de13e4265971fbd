import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const TYPE_PATTERN = /^(\*|[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?)$/;

export const LiveQuerySchema = z.object({
  types: z
    .union([z.string(), z.array(z.string())])
    .transform((value, ctx) => {
      const list = (Array.isArray(value) ? value : [value])
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter(Boolean);
      for (const t of list) {
        if (t.length > 100 || !TYPE_PATTERN.test(t)) ctx.addIssue({ code: 'custom', message: `"${t.slice(0, 100)}" is not an event type, a prefix like agent.* or *` });
      }
      if (list.length > 50) ctx.addIssue({ code: 'custom', message: 'at most 50 types' });
      return list;
    })
    .optional()
    .describe('Event types to receive, comma-separated or repeated: exact (`agent.connected`), a prefix (`agent.*`) or `*` (default: all)'),
  lastEventId: z.string().max(200).optional().describe('Resume after this event id (alternative to the Last-Event-ID header, which wins)'),
});
export class LiveQueryDto extends createZodDto(LiveQuerySchema) {}
