import { AdoptedCertificates } from './certificates/adopted-certificates';
import { AdoptedCertificateEntity } from './certificates/entities/adopted-certificate.entity';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueModule } from '@ampora/platform';
import { AGENT_CERTIFICATES, bindOpampPorts, CLIENT_CERTIFICATE_VERIFIER, CONNECTION_SETTINGS_PROVIDER, LISTENER_CERTIFICATE_ISSUER, OpampModule } from '@ampora/opamp';
import { AgentIdentityService } from './certificates/agent-identity.service';
import { CertificateIssuer } from './certificates/certificate-issuer';
import { CertificateRepository } from './certificates/certificate.repository';
import { ListenerCertificates } from './certificates/listener-certificates';
import { CertificateEntity } from './certificates/entities/certificate.entity';
import { OcspResponderEntity } from './keys/entities/ocsp-responder.entity';
import { SigningKeyEntity } from './keys/entities/signing-key.entity';
import { SigningKeyRepository } from './keys/signing-key.repository';
import { SigningKeysService } from './keys/signing-keys.service';
import { CaKeyMaterial } from './keys/ca-key-material';
import { PKI_QUEUE } from './pki.jobs';
import { SigningProviders } from './providers/signing-providers';
import { FederationCertificates } from './certificates/federation-certificates';
import { CrlRepository } from './revocation/crl.repository';
import { CrlService } from './revocation/crl.service';
import { CrlEntity } from './revocation/entities/crl.entity';
import { OcspResponderService } from './revocation/ocsp-responder.service';
import { RevocationService } from './revocation/revocation.service';

/**
 * Ampora's CA: signing keys and providers, agent certificates (issuance, renewal, verification,
 * binding), revocation, CRLs and OCSP. Provides the OpAMP identity ports; imports the OpAMP module
 * for its AGENT_DISPATCHER (sessions closed on revocation, renewals pushed), present in every process.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SigningKeyEntity, OcspResponderEntity, CertificateEntity, CrlEntity, AdoptedCertificateEntity]), QueueModule.forFeature(PKI_QUEUE), OpampModule],
  providers: [
    SigningProviders,
    SigningKeyRepository,
    CertificateRepository,
    CrlRepository,
    CaKeyMaterial,
    SigningKeysService,
    CertificateIssuer,
    FederationCertificates,
    AdoptedCertificates,
    AgentIdentityService,
    RevocationService,
    CrlService,
    OcspResponderService,
    ListenerCertificates,
    { provide: LISTENER_CERTIFICATE_ISSUER, useExisting: ListenerCertificates },
    { provide: CONNECTION_SETTINGS_PROVIDER, useExisting: AgentIdentityService },
    { provide: CLIENT_CERTIFICATE_VERIFIER, useExisting: AgentIdentityService },
    { provide: AGENT_CERTIFICATES, useExisting: AgentIdentityService },
    bindOpampPorts({ connectionSettings: AgentIdentityService, certificateVerifier: AgentIdentityService, listenerCertificates: ListenerCertificates }),
  ],
  exports: [
    SigningKeysService,
    AdoptedCertificates,
    FederationCertificates,
    AgentIdentityService,
    RevocationService,
    CrlService,
    OcspResponderService,
    // for PkiApiModule's controllers and session closers (the class is not in the lib's index)
    CertificateRepository,
    CONNECTION_SETTINGS_PROVIDER,
    CLIENT_CERTIFICATE_VERIFIER,
    AGENT_CERTIFICATES,
    LISTENER_CERTIFICATE_ISSUER,
  ],
})
export class PkiModule {}
