import { Module } from '@nestjs/common';
import { OpampModule } from '@ampora/opamp';
import { CertificatesController } from './certificates/certificates.controller';
import { CertificateRotation } from './certificates/certificate-rotation.service';
import { OfferWatcher } from './certificates/offer-watcher';
import { RenewalSweeper } from './certificates/renewal-sweeper';
import { RetiredKeySessions } from './certificates/retired-key-sessions';
import { SigningKeysController } from './keys/signing-keys.controller';
import { PkiModule } from './pki.module';
import { PkiPublicController } from './public/pki-public.controller';

/** The PKI's routes (signing keys, agent certificates, the anonymous /pki/*) the renewal and rotation pushes to this instance's sessions, and the watch on unused certificate offers. */
@Module({ imports: [PkiModule, OpampModule], controllers: [SigningKeysController, CertificatesController, PkiPublicController], providers: [RenewalSweeper, RetiredKeySessions, OfferWatcher, CertificateRotation], exports: [RenewalSweeper] })
export class PkiApiModule {}
