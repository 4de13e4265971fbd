import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, Clock, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { CompoundAuditRoute, Role } from '@ampora/governance';
import { PkiErrorCode, PkiException } from '../pki.errors';
import { RevocationService } from '../revocation/revocation.service';
import { AgentIdentityService } from './agent-identity.service';
import { CertificateRepository } from './certificate.repository';
import { CertificateRotation } from './certificate-rotation.service';
import { CertificateEntity } from './entities/certificate.entity';
import {
  BulkRevokeDto,
  BulkRevokeResultDto,
  CertificateDto,
  CertificateListQueryDto,
  CertificatePageDto,
  RevokeQueryDto,
  RevokeResultDto,
  RotationResultDto,
  SignCsrDto,
  SignedCertificateDto,
  toCertificateResponse,
} from './dto/certificate.dto';

@ApiTags('pki')
@Controller()
export class CertificatesController {
  constructor(
    private readonly clock: Clock,
    private readonly identities: AgentIdentityService,
    private readonly revocations: RevocationService,
    private readonly certificates: CertificateRepository,
    private readonly rotation: CertificateRotation,
  ) {}

  @Post('api/pki/agent-certificates')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'signAgentCsr', summary: 'Sign a CSR for an agent provisioned by other means (it becomes an agent on its first mTLS connection)' })
  @ApiProblems(400, 422, 503)
  @ZodResponse({ status: 201, type: SignedCertificateDto })
  async sign(@CurrentPrincipal() p: Principal, @Body() body: SignCsrDto) {
    const { row, certificatePem, caCertificatePem } = await this.identities.signCsr(p, body.csr);
    return { id: row.id, certificate: certificatePem, caCertificate: caCertificatePem, fingerprint: row.fingerprint, notAfter: row.notAfter.toISOString(), serialNumber: row.serialNumber, signingKeyId: row.signingKeyId };
  }

  @Get('api/pki/certificates')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listCertificates', summary: 'Certificates issued to agents of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: CertificatePageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: CertificateListQueryDto) {
    return mapPage(await this.certificates.list(p.tenantId, { agentId: q.agentId }, q), (c) => toCertificateResponse(c, this.clock.nowMs()));
  }

  @Get('api/pki/certificates/:id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getCertificate', summary: 'One certificate of your tenant' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: CertificateDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const row = await this.certificates.findInTenant(p.tenantId, id);
    if (!row) throw new PkiException(PkiErrorCode.CERTIFICATE_NOT_FOUND, `Certificate ${id} was not found`);
    return toCertificateResponse(row, this.clock.nowMs());
  }

  @Post('api/pki/certificates/:id/revoke')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'revokeCertificate', summary: 'Revoke one certificate (for example an API-signed one never used); its agent\'s session is closed' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: CertificateDto })
  async revokeOne(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: RevokeQueryDto) {
    return toCertificateResponse((await this.revocations.revokeCertificate(p, id, q.reason)).certificate, this.clock.nowMs());
  }

  // before the `:id` route, so that "bulk" is never taken for an agent id
  @Post('api/agents/bulk/revoke-cert')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'bulkRevokeAgentCertificates', summary: 'Revoke the certificates of up to 1,000 agents at once and close their sessions, in one audit event' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: BulkRevokeResultDto })
  async revokeMany(@CurrentPrincipal() p: Principal, @Body() body: BulkRevokeDto) {
    const r = await this.revocations.revokeAgents(p, body.agentIds, body.reason);
    return {
      certificates: r.certificates,
      agents: r.agents.map((a) => ({ agentId: a.agentId, session: a.session, revoked: a.revoked.map(revokedView) })),
      skipped: r.skipped,
    };
  }

  @Post('api/agents/:id/rotate-cert')
  // the operator's request, and the new certificate issued when this instance holds the session (the agent's renewal)
  @CompoundAuditRoute()
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'rotateAgentCertificate', summary: 'Give the agent a new certificate and key now (a connection settings offer, like a renewal), whatever the end date of the one it uses' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RotationResultDto })
  rotate(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.rotation.rotate(p, id);
  }

  @Post('api/agents/:id/revoke-cert')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'revokeAgentCertificate', summary: 'Revoke the agent\'s certificates at once and close its session (it must enrol again)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RevokeResultDto })
  async revoke(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: RevokeQueryDto) {
    const r = await this.revocations.revokeAgent(p, id, q.reason);
    return { agentId: r.agentId, session: r.session, revoked: r.revoked.map(revokedView) };
  }
}

function revokedView(c: CertificateEntity) {
  return { id: c.id, serialNumber: c.serialNumber, fingerprint: c.fingerprint, revokedAt: c.revokedAt!.toISOString() };
}
