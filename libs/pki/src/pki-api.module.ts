import { Module } from '@nestjs/common';
import { CertificatesController } from './certificates/certificates.controller';
import { SigningKeysController } from './keys/signing-keys.controller';
import { PkiModule } from './pki.module';
import { PkiPublicController } from './public/pki-public.controller';

/** The PKI's routes: signing keys (Admin), agent certificates (Operator), and the anonymous /pki/*. */
@Module({ imports: [PkiModule], controllers: [SigningKeysController, CertificatesController, PkiPublicController] })
export class PkiApiModule {}
