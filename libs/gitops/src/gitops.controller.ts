import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { AMPORA_CONFIG, AmporaConfig, ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { Role } from '@ampora/governance';
import {
  CreateGitSourceDto,
  GitFileListDto,
  GitSourceDto,
  GitSourceEditResultDto,
  GitSourceListQueryDto,
  GitSourcePageDto,
  GitSyncRunListQueryDto,
  GitSyncRunPageDto,
  SyncRequestedDto,
  toGitFileResponse,
  toGitSourceResponse,
  toGitSyncRunResponse,
  UpdateGitSourceDto,
  WebhookTokenDto,
  webhookPath,
} from './dto/git-source.dto';
import { GitopsQueries } from './gitops-queries.service';
import { SourceEditOutcome, SourcesService } from './sources.service';

@ApiTags('gitops')
@Controller('api/gitops/sources')
@MinRole(Role.Admin)
export class GitopsController {
  constructor(
    private readonly sources: SourcesService,
    private readonly queries: GitopsQueries,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  @Post()
  @ApiOperation({ operationId: 'createGitSource', summary: 'Register a Git repository whose files become configurations (the credential is never returned). When a tenant approval rule applies (/api/approval-rules), 202 `{ source, approvalId }`: nothing is created until another person approves (the source shown is what will be created, with its id)' })
  @ApiAcceptedResponse({ description: 'An approval rule applies: `{ source, approvalId }`, the source is created when the request at /api/approvals/{approvalId} is approved' })
  @ApiProblems(400, 409, 422)
  @ZodResponse({ status: 201, type: GitSourceEditResultDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateGitSourceDto, @Res({ passthrough: true }) res: Response) {
    return this.answer(await this.sources.create(p, body), res);
  }

  @Get()
  @ApiOperation({ operationId: 'listGitSources', summary: 'GitOps sources of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: GitSourcePageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: GitSourceListQueryDto) {
    return mapPage(await this.sources.list(p.tenantId, q), (s) => this.view(s));
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getGitSource', summary: 'One GitOps source' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: GitSourceDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.view(await this.sources.get(p.tenantId, id));
  }

  @Patch(':id')
  @ApiOperation({ operationId: 'updateGitSource', summary: 'Change a source; a new repository, branch or glob is swept in full next time. When a tenant approval rule applies (/api/approval-rules), 202 `{ source, approvalId }`: the source stays as it is until another person approves' })
  @ApiAcceptedResponse({ description: 'An approval rule applies: `{ source, approvalId }` (the source unchanged), the edit is made when the request at /api/approvals/{approvalId} is approved' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: GitSourceEditResultDto })
  async update(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: UpdateGitSourceDto, @Res({ passthrough: true }) res: Response) {
    return this.answer(await this.sources.update(p, id, body), res);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteGitSource', summary: 'Delete a source, its runs and its cache (its configurations stay)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 404)
  async delete(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto): Promise<void> {
    await this.sources.delete(p, id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ operationId: 'pauseGitSource', summary: 'Stop sweeping a source (its schedule is removed; webhooks are accepted and ignored)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: GitSourceDto })
  async pause(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.view(await this.sources.pause(p, id));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({ operationId: 'resumeGitSource', summary: 'Sweep a paused source again on its schedule' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: GitSourceDto })
  async resume(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.view(await this.sources.resume(p, id));
  }

  @Post(':id/sync')
  @HttpCode(202)
  @ApiOperation({ operationId: 'syncGitSource', summary: 'Sweep now (joins a sweep already waiting)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 202, type: SyncRequestedDto })
  async sync(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return { sourceId: id, jobId: (await this.sources.requestSync(p, id)) ?? null };
  }

  @Get(':id/runs')
  @ApiOperation({ operationId: 'listGitSyncRuns', summary: 'Sync runs of a source, newest first (kept 30 days)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: GitSyncRunPageDto })
  async runs(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: GitSyncRunListQueryDto) {
    return mapPage(await this.queries.runs(p.tenantId, id, q), toGitSyncRunResponse);
  }

  @Get(':id/files')
  @ApiOperation({ operationId: 'listGitFiles', summary: 'Files a source imports, with their configurations (orphaned: deleted in Git)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: GitFileListDto })
  async files(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return { items: (await this.queries.files(p.tenantId, id)).map(toGitFileResponse) };
  }

  @Post(':id/webhook-token')
  @HttpCode(201)
  @ApiOperation({ operationId: 'generateGitWebhookToken', summary: 'Generate (or replace) the webhook token; shown only in this answer' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 201, type: WebhookTokenDto })
  async generateToken(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const { source, token } = await this.sources.generateWebhookToken(p, id);
    return { sourceId: source.id, token, webhookUrl: `${this.config.app.publicUrl}${webhookPath(source.id)}` };
  }

  @Delete(':id/webhook-token')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeGitWebhookToken', summary: 'Remove the webhook token (webhook calls are refused)' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 404)
  async revokeToken(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto): Promise<void> {
    await this.sources.revokeWebhookToken(p, id);
  }

  /** The source (201/200), or, when an approval rule holds the change, 202 `{ source, approvalId }` (decision 0403). */
  private answer(outcome: SourceEditOutcome, res: Response) {
    if (!outcome.approvalId) return this.view(outcome.source);
    res.status(202);
    return { source: this.view(outcome.source), approvalId: outcome.approvalId };
  }

  private view(s: Parameters<typeof toGitSourceResponse>[0]) {
    return toGitSourceResponse(s, this.config.app.publicUrl);
  }
}
