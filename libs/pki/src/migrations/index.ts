import { Pki1764000004000 } from './1764000004000-pki';
import { AdoptedCertificates1764000431000 } from './1764000431000-adopted-certificates';
import { CertificateRotation1764000450000 } from './1764000450000-certificate-rotation';
import { PkiRowLevelSecurity1764000511000 } from './1764000511000-pki-row-level-security';

/** PKI's migrations (its tables: pki.tables.ts), in timestamp order; the apps compose every lib's list. */
export const PKI_MIGRATIONS = [Pki1764000004000, AdoptedCertificates1764000431000, CertificateRotation1764000450000, PkiRowLevelSecurity1764000511000];
