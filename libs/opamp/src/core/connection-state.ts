import type { ServerToAgent } from '../generated/opamp_pb';
import type { AgentCredential, MtlsTarget } from '../ports';
import type { AgentSession, ConnectionHandle } from './agent-session';

/** A connection as the core sees it: who it proved to be, and the session it is bound to. */
export interface ConnectionState {
  handle: ConnectionHandle;
  credential: AgentCredential;
  session?: AgentSession;
  /** Where a certificate offered on this connection sends the agent (the transport knows its listeners). */
  mtls?: MtlsTarget;
}

/** What the core answers to one AgentToServer. */
export type HandleResult =
  | { kind: 'reply'; reply: ServerToAgent; closeAfter?: boolean }
  | { kind: 'reject'; reason: 'auth_failed' | 'malformed'; message: string; reply?: ServerToAgent };
