import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { DISPATCH_OUTCOMES } from '@ampora/opamp';
import { CertificateEntity } from '../entities/certificate.entity';
import { toPem } from '../x509-factory';

export const SignCsrSchema = z
  .object({
    csr: z.string().min(1).max(64 * 1024).describe('A PEM PKCS#10 certificate request (RSA ≥ 2048 or ECDSA P-256/P-384), signed by the agent\'s key'),
  })
  .strict();
export class SignCsrDto extends createZodDto(SignCsrSchema) {}

export class SignedCertificateDto extends createZodDto(
  z.object({
    id: z.uuid(),
    certificate: z.string().describe('The signed client certificate, PEM'),
    caCertificate: z.string().describe('The CA certificate that signed it, PEM'),
    fingerprint: z.string().describe('SHA-256 of the certificate (DER), hex: how Ampora recognises the agent'),
    notAfter: z.string(),
    serialNumber: z.string(),
    signingKeyId: z.uuid(),
  }),
) {}

export const RevokeQuerySchema = z.object({
  reason: z.enum(['unspecified', 'keyCompromise', 'cessationOfOperation']).default('unspecified').describe('RFC 5280 reason written to the CRL and OCSP answers'),
});
export class RevokeQueryDto extends createZodDto(RevokeQuerySchema) {}

const RevokeResultSchema = z.object({
  agentId: z.uuid(),
  revoked: z.array(z.object({ id: z.uuid(), serialNumber: z.string(), fingerprint: z.string(), revokedAt: z.string() })),
  session: z.enum(DISPATCH_OUTCOMES).describe('What happened to its live session: `delivered` means it was closed'),
});
export class RevokeResultDto extends createZodDto(RevokeResultSchema) {}

export class RotationResultDto extends createZodDto(
  z.object({
    agentId: z.uuid(),
    certificateId: z.uuid().describe('The certificate being replaced (the one the agent connects with)'),
    serialNumber: z.string(),
    delivery: z
      .enum([...DISPATCH_OUTCOMES, 'requested'])
      .describe('`delivered` / `queued` (HTTP agents, with the next poll): pushed from this instance; `requested`: the instance holding the agent\'s session pushes it, or its next connection is offered the new certificate'),
    hash: z.string().optional().describe('The connection settings offer\'s hash, which the agent reports back (pushed from this instance only)'),
    newCertificateId: z.uuid().optional(),
    newSerialNumber: z.string().optional(),
  }),
) {}

/** The most agents one bulk revocation takes (signing with a KMS or HSM key is rate-limited). */
export const BULK_REVOKE_MAX = 1000;

export const BulkRevokeSchema = z
  .object({
    agentIds: z.array(z.uuid()).min(1).max(BULK_REVOKE_MAX).describe('At most 1,000 agents'),
    reason: RevokeQuerySchema.shape.reason,
  })
  .strict();
export class BulkRevokeDto extends createZodDto(BulkRevokeSchema) {}

export class BulkRevokeResultDto extends createZodDto(
  z.object({
    certificates: z.number().int().describe('How many certificates were revoked'),
    agents: z.array(RevokeResultSchema).describe('The agents whose certificates were revoked, and what happened to their sessions'),
    skipped: z
      .array(z.object({ agentId: z.uuid(), reason: z.enum(['no_certificate', 'already_revoked']) }))
      .describe('Agents left as they were: no certificate of this tenant, or every one already revoked'),
  }),
) {}

const CertificateFields = z
  .object({
    id: z.uuid(),
    agentId: z.uuid().nullable().describe('Empty until a certificate signed through the API is first used by an agent'),
    kind: z.string(),
    status: z.enum(['valid', 'expired', 'revoked']),
    serialNumber: z.string(),
    fingerprint: z.string(),
    subject: z.string(),
    keySource: z.enum(['server', 'csr']),
    reason: z.enum(['enrolment', 'renewal', 'api']),
    signingKeyId: z.uuid(),
    notBefore: z.string(),
    notAfter: z.string(),
    revokedAt: z.string().nullable(),
    revocationReason: z.string().nullable(),
    replacedById: z.uuid().nullable(),
    certificate: z.string().describe('PEM'),
    createdAt: z.string(),
  });
export const CertificateSchema = CertificateFields.meta({ id: 'Certificate' });
export class CertificateDto extends createZodDto(CertificateFields) {}
export class CertificatePageDto extends createZodDto(pageSchema(CertificateSchema)) {}
export class CertificateListQueryDto extends createZodDto(PageQuerySchema.extend({ agentId: z.uuid().optional().describe('Only this agent\'s certificates') })) {}

export function toCertificateResponse(c: CertificateEntity, now: number): z.infer<typeof CertificateSchema> {
  return {
    id: c.id,
    agentId: c.agentId,
    kind: c.kind,
    status: c.revokedAt ? 'revoked' : c.notAfter.getTime() < now ? 'expired' : 'valid',
    serialNumber: c.serialNumber,
    fingerprint: c.fingerprint,
    subject: c.subject,
    keySource: c.keySource,
    reason: c.reason,
    signingKeyId: c.signingKeyId,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    revokedAt: c.revokedAt?.toISOString() ?? null,
    revocationReason: c.revocationReason,
    replacedById: c.replacedById,
    certificate: toPem(c.certificate),
    createdAt: c.createdAt.toISOString(),
  };
}
