import type { CaKeyAlgorithm, SigningProviderKind } from '../pki.config';
import type { CryptoKey, EcdsaParams, EcKeyGenParams, EcKeyImportParams, RsaHashedImportParams, RsaHashedKeyGenParams, WebCrypto } from './webcrypto';

/** Where a private key is: sealed in the row (software) or inside a PKCS#11 token. */
export interface KeyMaterial {
  wrappedPrivateKey: Buffer | null;
  wrappingKeyId: string | null;
  tokenKeyId: string | null;
}

/** A loaded private key and the WebCrypto implementation that signs with it. */
export interface Signer {
  readonly provider: SigningProviderKind;
  readonly algorithm: CaKeyAlgorithm;
  readonly privateKey: CryptoKey;
  /** Node's WebCrypto (software) or the token's (pkcs11): handed to @peculiar/x509 for signing. */
  readonly crypto: WebCrypto;
  /** The WebCrypto signature algorithm (`{ name: 'ECDSA', hash: 'SHA-256' }`, ...). */
  readonly signingAlgorithm: RsaHashedKeyGenParams | EcdsaParams;
}

/**
 * One interface for every place a CA private key can live. Issuance, CRL and OCSP signing use the
 * Signer it returns, so software keys and token keys share one code path.
 */
export interface SigningProvider {
  readonly kind: SigningProviderKind;
  /**
   * Generates a key pair. `context` names the key (`pki_signing_keys:<id>`): it is the authenticated
   * data of a sealed key and the label of a token object.
   */
  generate(algorithm: CaKeyAlgorithm, context: string): Promise<{ spki: ArrayBuffer; material: KeyMaterial }>;
  /** Loads a private key for signing; `stale` when its material should be rewritten (master key rotation). */
  load(material: KeyMaterial, algorithm: CaKeyAlgorithm, context: string): Promise<{ signer: Signer; reseal?: KeyMaterial }>;
}

export const SIGNING_PROVIDER = Symbol('ampora.pki.SigningProvider');

export function keyGenParams(algorithm: CaKeyAlgorithm): RsaHashedKeyGenParams | EcKeyGenParams {
  return algorithm === 'RSA-3072'
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: 'P-256' };
}

export function importParams(algorithm: CaKeyAlgorithm): RsaHashedImportParams | EcKeyImportParams {
  return algorithm === 'RSA-3072' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
}

export function signingParams(algorithm: CaKeyAlgorithm): RsaHashedKeyGenParams | EcdsaParams {
  return algorithm === 'RSA-3072'
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', hash: 'SHA-256' };
}
