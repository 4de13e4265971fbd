import type { AmporaConfig } from '@ampora/platform';
import type { CaKeyAlgorithm } from '../pki.config';
import { createLogger } from '@ampora/platform';
import type { CryptoKey, CryptoKeyPair, RsaHashedKeyGenParams, WebCrypto } from './webcrypto';
import { importParams, keyGenParams, KeyMaterial, Signer, SigningProvider, signingParams } from './signing-provider';

type P11Crypto = import('node-webcrypto-p11').Crypto;

/**
 * Keys generated inside a PKCS#11 token (an HSM, or SoftHSM2 in tests) as sensitive, non-extractable
 * token objects; signing is a call into the token through node-webcrypto-p11's WebCrypto. The row
 * keeps only the key's CKA_ID.
 */
export class Pkcs11SigningProvider implements SigningProvider {
  readonly kind = 'pkcs11' as const;
  private readonly log = createLogger('Ampora.Pki.Providers.Pkcs11SigningProvider');
  private crypto?: P11Crypto;

  constructor(private readonly settings: AmporaConfig['pki']['pkcs11']) {}

  /** Opens a read-write session on the configured token (by label when one is given, else by slot index). */
  private session(): P11Crypto {
    if (this.crypto) return this.crypto;
    const { library, pin, slot, tokenLabel } = this.settings;
    if (!library || !pin) throw new Error('the pkcs11 provider needs AMPORA_PKI_PKCS11_LIBRARY and AMPORA_PKI_PKCS11_PIN');
    // loaded on demand: the native module is only needed by deployments that use a token
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Crypto } = require('node-webcrypto-p11') as typeof import('node-webcrypto-p11');
    const open = (index: number) => new Crypto({ library, slot: index, readWrite: true, pin, name: 'ampora' });
    if (!tokenLabel) {
      this.crypto = open(slot);
    } else {
      // slots without a usable token (uninitialised, removed) refuse a session: skip them
      const refusals: string[] = [];
      for (let index = 0; index < 32 && !this.crypto; index++) {
        try {
          const candidate = open(index);
          if (candidate.token.label.trim() === tokenLabel) this.crypto = candidate;
        } catch (error) {
          refusals.push(`slot ${index}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (!this.crypto) throw new Error(`no PKCS#11 token labelled ${tokenLabel} in ${library} (${refusals.slice(0, 3).join('; ') || 'no slots'})`);
    }
    this.log.info('Signing keys live in PKCS#11 token {TokenLabel} ({Library})', { TokenLabel: this.crypto.token.label.trim(), Library: library });
    return this.crypto;
  }

  async generate(algorithm: CaKeyAlgorithm, context: string): Promise<{ spki: ArrayBuffer; material: KeyMaterial }> {
    const crypto = this.session();
    const params = { ...keyGenParams(algorithm), token: true, sensitive: true, label: context.slice(0, 64) };
    const pair = (await crypto.subtle.generateKey(params as RsaHashedKeyGenParams, false, ['sign', 'verify'])) as CryptoKeyPair;
    const index = await crypto.keyStorage.indexOf(pair.privateKey as never);
    const id = index?.split('-')[2];
    if (!id) throw new Error('the token did not return an id for the new key');
    const spki = await crypto.subtle.exportKey('spki', pair.publicKey as never);
    return { spki, material: { wrappedPrivateKey: null, wrappingKeyId: null, tokenKeyId: id } };
  }

  async load(material: KeyMaterial, algorithm: CaKeyAlgorithm): Promise<{ signer: Signer }> {
    if (!material.tokenKeyId) throw new Error('this key has no token key id (it is a software key)');
    const crypto = this.session();
    const index = (await crypto.keyStorage.keys()).find((k) => k.startsWith('private-') && k.split('-')[2] === material.tokenKeyId);
    if (!index) throw new Error(`the PKCS#11 token holds no private key with id ${material.tokenKeyId}`);
    const privateKey = await crypto.keyStorage.getItem(index, importParams(algorithm) as never, false, ['sign']);
    return { signer: { provider: 'pkcs11', algorithm, privateKey: privateKey as unknown as CryptoKey, crypto: crypto as unknown as WebCrypto, signingAlgorithm: signingParams(algorithm) } };
  }
}
