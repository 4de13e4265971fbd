import type { webcrypto } from 'node:crypto';

/** WebCrypto types (the project compiles without the DOM library). */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type WebCrypto = webcrypto.Crypto;
export type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
export type RsaHashedImportParams = webcrypto.RsaHashedImportParams;
export type EcKeyGenParams = webcrypto.EcKeyGenParams;
export type EcKeyImportParams = webcrypto.EcKeyImportParams;
export type EcdsaParams = webcrypto.EcdsaParams;
export type Algorithm = webcrypto.Algorithm;
