import { Module } from '@nestjs/common';
import { PkiModule } from './pki.module';
import { PkiProcessor } from './revocation/pki.processor';

/** CRL publication and key maintenance (BullMQ processor; worker only, or the embedded server). */
@Module({ imports: [PkiModule], providers: [PkiProcessor] })
export class PkiWorkerModule {}
