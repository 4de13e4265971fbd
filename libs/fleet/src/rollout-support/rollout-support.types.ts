import type { DesiredConfig } from '@ampora/opamp';
import type { DriftVerdict } from '../agents/domain/config-drift';

/** A group member as a rollout's step planner sees it. */
export interface RolloutCandidate {
  id: string;
  /** The agent's display name ('' when it has none). */
  hostname: string;
  lastSeenAt: Date | null;
  /** The agent's OpAMP capabilities (a bigint as a decimal string). */
  capabilities: string;
  /** What the inventory says now: the agent's health (null: unknown) and its effective config's hash. */
  healthy: boolean | null;
  effectiveConfigHash: string | null;
}

/** A configuration version as a rollout needs it: its identity, its hashes and what to push. */
export interface RolloutVersion {
  id: string;
  configurationId: string;
  number: number;
  /** The remote config's hash (what RemoteConfigStatus reports), trimmed. */
  configHash: string;
  /** The hash of the config content (what the effective config hashes to), trimmed. */
  contentHash: string;
  /** The version as pushed to agents. */
  desired: DesiredConfig;
}

/** The hashes of a version (what a live observation is judged against). */
export interface RolloutVersionHashes {
  configHash: string;
  contentHash: string;
}

/** A live group (not deleted). */
export interface RolloutGroup {
  id: string;
  name: string;
}

/** What the inventory records of an agent that a rollout target watches. */
export interface RolloutAgentState {
  id: string;
  groupId: string | null;
  /** How the agent got its assignment: group, direct, rollout, or none. */
  assignmentSource: string | null;
  assignedConfigHash: string | null;
  assignedContentHash: string | null;
  remoteConfigStatus: string | null;
  remoteConfigHash: string | null;
  remoteConfigError: string | null;
  remoteConfigAt: Date | null;
  healthy: boolean | null;
  effectiveConfigHash: string | null;
  connected: boolean;
  disconnectedAt: Date | null;
}

export type { DriftVerdict };
