import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, mapPage, MinRole, PlatformErrorCode, PlatformException, Principal } from '@ampora/platform';
import { Role, roleAtLeast } from '../domain/role';
import { AuditService } from './audit.service';
import { AuditEventPageDto, AuditQueryDto, toAuditEventResponse } from './dto/audit.dto';

@ApiTags('audit')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('events')
  @MinRole(Role.Viewer)
  @ApiOperation({
    operationId: 'listAuditEvents',
    summary: 'Audit events of your tenant, newest first',
    description: 'With `includeArchive=true` (Admin only) archived events are read too, and the read is itself audited (`AuditLog.ArchiveRead`, with its query).',
  })
  @ApiProblems(400, 403)
  @ZodResponse({ status: 200, type: AuditEventPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: AuditQueryDto) {
    const filter = { tenantId: p.tenantId, actor: q.actor, action: q.action, entityType: q.entityType, entityId: q.entityId, since: q.since, until: q.until };
    if (q.includeArchive) {
      if (!roleAtLeast(p.role, Role.Admin)) throw new PlatformException(PlatformErrorCode.FORBIDDEN, 'Reading the audit archive needs the Admin role');
      await this.audit.record(undefined, {
        entityType: 'AuditLog',
        entityId: p.tenantId,
        action: 'ArchiveRead',
        additional: { query: { ...filter, since: q.since?.toISOString(), until: q.until?.toISOString(), limit: q.limit, cursor: q.cursor !== undefined, includeArchive: true } },
      });
    }
    const page = await this.audit.list({ ...filter, includeArchive: q.includeArchive }, { limit: q.limit, cursor: q.cursor });
    return mapPage(page, toAuditEventResponse);
  }
}
