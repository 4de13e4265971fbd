import { isIP } from 'node:net';
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CRLNumber, id_ce_cRLNumber, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import type { Signer } from '../providers/signing-provider';

export function sha256Hex(data: ArrayBuffer | Uint8Array): string {
  return createHash('sha256').update(new Uint8Array(data instanceof Uint8Array ? data : new Uint8Array(data))).digest('hex');
}

/** RFC 5280 key identifier (method 1): SHA-1 of the subjectPublicKey bits; also OCSP's issuerKeyHash. */
export function keyIdOf(spki: ArrayBuffer | Uint8Array): string {
  const info = AsnConvert.parse(spki instanceof Uint8Array ? spki : new Uint8Array(spki), SubjectPublicKeyInfo);
  return createHash('sha1').update(new Uint8Array(info.subjectPublicKey)).digest('hex');
}

/** PEM with 64-character lines (a Buffer may be a view into a larger pool: only its own bytes count). */
export function toPem(der: ArrayBuffer | Uint8Array, label = 'CERTIFICATE'): string {
  const bytes = der instanceof Uint8Array ? Buffer.from(der.buffer, der.byteOffset, der.byteLength) : Buffer.from(der);
  const body = bytes.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** Runs a signing operation and reports how long the provider took. */
export async function timed<T>(fn: () => Promise<T>, report: (seconds: number) => void): Promise<T> {
  const started = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    report(Number(process.hrtime.bigint() - started) / 1e9);
  }
}

export interface CaCertificateInput {
  commonName: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  spki: ArrayBuffer;
}

/** A self-signed CA certificate: CA:true (path length 0), keyCertSign and cRLSign. */
export async function buildCaCertificate(signer: Signer, input: CaCertificateInput): Promise<x509.X509Certificate> {
  const keyId = keyIdOf(input.spki);
  const name = new x509.Name([{ CN: [input.commonName] }]);
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: input.serialNumber,
      subject: name,
      issuer: name,
      notBefore: input.notBefore,
      notAfter: input.notAfter,
      publicKey: new x509.PublicKey(input.spki),
      signingKey: signer.privateKey,
      signingAlgorithm: signer.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        new x509.SubjectKeyIdentifierExtension(keyId),
        new x509.AuthorityKeyIdentifierExtension(keyId),
      ],
    },
    signer.crypto,
  );
}

export interface LeafInput {
  publicKey: x509.PublicKey;
  subject: x509.Name;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** The issuing CA's certificate. */
  issuer: x509.X509Certificate;
  issuerKeyId: string;
  /** `federation`: both clientAuth and serverAuth (a deployment's identity towards its peers, decision 0310). */
  usage: 'client' | 'ocsp' | 'server' | 'federation';
  crlUrl?: string;
  ocspUrl?: string;
  uris?: string[];
  /** DNS names and IP addresses (server certificates). */
  hostnames?: string[];
}

const EXTENDED_USAGE = {
  client: [x509.ExtendedKeyUsage.clientAuth],
  ocsp: [x509.ExtendedKeyUsage.ocspSigning],
  server: [x509.ExtendedKeyUsage.serverAuth],
  federation: [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
} as const;

/** A leaf signed by a CA key: a client certificate (clientAuth), an OCSP responder (OCSPSigning) or the TLS listener (serverAuth). */
export async function buildLeaf(signer: Signer, input: LeafInput): Promise<x509.X509Certificate> {
  const isRsa = input.publicKey.algorithm.name.startsWith('RSA');
  const flags = x509.KeyUsageFlags.digitalSignature | (isRsa && input.usage !== 'ocsp' ? x509.KeyUsageFlags.keyEncipherment : 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(flags, true),
    new x509.ExtendedKeyUsageExtension([...EXTENDED_USAGE[input.usage]], false),
    new x509.SubjectKeyIdentifierExtension(keyIdOf(input.publicKey.rawData)),
    new x509.AuthorityKeyIdentifierExtension(input.issuerKeyId),
  ];
  if (input.usage === 'ocsp') extensions.push(new x509.Extension('1.3.6.1.5.5.7.48.1.5', false, new Uint8Array([0x05, 0x00]))); // id-pkix-ocsp-nocheck
  if (input.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([input.crlUrl]));
  if (input.ocspUrl) extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: input.ocspUrl }));
  const names = [
    ...(input.hostnames ?? []).map((value) => ({ type: (isIP(value) ? 'ip' : 'dns') as 'ip' | 'dns', value })),
    ...(input.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: input.serialNumber,
      subject: input.subject,
      issuer: input.issuer.subjectName,
      notBefore: input.notBefore,
      notAfter: input.notAfter,
      publicKey: input.publicKey,
      signingKey: signer.privateKey,
      signingAlgorithm: signer.signingAlgorithm,
      extensions,
    },
    signer.crypto,
  );
}

export interface CrlInput {
  issuer: x509.X509Certificate;
  issuerKeyId: string;
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: Array<{ serialNumber: string; revokedAt: Date; reason: number }>;
}

/** A v2 CRL with the CRL number and the authority key identifier. */
export async function buildCrl(signer: Signer, input: CrlInput): Promise<x509.X509Crl> {
  const number = new x509.Extension(id_ce_cRLNumber, false, AsnConvert.serialize(new CRLNumber(Number(input.crlNumber))));
  return x509.X509CrlGenerator.create(
    {
      issuer: input.issuer.subjectName,
      thisUpdate: input.thisUpdate,
      nextUpdate: input.nextUpdate,
      signingKey: signer.privateKey,
      signingAlgorithm: signer.signingAlgorithm,
      extensions: [new x509.AuthorityKeyIdentifierExtension(input.issuerKeyId), number],
      entries: input.entries.map((e) => ({ serialNumber: e.serialNumber, revocationDate: e.revokedAt, reason: e.reason })),
    },
    signer.crypto,
  );
}
