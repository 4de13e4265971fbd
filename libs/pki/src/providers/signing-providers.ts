import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, resolveMasterKeys, SecretBox } from '@ampora/platform';
import { CaKeyAlgorithm, SigningProviderKind } from '../pki.config';
import { Pkcs11SigningProvider } from './pkcs11.provider';
import { KeyMaterial, Signer, SigningProvider } from './signing-provider';
import { SoftwareSigningProvider } from './software.provider';

/** A row that holds a private key (a CA key or an OCSP responder). */
export interface KeyHolder extends KeyMaterial {
  id: string;
}

/**
 * The signing providers of this deployment: `AMPORA_PKI_PROVIDER` makes new keys; every existing key
 * is used through the provider that made it. Loaded private keys are kept in memory (never exported).
 */
@Injectable()
export class SigningProviders {
  readonly box: SecretBox;
  private readonly software: SoftwareSigningProvider;
  private pkcs11?: Pkcs11SigningProvider;
  private readonly signers = new Map<string, Promise<Signer>>();

  constructor(@Inject(AMPORA_CONFIG) private readonly config: AmporaConfig) {
    this.box = new SecretBox(resolveMasterKeys(config));
    this.software = new SoftwareSigningProvider(this.box);
  }

  /** The provider new keys are made with. */
  get configured(): SigningProvider {
    return this.of(this.config.pki.provider);
  }

  of(kind: SigningProviderKind | string): SigningProvider {
    if (kind === 'software') return this.software;
    if (kind === 'pkcs11') return (this.pkcs11 ??= new Pkcs11SigningProvider(this.config.pki.pkcs11));
    throw new Error(`unknown signing provider ${kind}`);
  }

  static providerOf(material: KeyMaterial): SigningProviderKind {
    return material.tokenKeyId ? 'pkcs11' : 'software';
  }

  /** The signer of a stored key (loaded once per process). `table` names the row for the sealed key's context. */
  signer(table: 'pki_signing_keys' | 'pki_ocsp_responders', holder: KeyHolder, algorithm: CaKeyAlgorithm): Promise<Signer> {
    const cacheKey = `${table}:${holder.id}`;
    let pending = this.signers.get(cacheKey);
    if (!pending) {
      pending = this.of(SigningProviders.providerOf(holder))
        .load(holder, algorithm, cacheKey)
        .then((r) => r.signer);
      pending.catch(() => this.signers.delete(cacheKey));
      this.signers.set(cacheKey, pending);
    }
    return pending;
  }

  /** Re-seals a software key under the current master key; undefined when it already is. */
  async reseal(table: 'pki_signing_keys' | 'pki_ocsp_responders', holder: KeyHolder, algorithm: CaKeyAlgorithm): Promise<KeyMaterial | undefined> {
    if (!holder.wrappedPrivateKey || holder.wrappingKeyId === this.box.keyId) return undefined;
    const { reseal } = await this.software.load(holder, algorithm, `${table}:${holder.id}`);
    return reseal;
  }
}
