import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, MinRole, Principal } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { AgentEndpointService } from '../agents/agent-endpoint.service';
import { AgentTelemetryDto, ConfigurationTelemetryDto, EndpointOfferDto, EndpointOfferResultDto, GroupEndpointOfferResultDto, TelemetryQueryDto } from './dto/telemetry.dto';
import { OwnTelemetryService } from './own-telemetry.service';

/** Agents' own telemetry (decision 0320) and the connection settings an operator offers (decisions 0322, 0381). */
@ApiTags('agents')
@Controller('api')
export class OwnTelemetryController {
  constructor(
    private readonly telemetry: OwnTelemetryService,
    private readonly endpoints: AgentEndpointService,
  ) {}

  @Get('agents/:id/telemetry')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getAgentTelemetry', summary: 'What the agent\'s own metrics say over a window: per component and signal, accepted / refused / dropped / sent / send-failed items, queue size, and rates' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: AgentTelemetryDto })
  agent(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: TelemetryQueryDto) {
    return this.telemetry.forAgent(p.tenantId, id, q.windowSeconds);
  }

  @Get('configurations/:id/telemetry')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getConfigurationTelemetry', summary: 'The own telemetry of the agents assigned a version of the configuration, summed' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ConfigurationTelemetryDto })
  configuration(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: TelemetryQueryDto) {
    return this.telemetry.forConfiguration(p.tenantId, id, q.windowSeconds);
  }

  @Post('agents/:id/opamp-endpoint')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'offerAgentEndpoint', summary: 'Offer the agent another OpAMP endpoint (ConnectionSettingsOffers.opamp, with its hash); it needs AcceptsOpAMPConnectionSettings' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: EndpointOfferResultDto })
  offerEndpoint(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: EndpointOfferDto) {
    return this.endpoints.offer(p, id, body.endpoint, body.headers);
  }

  @Post('groups/:id/opamp-endpoint')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'offerGroupEndpoint', summary: 'Offer every agent of the group another OpAMP endpoint (one offer, one hash); agents without AcceptsOpAMPConnectionSettings are skipped' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: GroupEndpointOfferResultDto })
  offerGroupEndpoint(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: EndpointOfferDto) {
    return this.endpoints.offerToGroup(p, id, body.endpoint, body.headers);
  }
}
