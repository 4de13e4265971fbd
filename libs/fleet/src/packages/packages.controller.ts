import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, Clock, CurrentPrincipal, IdParamDto, MinRole, Principal, Public } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { checkDownload, packageStatusesView } from './domain/packages';
import { AgentPackagesDto, AssignPackageDto, AssignPackageResultDto, PackageListDto, PackageNameParamDto, PackageVersionDto, PackageVersionListDto, PackageVersionParamDto, UploadQueryDto } from './dto/package.dto';
import { PackageStore } from './package-store';
import { PackagesService } from './packages.service';

/** The header carrying an upload's ed25519 signature (base64 of the 64 bytes, over the file). */
export const SIGNATURE_HEADER = 'ampora-package-signature';

/** Packages: upload, list, versions, assignment to agents, an agent's package state (issue 20 item 4). */
@ApiTags('packages')
@Controller()
export class PackagesController {
  constructor(private readonly packages: PackagesService) {}

  @Get('api/packages')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listPackages', summary: 'Packages of your tenant, by name' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: PackageListDto })
  async list(@CurrentPrincipal() p: Principal) {
    return { items: await this.packages.list(p.tenantId) };
  }

  @Get('api/packages/:name/versions')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listPackageVersions', summary: 'Versions of a package, newest first' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: PackageVersionListDto })
  async versions(@CurrentPrincipal() p: Principal, @Param() { name }: PackageNameParamDto) {
    return { items: await this.packages.versions(p.tenantId, name) };
  }

  @Post('api/packages/:name/versions/:version')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'uploadPackageVersion', summary: 'Upload a version of a package: the file as the body, its ed25519 signature in Ampora-Package-Signature' })
  @ApiConsumes('application/octet-stream')
  @ApiBody({ description: 'The package file', required: true, schema: { type: 'string', format: 'binary' } })
  @ApiHeader({ name: 'Ampora-Package-Signature', required: false, description: 'base64 of the ed25519 signature of the file (required unless AMPORA_PACKAGES_REQUIRE_SIGNATURE=false)' })
  @ApiProblems(400, 409, 413, 422)
  @ZodResponse({ status: 201, type: PackageVersionDto })
  async upload(@CurrentPrincipal() p: Principal, @Param() { name, version }: PackageVersionParamDto, @Query() q: UploadQueryDto, @Req() req: Request) {
    const content = await readBody(req, this.packages.maxBytes);
    const header = req.headers[SIGNATURE_HEADER];
    const signature = typeof header === 'string' && header.trim() ? Buffer.from(header.trim(), 'base64') : undefined;
    return this.packages.upload(p, { name, version, type: q.type, content, signature });
  }

  @Post('api/packages/:name/versions/:version/assign')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'assignPackageVersion', summary: 'Offer this version to agents (by id or a group\'s members) from their next frames' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: AssignPackageResultDto })
  async assign(@CurrentPrincipal() p: Principal, @Param() { name, version }: PackageVersionParamDto, @Body() body: AssignPackageDto) {
    return this.packages.assign(p, name, version, body);
  }

  @Get('api/agents/:id/packages')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getAgentPackages', summary: 'The packages an agent is assigned and their states as it reported them (Installing, Installed, Failed with the error)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: AgentPackagesDto })
  async ofAgent(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const found = await this.packages.ofAgent(p.tenantId, id);
    if (!found) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
    return {
      agentId: id,
      assigned: Object.entries(found.assigned).map(([name, a]) => ({ name, type: a.type, version: a.version, versionId: a.versionId, contentHash: a.contentHash })),
      statuses: packageStatusesView(found.statuses),
    };
  }
}

/**
 * Package downloads for agents (decision 0332): anonymous, on the API port, authorised by the URL's
 * HMAC signature and expiry that the OpAMP offer carried. Streams the stored file.
 */
@ApiTags('packages')
@Controller('v1/packages')
@Public()
export class PackageDownloadController {
  constructor(
    private readonly packages: PackagesService,
    private readonly store: PackageStore,
    private readonly clock: Clock,
  ) {}

  @Get(':hash')
  @ApiOperation({ operationId: 'downloadPackage', summary: 'A package file, by the signed, short-lived URL an agent was offered' })
  @ApiProduces('application/octet-stream')
  @ApiResponse({ status: 200, description: 'The file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } })
  @ApiProblems(403, 404, 410)
  async download(@Param('hash') hash: string, @Query('expires') expires: string | undefined, @Query('signature') signature: string | undefined, @Res() res: Response): Promise<void> {
    const check = checkDownload(this.packages.downloadKey, hash, expires, signature, this.clock.nowMs());
    this.packages.logDownload(hash, check);
    if (check === 'bad-signature') throw new FleetException(FleetErrorCode.PACKAGE_DOWNLOAD_FORBIDDEN, 'This download URL is not valid');
    if (check === 'expired') throw new FleetException(FleetErrorCode.PACKAGE_DOWNLOAD_EXPIRED, 'This download URL has expired; the agent gets a new one with its next offer');
    const file = await this.store.open(hash);
    if (!file) throw new FleetException(FleetErrorCode.PACKAGE_NOT_FOUND, 'No such package file');
    res.status(200).type('application/octet-stream').set({ 'Content-Length': String(file.size), 'Cache-Control': 'private, no-store' });
    file.stream.pipe(res);
  }
}

/** The request body, up to `limit` bytes (413 beyond). */
async function readBody(req: Request, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new FleetException(FleetErrorCode.PACKAGE_TOO_LARGE, `A package is at most ${limit} bytes (AMPORA_PACKAGES_MAX_BYTES)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
