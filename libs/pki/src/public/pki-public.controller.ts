import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiProblems, Public } from '@ampora/platform';
import { CrlService } from '../revocation/crl.service';
import { OCSP_MAX_REQUEST_BYTES, OcspResponderService } from '../revocation/ocsp-responder.service';

const PEM = 'application/x-pem-file';
const OCSP_RESPONSE = 'application/ocsp-response';
/** Revocation data may be cached briefly; a revocation shows in OCSP at once and in the CRL within 15 minutes. */
const CACHE = 'public, max-age=60';

const binary = { schema: { type: 'string', format: 'binary' } };
const text = { schema: { type: 'string' } };

/** Anonymous PKI endpoints: trust bundle, CRLs (stored bytes) and the OCSP responder. */
@ApiTags('pki')
@Controller('pki')
@Public()
export class PkiPublicController {
  constructor(
    private readonly crls: CrlService,
    private readonly ocsp: OcspResponderService,
  ) {}

  @Get('trust-bundle.pem')
  @ApiOperation({ operationId: 'getTrustBundle', summary: 'The CA certificates of the Active and Trusted keys (PEM)' })
  @ApiProduces(PEM)
  @ApiResponse({ status: 200, description: 'PEM certificates, the Active key first', content: { [PEM]: text } })
  @ApiProblems(503)
  async trustBundle(@Res() res: Response): Promise<void> {
    res.status(200).type(PEM).set('Cache-Control', CACHE).send(await this.crls.trustBundle());
  }

  @Get('crl.der')
  @ApiOperation({ operationId: 'getCrlDer', summary: 'The CRL of the Active key (DER), as last published' })
  @ApiProduces('application/pkix-crl')
  @ApiResponse({ status: 200, description: 'DER CRL', content: { 'application/pkix-crl': binary } })
  @ApiProblems(503)
  async crlDer(@Res() res: Response): Promise<void> {
    res.status(200).type('application/pkix-crl').set('Cache-Control', CACHE).send(await this.crls.crlDer());
  }

  @Get('crl.pem')
  @ApiOperation({ operationId: 'getCrlPem', summary: 'The CRLs of every Active and Trusted key (PEM), as last published' })
  @ApiProduces(PEM)
  @ApiResponse({ status: 200, description: 'PEM CRLs, the Active key\'s first', content: { [PEM]: text } })
  @ApiProblems(503)
  async crlPem(@Res() res: Response): Promise<void> {
    res.status(200).type(PEM).set('Cache-Control', CACHE).send(await this.crls.crlPem());
  }

  @Post('ocsp')
  @ApiOperation({ operationId: 'ocspPost', summary: 'OCSP (RFC 6960): a DER OCSPRequest in, a signed OCSPResponse out' })
  @ApiConsumes('application/ocsp-request')
  @ApiBody({ description: 'DER OCSPRequest', required: true, schema: { type: 'string', format: 'binary' } })
  @ApiProduces(OCSP_RESPONSE)
  @ApiResponse({ status: 200, description: 'DER OCSPResponse (errors are OCSP statuses, e.g. malformedRequest)', content: { [OCSP_RESPONSE]: binary } })
  @ApiProblems(413)
  async post(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = await readRaw(req, OCSP_MAX_REQUEST_BYTES);
    if (!body) {
      res.status(413).type('text/plain').send('OCSP request too large');
      return;
    }
    res.status(200).type(OCSP_RESPONSE).set('Cache-Control', 'no-store').send(await this.ocsp.respond(body));
  }

  @Get('ocsp/*request')
  @ApiOperation({ operationId: 'ocspGet', summary: 'OCSP (RFC 5019): the base64 (URL-encoded) DER OCSPRequest in the path' })
  @ApiParam({ name: 'request', description: 'base64 of the DER OCSPRequest, URL-encoded', schema: { type: 'string' } })
  @ApiProduces(OCSP_RESPONSE)
  @ApiResponse({ status: 200, description: 'DER OCSPResponse', content: { [OCSP_RESPONSE]: binary } })
  @ApiProblems(400)
  async get(@Req() req: Request, @Res() res: Response): Promise<void> {
    const encoded = req.originalUrl.split('?')[0]!.replace(/^.*?\/pki\/ocsp\//, '');
    let der: Buffer;
    try {
      der = Buffer.from(decodeURIComponent(encoded), 'base64');
    } catch {
      der = Buffer.alloc(0);
    }
    res.status(200).type(OCSP_RESPONSE).set('Cache-Control', CACHE).send(await this.ocsp.respond(der));
  }
}

/** Reads a raw request body up to `limit` bytes; undefined when larger. */
async function readRaw(req: Request, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
