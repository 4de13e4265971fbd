import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createLogger } from '@ampora/platform';
import { AGENT_DISPATCHER, AgentDispatcher, SessionRegistry } from '@ampora/opamp';
import { SigningKeysService } from '../keys/signing-keys.service';
import { CertificateRepository } from './certificate.repository';

/**
 * When a CA key is retired, the certificates it signed are no longer trusted: this instance closes
 * its live sessions that authenticated with one of them (they are refused when they reconnect).
 */
@Injectable()
export class RetiredKeySessions implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.Pki.Certificates.RetiredKeySessions');

  constructor(
    private readonly sessions: SessionRegistry,
    private readonly certificates: CertificateRepository,
    private readonly keys: SigningKeysService,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.keys.onChange((change) => {
      if (change.state === 'Retired') void this.close(change.signingKeyId).catch((error: unknown) => this.log.error('Closing the sessions of retired key {SigningKeyId} failed', { SigningKeyId: change.signingKeyId }, error));
    });
  }

  /** Closes the local sessions whose certificate was signed by `signingKeyId`; returns how many. */
  async close(signingKeyId: string): Promise<number> {
    let closed = 0;
    for (const session of [...this.sessions.all()]) {
      if (session.closed || session.credential.kind !== 'certificate') continue;
      const row = await this.certificates.findByFingerprint(session.credential.fingerprint);
      if (row?.signingKeyId !== signingKeyId) continue;
      await this.dispatcher.disconnect({ agentId: session.agentId, tenantId: session.tenantId }, 'the CA key of its certificate was retired');
      closed++;
    }
    if (closed) this.log.info('Closed {Count} sessions whose certificates were signed by retired key {SigningKeyId}', { Count: closed, SigningKeyId: signingKeyId });
    return closed;
  }
}
