/** A day, in milliseconds. */
const DAY_MS = 24 * 3600 * 1000;

/**
 * Agents disconnected before this instant are past the retention (AMPORA_AGENT_RETENTION_DAYS);
 * null when the retention is off (0 days).
 */
export function retentionCutoff(now: Date, retentionDays: number): Date | null {
  if (!Number.isFinite(retentionDays) || retentionDays <= 0) return null;
  return new Date(now.getTime() - retentionDays * DAY_MS);
}

/**
 * Whether an agent is past the retention: it is not connected, and its last disconnection (or, for
 * one never recorded as disconnected, its last contact, or its creation) is older than the cutoff.
 */
export function pastRetention(agent: { connected: boolean; disconnectedAt: Date | null; lastSeenAt: Date | null; createdAt: Date }, cutoff: Date | null): boolean {
  if (!cutoff || agent.connected) return false;
  const since = agent.disconnectedAt ?? agent.lastSeenAt ?? agent.createdAt;
  return since.getTime() < cutoff.getTime();
}
