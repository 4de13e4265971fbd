import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { CA_KEY_ALGORITHMS } from '../../pki.config';
import { SigningKeyEntity } from '../entities/signing-key.entity';
import { toPem } from '../../certificates/x509-factory';

export const CreateSigningKeySchema = z
  .object({
    algorithm: z.enum(CA_KEY_ALGORITHMS).optional().describe('RSA-3072 or ECDSA-P256; AMPORA_PKI_CA_KEY_ALGORITHM by default'),
    commonName: z.string().trim().min(1).max(200).optional().describe('Common name of the CA certificate; AMPORA_PKI_CA_COMMON_NAME by default'),
  })
  .strict();
export class CreateSigningKeyDto extends createZodDto(CreateSigningKeySchema) {}

const SigningKeyFields = z
  .object({
    id: z.uuid(),
    state: z.enum(['Draft', 'Active', 'Trusted', 'Retired']),
    algorithm: z.string(),
    provider: z.string().describe('software (wrapped under the master key) or pkcs11 (inside the token)'),
    commonName: z.string(),
    fingerprint: z.string().describe('SHA-256 of the CA certificate, hex'),
    keyId: z.string().describe('Subject key identifier, hex'),
    certificate: z.string().describe('The CA certificate, PEM'),
    notBefore: z.string(),
    notAfter: z.string(),
    activatedAt: z.string().nullable(),
    trustedUntil: z.string().nullable().describe('Until when a replaced key still validates its leaves'),
    retiredAt: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
  });
export const SigningKeySchema = SigningKeyFields.meta({ id: 'SigningKey' });

export class SigningKeyDto extends createZodDto(SigningKeyFields) {}
export class SigningKeyActivationDto extends createZodDto(
  z.object({
    signingKey: SigningKeySchema.describe('The key, still Draft until the activation is approved'),
    approvalId: z.uuid().describe('The pending approval request: another Admin of the default tenant approves it at /api/approvals/{id}/approve'),
  }),
) {}
export class SigningKeyPageDto extends createZodDto(pageSchema(SigningKeySchema)) {}
export class SigningKeyListQueryDto extends createZodDto(PageQuerySchema) {}

export function toSigningKeyResponse(k: SigningKeyEntity): z.infer<typeof SigningKeySchema> {
  return {
    id: k.id,
    state: k.state,
    algorithm: k.algorithm,
    provider: k.provider,
    commonName: k.commonName,
    fingerprint: k.fingerprint,
    keyId: k.keyId,
    certificate: toPem(k.certificate),
    notBefore: k.notBefore.toISOString(),
    notAfter: k.notAfter.toISOString(),
    activatedAt: k.activatedAt?.toISOString() ?? null,
    trustedUntil: k.trustedUntil?.toISOString() ?? null,
    retiredAt: k.retiredAt?.toISOString() ?? null,
    createdBy: k.createdBy,
    createdAt: k.createdAt.toISOString(),
  };
}

/** What the audit log keeps of a key (never key material). */
export function auditView(k: SigningKeyEntity): Record<string, unknown> {
  return {
    state: k.state,
    algorithm: k.algorithm,
    provider: k.provider,
    commonName: k.commonName,
    fingerprint: k.fingerprint,
    notAfter: k.notAfter.toISOString(),
    trustedUntil: k.trustedUntil?.toISOString() ?? null,
  };
}
