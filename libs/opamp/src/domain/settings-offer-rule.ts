import { AgentCap, hasCapability } from '../protocol/capabilities';

const OWN_TELEMETRY_CAPS = [AgentCap.ReportsOwnMetrics, AgentCap.ReportsOwnTraces, AgentCap.ReportsOwnLogs];

/** What an agent's capabilities let a connection settings offer carry (read once per frame). */
export interface SettingsOfferCaps {
  /** AcceptsOpAMPConnectionSettings: OpAMP settings (a certificate, an endpoint). */
  acceptsOpamp: boolean;
  /** One of the ReportsOwn* bits: where its own telemetry goes. */
  reportsOwn: boolean;
}

/**
 * Whether this frame's reply may carry connection settings, and what they may hold: the agent takes
 * some (OpAMP settings or own-telemetry destinations), and this is the connection's first reply, its
 * enrolment, or a certificate request (only an agent that accepts OpAMP settings may make one).
 * Undefined for most frames (heartbeats). Pure: the capability bits are read here, once.
 */
export function settingsOfferCaps(capabilities: bigint, frame: { firstReplyPending: boolean; justEnrolled: boolean; certificateRequest: boolean }): SettingsOfferCaps | undefined {
  const acceptsOpamp = hasCapability(capabilities, AgentCap.AcceptsOpAMPConnectionSettings);
  const reportsOwn = OWN_TELEMETRY_CAPS.some((bit) => hasCapability(capabilities, bit));
  if (!acceptsOpamp && !reportsOwn) return undefined;
  return frame.firstReplyPending || frame.justEnrolled || (acceptsOpamp && frame.certificateRequest) ? { acceptsOpamp, reportsOwn } : undefined;
}
