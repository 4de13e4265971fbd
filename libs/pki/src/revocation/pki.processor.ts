import { Processor } from '@nestjs/bullmq';
import { JobRegistry, JobProcessor } from '@ampora/platform';
import { SigningKeysService } from '../keys/signing-keys.service';
import { PKI_QUEUE } from '../pki.jobs';
import { CrlService } from './crl.service';

/** The PKI's periodic work: CRL publication and key maintenance. Thin: it calls the services. */
@Processor(PKI_QUEUE.name)
export class PkiProcessor extends JobProcessor<typeof PKI_QUEUE> {
  constructor(
    registry: JobRegistry,
    private readonly crls: CrlService,
    private readonly keys: SigningKeysService,
  ) {
    super(registry, PKI_QUEUE);
  }

  protected handlers() {
    return {
      [PKI_QUEUE.jobs.publishCrls]: async () => ({ published: await this.crls.publishAll() }),
      [PKI_QUEUE.jobs.maintainKeys]: async () => this.keys.maintain(),
    };
  }
}
