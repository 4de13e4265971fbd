import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { CompoundAuditRoute } from '../audit/audit-discipline.interceptor';
import { Role } from '../domain/role';
import { ApprovalService } from './approval.service';
import { ApprovalPageDto, ApprovalQueryDto, ApprovalRequestDto, ApproveDto, RejectDto, toApprovalResponse } from './dto/approval.dto';

/** Four-eyes approvals of every domain (decision 0261). */
@ApiTags('approvals')
@Controller('api/approvals')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalService) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listApprovals', summary: 'Approval requests of your tenant, newest first (Pending unless `status` says otherwise)' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: ApprovalPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ApprovalQueryDto) {
    const page = await this.approvals.list({ tenantId: p.tenantId, status: q.status, subjectKind: q.subjectKind, subjectId: q.subjectId, author: q.author }, { limit: q.limit, cursor: q.cursor });
    return mapPage(page, toApprovalResponse);
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getApproval', summary: 'One approval request with its diff' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ApprovalRequestDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toApprovalResponse(await this.approvals.get(p.tenantId, id));
  }

  @Post(':id/approve')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @CompoundAuditRoute()
  @ApiOperation({
    operationId: 'approveApproval',
    summary: 'Approve a pending change: never by one of its authors (403 SELF_APPROVAL_FORBIDDEN); the request names the role it needs (403 APPROVAL_ROLE_REQUIRED)',
  })
  @ApiProblems(400, 403, 404, 409)
  @ZodResponse({ status: 200, type: ApprovalRequestDto })
  async approve(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: ApproveDto) {
    return toApprovalResponse(await this.approvals.approve(p, id, body));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'rejectApproval', summary: 'Reject a pending change with a reason (the subject goes back to Draft)' })
  @ApiProblems(400, 403, 404, 409)
  @ZodResponse({ status: 200, type: ApprovalRequestDto })
  async reject(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: RejectDto) {
    return toApprovalResponse(await this.approvals.reject(p, id, body));
  }
}
