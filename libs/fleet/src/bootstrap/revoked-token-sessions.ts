import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createLogger, LiveBus, RequestContext } from '@ampora/platform';
import { OpampCore, SessionRegistry } from '@ampora/opamp';
import { BOOTSTRAP_TOKEN_REVOKED } from './bootstrap-token.service';

/** The close reason an agent sees when the token its session runs on is revoked. */
export const TOKEN_REVOKED_REASON = 'its bootstrap token was revoked';

/**
 * A revoked bootstrap token ends the sessions that run on it. The revocation goes over the live-update
 * bus to every instance; each closes its own sessions that authenticated with that token (a WebSocket
 * agent would otherwise keep a live session until it reconnects). Sessions of the same agent over
 * mTLS are left alone: they do not use the token. HTTP agents are refused at their next poll.
 */
@Injectable()
export class RevokedTokenSessions implements OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Fleet.Bootstrap.RevokedTokenSessions');
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: LiveBus,
    private readonly sessions: SessionRegistry,
    private readonly core: OpampCore,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe(
      (event) => {
        const tokenId = (event.payload as { tokenId?: string }).tokenId;
        if (tokenId) this.close(tokenId);
      },
      { name: 'fleet.revoked-token-sessions', filter: (event) => event.type === BOOTSTRAP_TOKEN_REVOKED },
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Closes this instance's sessions that authenticated with bootstrap token `tokenId`; returns how many. */
  close(tokenId: string): number {
    let closed = 0;
    for (const session of [...this.sessions.all()]) {
      if (session.closed || session.credential.kind !== 'bootstrap' || session.credential.tokenId !== tokenId) continue;
      RequestContext.run({ tenantId: session.tenantId }, () =>
        this.log.info('Closing the session of agent {AgentId}: {Reason}', { AgentId: session.agentId, Reason: TOKEN_REVOKED_REASON }),
      );
      this.core.disconnect(session, TOKEN_REVOKED_REASON);
      closed++;
    }
    return closed;
  }
}
