import { Module } from '@nestjs/common';
import { OpampModule } from '@ampora/opamp';
import { CertificatesController } from './certificates/certificates.controller';
import { RenewalSweeper } from './certificates/renewal-sweeper';
import { RetiredKeySessions } from './certificates/retired-key-sessions';
import { SigningKeysController } from './keys/signing-keys.controller';
import { PkiModule } from './pki.module';
import { PkiPublicController } from './public/pki-public.controller';

/** The PKI's routes (signing keys, agent certificates, the anonymous /pki/*) and the renewal push to this instance's sessions. */
@Module({ imports: [PkiModule, OpampModule], controllers: [SigningKeysController, CertificatesController, PkiPublicController], providers: [RenewalSweeper, RetiredKeySessions], exports: [RenewalSweeper] })
export class PkiApiModule {}
