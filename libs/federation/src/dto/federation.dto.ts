import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import type { FederationCredentialEntity } from '../entities/federation-credential.entity';
import type { PeerEntity } from '../entities/peer.entity';

export const IssueCertificateSchema = z
  .object({ subject: z.string().trim().min(1).max(200).describe('The certificate\'s common name, e.g. ampora-eu (free text)') })
  .strict();
export class IssueCertificateDto extends createZodDto(IssueCertificateSchema) {}

const CertificateSchema = z
  .object({
    id: z.uuid(),
    subject: z.string(),
    fingerprint: z.string().describe('SHA-256 of the certificate (hex): what the peer pins'),
    serialNumber: z.string(),
    certificatePem: z.string().describe('The public certificate to copy to the peer (the private key never leaves the server)'),
    notBefore: z.string(),
    notAfter: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
  });
export class FederationCertificateDto extends createZodDto(CertificateSchema) {}
export class FederationCertificatePageDto extends createZodDto(pageSchema(CertificateSchema)) {}
export class FederationListQueryDto extends createZodDto(PageQuerySchema) {}

export function toCertificateResponse(c: FederationCredentialEntity): z.infer<typeof CertificateSchema> {
  return {
    id: c.id,
    subject: c.subject,
    fingerprint: c.fingerprint,
    serialNumber: c.serialNumber,
    certificatePem: c.certificatePem,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    createdAt: c.createdAt.toISOString(),
    createdBy: c.createdBy,
  };
}

const secret = z.string().min(43).max(44).describe('32 bytes, base64url');

export const CreatePeerSchema = z
  .object({
    name: z.string().min(1).max(63).describe('Lower-case letters, digits, dashes; appears in agent ids peer:<name>/<id>'),
    endpoint: z.string().max(500).describe('https://host:port of the peer\'s federation listener'),
    remoteCertificatePem: z.string().max(20000).optional().describe('The peer\'s federation certificate (its SHA-256 thumbprint is pinned)'),
    pinnedThumbprint: z.string().max(200).optional().describe('Or the thumbprint itself (hex, colons allowed)'),
    remoteTenant: z.string().min(1).max(100).optional().describe('The tenant on the peer this tenant is paired with (its name; yours by default)'),
    inboundSecret: secret.optional().describe('The secret the peer presents to you: the peer\'s outbound secret when it created the pair first; generated otherwise'),
    outboundSecret: secret.optional().describe('The secret you present to the peer: the peer\'s inbound secret when it created the pair first; generated otherwise'),
  })
  .strict();
export class CreatePeerDto extends createZodDto(CreatePeerSchema) {}

const PeerSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    endpoint: z.string(),
    pinnedThumbprint: z.string(),
    remoteTenant: z.string(),
    status: z.enum(['PendingApproval', 'Active', 'Rejected']),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  });
export class FederationPeerDto extends createZodDto(PeerSchema) {}
export class FederationPeerPageDto extends createZodDto(pageSchema(PeerSchema)) {}
export class CreatedPeerDto extends createZodDto(
  z.object({
    peer: PeerSchema,
    approvalId: z.uuid().describe('The four-eyes request another Admin decides (POST /api/approvals/{id}/approve)'),
    inboundSecret: z.string().describe('Shown once: give it to the peer as its outboundSecret'),
    outboundSecret: z.string().describe('Shown once: give it to the peer as its inboundSecret'),
  }),
) {}

export function toPeerResponse(p: PeerEntity): z.infer<typeof PeerSchema> {
  return {
    id: p.id,
    name: p.name,
    endpoint: p.endpoint,
    pinnedThumbprint: p.pinnedThumbprint,
    remoteTenant: p.remoteTenant,
    status: p.status,
    createdBy: p.createdBy,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

export class PingQueryDto extends createZodDto(z.object({ peer: z.string().min(1).max(63).describe('The peer\'s name') })) {}
export class PingResultDto extends createZodDto(
  z.object({
    peer: z.string(),
    ok: z.boolean().describe('Green: TLS with the pinned thumbprint, and the peer accepted the outbound secret'),
    factor: z.enum(['tls', 'thumbprint', 'secret', 'timeout', 'circuit', 'http']).optional().describe('Red: which factor failed'),
    detail: z.string().optional(),
    durationMs: z.number(),
  }),
) {}
