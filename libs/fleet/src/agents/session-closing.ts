import { Logger, RequestContext } from '@ampora/platform';
import { AgentSession, OpampCore } from '@ampora/opamp';

/**
 * Closes this instance's live sessions that `match` picks (WebSocket close 4001 with `reason`), each
 * logged under its tenant; returns how many. Shared by the bus listeners that end sessions when a
 * credential goes away (a revoked bootstrap token, a forgotten agent).
 */
export function closeSessions(sessions: Iterable<AgentSession>, core: OpampCore, log: Logger, reason: string, match: (s: AgentSession) => boolean): number {
  let closed = 0;
  for (const session of [...sessions]) {
    if (session.closed || !match(session)) continue;
    RequestContext.run({ tenantId: session.tenantId }, () => log.info('Closing the session of agent {AgentId}: {Reason}', { AgentId: session.agentId, Reason: reason }));
    core.disconnect(session, reason);
    closed++;
  }
  return closed;
}
