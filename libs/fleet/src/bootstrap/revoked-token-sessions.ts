import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createLogger, isEvent, LiveBus } from '@ampora/platform';
import { OpampCore, SessionRegistry } from '@ampora/opamp';
import { closeSessions } from '../agents/session-closing';
import { FleetEvent, FleetEvents } from '../fleet.events';

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
        if (!isEvent<FleetEvent, typeof FleetEvents.BootstrapTokenRevoked>(event, FleetEvents.BootstrapTokenRevoked)) return;
        const tokenId = event.payload?.tokenId;
        if (tokenId) this.close(tokenId);
      },
      { name: 'fleet.revoked-token-sessions', filter: (event) => event.type === FleetEvents.BootstrapTokenRevoked },
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Closes this instance's sessions that authenticated with bootstrap token `tokenId`; returns how many. */
  close(tokenId: string): number {
    return closeSessions(this.sessions.all(), this.core, this.log, TOKEN_REVOKED_REASON, (s) => s.credential.kind === 'bootstrap' && s.credential.tokenId === tokenId);
  }
}
