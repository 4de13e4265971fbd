import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { ReadOnlyRoute, Role } from '@ampora/governance';
import { ConfigurationLifecycleService } from './configuration-lifecycle.service';
import { ConfigurationsService } from './configurations.service';
import {
  CheckConfigurationDto,
  CheckResultDto,
  CompareQueryDto,
  CompareResultDto,
  ConfigurationDto,
  ConfigurationListQueryDto,
  ConfigurationPageDto,
  CreateConfigurationDto,
  FindingsDto,
  FindingsQueryDto,
  toConfigurationResponse,
  toVersionResponse,
  toVersionSummary,
  UpdateConfigurationDto,
  ValidationResultDto,
  VersionBodyDto,
  VersionDto,
  VersionListQueryDto,
  VersionPageDto,
  VersionParamDto,
  VersionPublishResultDto,
} from './dto/configuration.dto';

@ApiTags('configurations')
@Controller('api/configurations')
export class ConfigurationsController {
  constructor(
    private readonly configurations: ConfigurationsService,
    private readonly lifecycle: ConfigurationLifecycleService,
  ) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listConfigurations', summary: 'Configurations of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: ConfigurationPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ConfigurationListQueryDto) {
    const page = await this.configurations.list(p.tenantId, q);
    const published = await this.configurations.publishedNumbers(page.items.map((c) => c.id));
    return mapPage(page, (c) => toConfigurationResponse(c, published.get(c.id) ?? null));
  }

  @Post()
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'createConfiguration', summary: 'Create a configuration (a named container of versions)' })
  @ApiProblems(400, 409)
  @ZodResponse({ status: 201, type: ConfigurationDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateConfigurationDto) {
    return toConfigurationResponse(await this.configurations.create(p, body), null);
  }

  @Post('check')
  @HttpCode(200)
  @ReadOnlyRoute()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'checkConfiguration', summary: 'Findings of a proposed configuration text and its text and semantic diff against a stored version, storing nothing' })
  @ApiProblems(400, 404, 413, 415, 422)
  @ZodResponse({ status: 200, type: CheckResultDto })
  check(@CurrentPrincipal() p: Principal, @Body() body: CheckConfigurationDto) {
    return this.configurations.check(p.tenantId, body);
  }

  @Post('validate')
  @HttpCode(200)
  @ReadOnlyRoute()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'validateConfiguration', summary: 'Findings of a text as a new version would get them (syntax, pipelines, unused components), with line and column; stores nothing' })
  @ApiProblems(400, 413, 415, 422)
  @ZodResponse({ status: 200, type: ValidationResultDto })
  async validate(@CurrentPrincipal() p: Principal, @Body() body: VersionBodyDto) {
    const { findings, errorCount, warningCount } = await this.configurations.check(p.tenantId, { yaml: body.yaml });
    return { findings, errorCount, warningCount };
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getConfiguration', summary: 'One configuration' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ConfigurationDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const c = await this.configurations.get(p.tenantId, id);
    return toConfigurationResponse(c, (await this.configurations.publishedNumbers([c.id])).get(c.id) ?? null);
  }

  @Patch(':id')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'updateConfiguration', summary: 'Rename a configuration or change its description' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: ConfigurationDto })
  async update(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: UpdateConfigurationDto) {
    const c = await this.lifecycle.update(p, id, body);
    return toConfigurationResponse(c, (await this.configurations.publishedNumbers([c.id])).get(c.id) ?? null);
  }

  @Delete(':id')
  @HttpCode(204)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'deleteConfiguration', summary: 'Delete a configuration and its versions; refused (409 CONFIGURATION_IN_USE) while a group, an agent or a rollout uses it' })
  @ApiNoContentResponse({ description: 'Deleted with its versions' })
  @ApiProblems(400, 404, 409)
  async delete(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto): Promise<void> {
    await this.lifecycle.delete(p, id);
  }

  @Get(':id/versions')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listConfigurationVersions', summary: 'Versions of a configuration, newest first (without their text)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: VersionPageDto })
  async versions(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: VersionListQueryDto) {
    return mapPage(await this.configurations.listVersions(p.tenantId, id, q), toVersionSummary);
  }

  @Post(':id/versions')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'createConfigurationVersion', summary: 'Add a Draft version; answers its findings (syntax, pipelines, unused components)' })
  @ApiProblems(400, 404, 413, 415, 422)
  @ZodResponse({ status: 201, type: VersionDto })
  async createVersion(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: VersionBodyDto) {
    return toVersionResponse(await this.configurations.createVersion(p, id, body.yaml));
  }

  @Get(':id/versions/compare')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'compareConfigurationVersions', summary: 'Textual (unified) and semantic diff between two versions' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: CompareResultDto })
  async compare(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: CompareQueryDto) {
    const { from, to, diff } = await this.configurations.compare(p.tenantId, id, q.from, q.to);
    return { configurationId: id, from: { number: from.number, hash: from.contentHash, status: from.status }, to: { number: to.number, hash: to.contentHash, status: to.status }, ...diff };
  }

  @Get(':id/versions/:n')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getConfigurationVersion', summary: 'One version: its YAML exactly as given, status, hash and findings' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: VersionDto })
  async getVersion(@CurrentPrincipal() p: Principal, @Param() { id, n }: VersionParamDto) {
    return toVersionResponse(await this.configurations.getVersion(p.tenantId, id, n));
  }

  @Put(':id/versions/:n')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'updateConfigurationVersion', summary: 'Replace the text of a Draft (Published and Archived versions never change)' })
  @ApiProblems(400, 404, 409, 413, 415, 422)
  @ZodResponse({ status: 200, type: VersionDto })
  async updateVersion(@CurrentPrincipal() p: Principal, @Param() { id, n }: VersionParamDto, @Body() body: VersionBodyDto) {
    return toVersionResponse(await this.configurations.updateDraft(p, id, n, body.yaml));
  }

  @Get(':id/versions/:n/findings')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getConfigurationVersionFindings', summary: 'Findings of a version, optionally checked against an agent\'s or a group\'s available components' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: FindingsDto })
  async findings(@CurrentPrincipal() p: Principal, @Param() { id, n }: VersionParamDto, @Query() q: FindingsQueryDto) {
    const v = await this.configurations.getVersion(p.tenantId, id, n);
    return { versionId: v.id, agentId: q.agentId ?? null, groupId: q.groupId ?? null, findings: await this.configurations.findingsFor(p.tenantId, id, n, { agentId: q.agentId, groupId: q.groupId }) };
  }

  @Post(':id/versions/:n/publish')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'publishConfigurationVersion', summary: 'Publish a Draft (refused while it has Error findings); it is immutable from then on. When a tenant approval rule applies (/api/approval-rules), 202 `{ version, approvalId }`: the version stays Draft until another person approves' })
  @ApiAcceptedResponse({ description: 'An approval rule applies: `{ version, approvalId }`, the version stays Draft until the request at /api/approvals/{approvalId} is approved' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: VersionPublishResultDto })
  async publish(@CurrentPrincipal() p: Principal, @Param() { id, n }: VersionParamDto, @Res({ passthrough: true }) res: Response) {
    const outcome = await this.configurations.publish(p, id, n);
    if (!outcome.approvalId) return toVersionResponse(outcome.version);
    res.status(202);
    return { version: toVersionResponse(outcome.version), approvalId: outcome.approvalId };
  }

  @Post(':id/versions/:n/archive')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'archiveConfigurationVersion', summary: 'Archive a version (refused while groups or agents are assigned it)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: VersionDto })
  async archive(@CurrentPrincipal() p: Principal, @Param() { id, n }: VersionParamDto) {
    return toVersionResponse(await this.configurations.archive(p, id, n));
  }
}
