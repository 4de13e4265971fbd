import { defineConfigSection } from '@ampora/platform';

export const SIGNING_PROVIDERS = ['software', 'pkcs11'] as const;
export type SigningProviderKind = (typeof SIGNING_PROVIDERS)[number];
export const CA_KEY_ALGORITHMS = ['RSA-3072', 'ECDSA-P256'] as const;
export type CaKeyAlgorithm = (typeof CA_KEY_ALGORITHMS)[number];

/** PKI's section of the configuration (AMPORA_PKI_*): read by PKI_CONFIG_SECTION, composed by the apps. */
export interface PkiConfig {
  provider: SigningProviderKind;
  caCommonName: string;
  caKeyAlgorithm: CaKeyAlgorithm;
  crlUrl: string;
  ocspUrl: string;
  renewalThresholdDays: number;
  trustedWindowDays: number;
  /** How long an agent has to reach the mTLS listener with an offered certificate before the offer counts as unusable. */
  offerTimeoutSeconds: number;
  pkcs11: { library?: string; slot: number; pin?: string; tokenLabel?: string };
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    pki: PkiConfig;
  }
}

export const PKI_CONFIG_SECTION = defineConfigSection({
  key: 'pki',
  secrets: ['AMPORA_PKI_PKCS11_PIN'],
  read(r, platform): PkiConfig {
    const publicUrl = platform.app.publicUrl;
    const provider = r.oneOf('AMPORA_PKI_PROVIDER', SIGNING_PROVIDERS, 'software');
    const pkcs11Library = r.string('AMPORA_PKI_PKCS11_LIBRARY');
    const pkcs11Pin = r.string('AMPORA_PKI_PKCS11_PIN');
    if (provider === 'pkcs11') {
      if (!pkcs11Library) r.require('AMPORA_PKI_PKCS11_LIBRARY', 'when AMPORA_PKI_PROVIDER=pkcs11');
      if (!pkcs11Pin) r.require('AMPORA_PKI_PKCS11_PIN', 'when AMPORA_PKI_PROVIDER=pkcs11');
    }
    return {
      provider,
      caCommonName: r.string('AMPORA_PKI_CA_COMMON_NAME', 'Ampora CA'),
      caKeyAlgorithm: r.oneOf('AMPORA_PKI_CA_KEY_ALGORITHM', CA_KEY_ALGORITHMS, 'RSA-3072'),
      crlUrl: r.url('AMPORA_PKI_CRL_URL', ['http', 'https'], `${publicUrl}/pki/crl.der`),
      ocspUrl: r.url('AMPORA_PKI_OCSP_URL', ['http', 'https'], `${publicUrl}/pki/ocsp`),
      renewalThresholdDays: r.int('AMPORA_PKI_RENEWAL_THRESHOLD_DAYS', 30, 0, 3650),
      trustedWindowDays: r.int('AMPORA_PKI_TRUSTED_WINDOW_DAYS', 30, 0, 3650),
      offerTimeoutSeconds: r.int('AMPORA_PKI_OFFER_TIMEOUT_SECONDS', 120, 5, 86400),
      pkcs11: {
        library: pkcs11Library,
        slot: r.int('AMPORA_PKI_PKCS11_SLOT', 0, 0, 1 << 30),
        pin: pkcs11Pin,
        tokenLabel: r.string('AMPORA_PKI_PKCS11_TOKEN_LABEL'),
      },
    };
  },
});
