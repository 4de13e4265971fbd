import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, mapPage, MinRole, Principal } from '@ampora/platform';
import { Role } from '../domain/role';
import { AuditService } from './audit.service';
import { AuditEventPageDto, AuditQueryDto, toAuditEventResponse } from './dto/audit.dto';

@ApiTags('audit')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('events')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listAuditEvents', summary: 'Audit events of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: AuditEventPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: AuditQueryDto) {
    const page = await this.audit.list(
      { tenantId: p.tenantId, actor: q.actor, action: q.action, entityType: q.entityType, entityId: q.entityId, since: q.since, until: q.until },
      { limit: q.limit, cursor: q.cursor },
    );
    return mapPage(page, toAuditEventResponse);
  }
}
