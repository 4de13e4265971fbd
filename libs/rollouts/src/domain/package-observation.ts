import type { AgentObservation, ExpectedConfig } from './target-observation';

/**
 * Package rollouts (agent upgrades, decisions 0333 and 0375), the pure part: what an agent's reported
 * package status means for its target. The target state machine is the configuration's
 * (`observeTarget`): a package status is turned into the answer it judges, under a marker hash that
 * names the rolled-out package version, so Applied / Failed / Applying, the disconnect and health
 * records and every gate work unchanged.
 */

/** One package's status as the agent reported it (fleet's PackageStatusView, the fields read here). */
export interface ReportedPackageStatus {
  state: 'Installed' | 'InstallPending' | 'Installing' | 'Failed' | 'Downloading';
  agentHasVersion: string;
  /** hex ('' when the agent sent none) */
  agentHasHash: string;
  serverOfferedVersion: string;
  /** hex ('' when the agent sent none) */
  serverOfferedHash: string;
  error: string | null;
}

/** The package version a rollout delivers. */
export interface ExpectedPackage {
  versionId: string;
  version: string;
  /** PackageAvailable.hash of its offer (hex). */
  offerHash: string;
}

/** The hash under which a package version's answers are judged (never a real config hash). */
export const packageMarker = (versionId: string): string => `package:${versionId}`;

/** What `observeTarget` expects of a package rollout's target: the marker, and no effective config. */
export function expectedOf(p: ExpectedPackage): ExpectedConfig {
  return { configHash: packageMarker(p.versionId), contentHash: packageMarker(p.versionId) };
}

export const NO_PACKAGE_ERROR = 'the agent reported the package Failed without an error message';

/**
 * The answer the status gives about the rolled-out version, or undefined when it says nothing about
 * it: Installed at the version → APPLIED; Failed while offered the version → FAILED with the agent's
 * error; downloading or installing it → APPLYING. A status about another version (what the agent ran
 * before, or an older offer's failure) is no answer.
 */
export function packageAnswer(status: ReportedPackageStatus | undefined, expected: ExpectedPackage): AgentObservation['remoteConfig'] {
  if (!status) return undefined;
  const hash = packageMarker(expected.versionId);
  const offeredThis = status.serverOfferedVersion === expected.version || (status.serverOfferedHash !== '' && status.serverOfferedHash === expected.offerHash);
  if (status.state === 'Installed') {
    const hasIt = status.agentHasVersion === expected.version && (status.agentHasHash === '' || status.agentHasHash === expected.offerHash);
    return hasIt ? { status: 'APPLIED', hash } : undefined;
  }
  if (!offeredThis) return undefined;
  if (status.state === 'Failed') return { status: 'FAILED', hash, errorMessage: status.error || NO_PACKAGE_ERROR };
  return { status: 'APPLYING', hash };
}

/** What the inventory says of a package target's agent (undefined: it no longer exists). */
export interface PackageTargetAgent {
  groupId: string | null;
  /** The version of the package it is assigned now (null: none). */
  assignedVersionId: string | null;
}

export const PACKAGE_OBSOLETE = {
  leftGroup: "the agent left the rollout's group",
  reassigned: "the agent's package assignment changed during the rollout (another version was assigned, or it was removed)",
};

/**
 * Why a package target is no longer the rollout's, or undefined while it is: its agent left the group
 * (or is gone), or — once the rollout assigned it the version — it is assigned something else now.
 */
export function packageObsoleteReason(agent: PackageTargetAgent | undefined, rollout: { groupId: string; packageVersionId: string }, assigned: boolean): string | undefined {
  if (!agent || agent.groupId !== rollout.groupId) return PACKAGE_OBSOLETE.leftGroup;
  if (assigned && agent.assignedVersionId !== rollout.packageVersionId) return PACKAGE_OBSOLETE.reassigned;
  return undefined;
}
