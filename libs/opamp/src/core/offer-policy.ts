import type { Transport } from '../ports';
import { AgentCap, hasCapability } from '../protocol/capabilities';

export interface OfferState {
  capabilities: bigint;
  desiredHash?: string;
  /** Hash in the agent's last remote config status (whatever the status). */
  reportedHash?: string;
  /** A config the agent reported FAILED for. */
  failedHash?: string;
  offeredHash?: string;
  offeredAt: number;
  firstReplyOfConnection: boolean;
  transport: Transport;
}

/**
 * Whether a reply should carry the desired remote config.
 *
 * - never without AcceptsRemoteConfig ("no capability, no push") or without a desired config;
 * - never when the agent already reports the desired hash (applying, applied or failed);
 * - never when the agent reported the desired config FAILED: after a supervisor's rollback
 *   (APPLIED A → APPLYING B → FAILED B → APPLIED A) the agent reports A again, and resending B would
 *   loop forever; B is offered again only when the desired config changes or an operator forces it;
 * - once per connection otherwise; an HTTP agent that reports its status but never acknowledged the
 *   offer (a lost reply) gets it again after `reofferAfterMs`.
 */
export function shouldOfferRemoteConfig(s: OfferState, now: number, reofferAfterMs: number): boolean {
  if (!hasCapability(s.capabilities, AgentCap.AcceptsRemoteConfig) || !s.desiredHash) return false;
  if (s.reportedHash === s.desiredHash) return false;
  if (s.failedHash === s.desiredHash) return false;
  if (s.offeredHash !== s.desiredHash || s.firstReplyOfConnection) return true;
  return s.transport === 'http' && hasCapability(s.capabilities, AgentCap.ReportsRemoteConfig) && now - s.offeredAt > reofferAfterMs;
}
