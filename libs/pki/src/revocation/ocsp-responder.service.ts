import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, Extension, Name } from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import * as x509 from '@peculiar/x509';
import { Clock, createLogger, Metrics, TenantLabels } from '@ampora/platform';
import { OCSP_VALIDITY_MS, REVOCATION_REASONS } from '../domain/certificate-rules';
import { CertificateRepository } from '../certificates/certificate.repository';
import { timed } from '../certificates/x509-factory';
import { SigningKeyRepository } from '../keys/signing-key.repository';
import { SigningKeyEntity } from '../keys/entities/signing-key.entity';
import { SigningKeysService } from '../keys/signing-keys.service';
import type { Algorithm } from '../providers/webcrypto';

const HASHES: Record<string, string> = { '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
/** Largest OCSP request read (a request for one certificate is ~100 bytes). */
export const OCSP_MAX_REQUEST_BYTES = 64 * 1024;

/**
 * An RFC 6960 / RFC 5019 OCSP responder. Each answer reads the certificate's row, so a revocation
 * shows at once; answers are signed by the CA key's delegated responder certificate (id-kp-OCSPSigning)
 * and valid four hours. Malformed requests get `malformedRequest`, certificates of a CA Ampora does not
 * run get `unauthorized`.
 */
@Injectable()
export class OcspResponderService {
  private readonly log = createLogger('Ampora.Pki.Revocation.OcspResponderService');

  constructor(
    private readonly clock: Clock,
    private readonly certificates: CertificateRepository,
    private readonly keyRows: SigningKeyRepository,
    private readonly keys: SigningKeysService,
  ) {}

  async respond(requestDer: Uint8Array): Promise<Buffer> {
    let request: OCSPRequest;
    try {
      request = AsnConvert.parse(requestDer, OCSPRequest);
    } catch {
      return status(OCSPResponseStatus.malformedRequest);
    }
    const items = request.tbsRequest.requestList;
    if (!items.length) return status(OCSPResponseStatus.malformedRequest);
    try {
      const allKeys = await this.keyRows.findAll();
      let issuer: SigningKeyEntity | undefined;
      const resolved: Array<{ certId: CertID; key?: SigningKeyEntity }> = [];
      for (const item of items) {
        const key = this.issuerOf(item.reqCert, allKeys);
        issuer ??= key;
        resolved.push({ certId: item.reqCert, key });
      }
      if (!issuer) return status(OCSPResponseStatus.unauthorized);
      const responder = await this.keyRows.currentResponder(issuer.id);
      const now = new Date(Math.floor(this.clock.nowMs() / 1000) * 1000);
      if (!responder || responder.notAfter <= now) {
        this.log.warn('No valid OCSP responder certificate for signing key {SigningKeyId}; answering tryLater', { SigningKeyId: issuer.id });
        return status(OCSPResponseStatus.tryLater);
      }
      const responses: SingleResponse[] = [];
      for (const { certId, key } of resolved) {
        responses.push(new SingleResponse({ certID: certId, certStatus: await this.statusOf(certId, key?.id === issuer.id ? key : undefined), thisUpdate: now, nextUpdate: new Date(now.getTime() + OCSP_VALIDITY_MS) }));
      }
      const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
      const data = new ResponseData({
        responderID: new ResponderID({ byKey: new OctetString(Buffer.from(responder.keyId, 'hex')) }),
        producedAt: now,
        responses,
        responseExtensions: nonce ? [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: nonce.extnValue })] : undefined,
      });
      const tbs = AsnConvert.serialize(data);
      const signer = await this.keys.responderSignerOf(responder);
      const raw = await timed(
        () => signer.crypto.subtle.sign(signer.signingAlgorithm, signer.privateKey, tbs),
        (s) => Metrics.record('ampora_pki_signing_duration_seconds', s, { tenant: TenantLabels.of(undefined), provider: signer.provider }),
      );
      const signature = new x509.AsnEcSignatureFormatter().toAsnSignature({ name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as Algorithm, raw) ?? (raw as ArrayBuffer);
      const basic = new BasicOCSPResponse({
        tbsResponseData: data,
        signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
        signature,
        certs: [AsnConvert.parse(responder.certificate, Certificate)],
      });
      return Buffer.from(
        AsnConvert.serialize(
          new OCSPResponse({
            responseStatus: OCSPResponseStatus.successful,
            responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
          }),
        ),
      );
    } catch (error) {
      this.log.error('OCSP request failed', {}, error);
      return status(OCSPResponseStatus.internalError);
    }
  }

  /** The CA key a CertID names: its issuer name hash and key hash, with the request's hash algorithm. */
  private issuerOf(certId: CertID, keys: SigningKeyEntity[]): SigningKeyEntity | undefined {
    const hash = HASHES[certId.hashAlgorithm.algorithm];
    if (!hash) return undefined;
    const nameHash = Buffer.from(certId.issuerNameHash.buffer);
    const keyHash = Buffer.from(certId.issuerKeyHash.buffer);
    for (const key of keys) {
      const ca = AsnConvert.parse(key.certificate, Certificate);
      const subject = Buffer.from(AsnConvert.serialize(ca.tbsCertificate.subject as Name));
      const spkiBits = Buffer.from(ca.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
      if (createHash(hash).update(subject).digest().equals(nameHash) && createHash(hash).update(spkiBits).digest().equals(keyHash)) return key;
    }
    return undefined;
  }

  private async statusOf(certId: CertID, key: SigningKeyEntity | undefined): Promise<CertStatus> {
    if (!key) return new CertStatus({ unknown: null });
    const serial = Buffer.from(certId.serialNumber).toString('hex').replace(/^(00)+(?=[0-9a-f])/, '');
    const row = await this.certificates.findBySerial(key.id, serial);
    if (!row) return new CertStatus({ unknown: null });
    if (row.revokedAt) {
      const code = REVOCATION_REASONS[(row.revocationReason ?? 'unspecified') as keyof typeof REVOCATION_REASONS] ?? 0;
      return new CertStatus({ revoked: new RevokedInfo({ revocationTime: new Date(Math.floor(row.revokedAt.getTime() / 1000) * 1000), revocationReason: new CRLReason(code) }) });
    }
    return new CertStatus({ good: null });
  }
}

function status(code: OCSPResponseStatus): Buffer {
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: code })));
}
