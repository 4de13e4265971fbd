/** The tables libs/pki owns (checked by scripts/architecture/tables.spec.ts). */
export const PKI_TABLES = ['pki_signing_keys', 'pki_ocsp_responders', 'pki_certificates', 'pki_crls', 'pki_adopted_certificates'] as const;
