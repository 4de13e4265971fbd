import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { CompoundAuditRoute, Role } from '@ampora/governance';
import {
  CreatedPeerDto,
  CreatePeerDto,
  FederationCertificateDto,
  FederationCertificatePageDto,
  FederationListQueryDto,
  FederationPeerDto,
  FederationPeerPageDto,
  IssueCertificateDto,
  PingQueryDto,
  PingResultDto,
  toCertificateResponse,
  toPeerResponse,
} from './dto/federation.dto';
import { FederationIdentityService } from './federation-identity.service';
import { PeersService } from './peers.service';
import { PingService } from './ping.service';

@ApiTags('federation')
@Controller('api/federation')
@MinRole(Role.Admin)
export class FederationController {
  constructor(
    private readonly identity: FederationIdentityService,
    private readonly peers: PeersService,
    private readonly pings: PingService,
  ) {}

  @Post('certificates')
  @ApiOperation({ operationId: 'issueFederationCertificate', summary: 'Issue this deployment\'s federation certificate (90 days, from the local CA; the key stays on the server)' })
  @ApiProblems(400, 409)
  @ZodResponse({ status: 201, type: FederationCertificateDto })
  async issue(@CurrentPrincipal() p: Principal, @Body() body: IssueCertificateDto) {
    return toCertificateResponse(await this.identity.issue(p, body.subject));
  }

  @Get('certificates')
  @ApiOperation({ operationId: 'listFederationCertificates', summary: 'Federation certificates, newest first (the newest in date is the one presented)' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: FederationCertificatePageDto })
  async certificates(@Query() q: FederationListQueryDto) {
    return mapPage(await this.identity.list(q), toCertificateResponse);
  }

  @Get('certificates/:id')
  @ApiOperation({ operationId: 'getFederationCertificate', summary: 'One federation certificate (public part)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: FederationCertificateDto })
  async certificate(@Param() { id }: IdParamDto) {
    return toCertificateResponse(await this.identity.get(id));
  }

  @Post('peers')
  // the peer and its approval request: one audit event each (decision 0361)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'createFederationPeer', summary: 'Register a peer (pending until another Admin approves); its secrets are shown once' })
  @ApiProblems(400, 409, 422)
  @ZodResponse({ status: 201, type: CreatedPeerDto })
  async createPeer(@CurrentPrincipal() p: Principal, @Body() body: CreatePeerDto) {
    const created = await this.peers.create(p, body);
    return { peer: toPeerResponse(created.peer), approvalId: created.approvalId, inboundSecret: created.inboundSecret, outboundSecret: created.outboundSecret };
  }

  @Get('peers')
  @ApiOperation({ operationId: 'listFederationPeers', summary: 'Your tenant\'s federation peers, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: FederationPeerPageDto })
  async listPeers(@CurrentPrincipal() p: Principal, @Query() q: FederationListQueryDto) {
    return mapPage(await this.peers.list(p.tenantId, q), toPeerResponse);
  }

  @Get('peers/:id')
  @ApiOperation({ operationId: 'getFederationPeer', summary: 'One federation peer (never its secrets)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: FederationPeerDto })
  async getPeer(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toPeerResponse(await this.peers.get(p.tenantId, id));
  }

  @Delete('peers/:id')
  @HttpCode(204)
  // the deletion, and the withdrawal of a pending approval when there is one (decision 0361)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'deleteFederationPeer', summary: 'Remove a peer (a pending approval is withdrawn)' })
  @ApiNoContentResponse()
  @ApiProblems(400, 404)
  deletePeer(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.peers.delete(p, id);
  }

  @Get('ping')
  @ApiOperation({ operationId: 'pingFederationPeer', summary: 'Call the peer over the link: green, or which factor failed (TLS, thumbprint, secret, timeout)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: PingResultDto })
  ping(@CurrentPrincipal() p: Principal, @Query() q: PingQueryDto) {
    return this.pings.ping(p.tenantId, q.peer);
  }
}
