import { Injectable } from '@nestjs/common';
import type { FrameContext } from '../frame-context';
import { SessionEnder } from '../session-ender';

/** `agent_disconnect`: the agent leaves; its session ends now and the transport closes after the reply. */
@Injectable()
export class DisconnectHandler {
  constructor(private readonly sessions: SessionEnder) {}

  /** True when the frame said goodbye (the session has ended). */
  handleLeaving({ message, session, now }: FrameContext): boolean {
    if (!message.agentDisconnect) return false;
    this.sessions.end(session, new Date(now));
    return true;
  }
}
