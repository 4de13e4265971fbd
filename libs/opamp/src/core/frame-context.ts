import type { AgentToServer } from '../generated/opamp_pb';
import type { AgentReport } from '../ports';
import type { AgentSession } from './agent-session';
import type { ConnectionState } from './connection-state';

/** One AgentToServer being handled: what each part's handler reads and fills. */
export interface FrameContext {
  readonly conn: ConnectionState;
  readonly session: AgentSession;
  readonly message: AgentToServer;
  /** What this frame changed, for the state sink (only what the frame carried is set). */
  readonly report: AgentReport;
  /** Epoch milliseconds (the injected Clock) when the frame was taken up. */
  readonly now: number;
  /** The ServerToAgent flags the reply will carry (ReportFullState, ReportAvailableComponents). */
  replyFlags: bigint;
  /** The bootstrap token was redeemed on this frame (the agent was just enrolled). */
  readonly justEnrolled: boolean;
}

/** Reads one part of AgentToServer into the report and the session; never throws for protocol problems. */
export interface AgentToServerPartHandler {
  handle(frame: FrameContext): void;
}
