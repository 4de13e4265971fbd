import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { ConfigurationLifecycleService } from './configuration-lifecycle.service';
import { ConfigurationsService } from './configurations.service';
import {
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
  VersionBodyDto,
  VersionDto,
  VersionListQueryDto,
  VersionPageDto,
  VersionParamDto,
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
  @ApiOperation({ operationId: 'getConfigurationVersionFindings', summary: 'Findings of a version, optionally checked against an agent\'s available components' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: FindingsDto })
  async findings(@CurrentPrincipal() p: Principal, @Param() { id, n }: VersionParamDto, @Query() q: FindingsQueryDto) {
    const v = await this.configurations.getVersion(p.tenantId, id, n);
    return { versionId: v.id, agentId: q.agentId ?? null, findings: await this.configurations.findingsFor(p.tenantId, id, n, q.agentId) };
  }

  @Post(':id/versions/:n/publish')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'publishConfigurationVersion', summary: 'Publish a Draft (refused while it has Error findings); it is immutable from then on' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: VersionDto })
  async publish(@CurrentPrincipal() p: Principal, @Param() { id, n }: VersionParamDto) {
    return toVersionResponse(await this.configurations.publish(p, id, n));
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
