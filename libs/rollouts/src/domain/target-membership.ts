/** Why a target stopped being the rollout's: it left the group, or it runs another assignment now. */
export interface ObsoleteReasons {
  leftGroup: string;
  reassigned: string;
}

export const OBSOLETE: ObsoleteReasons = {
  leftGroup: "the agent left the rollout's group",
  reassigned: "the agent's assignment changed during the rollout (assigned directly, cleared, or moved out and back)",
};

/** What the inventory says of a target's agent (undefined: it no longer exists). */
export interface TargetAgent {
  groupId: string | null;
  assignmentSource: string | null;
  assignedConfigHash: string | null;
}

/**
 * Why a target is no longer the rollout's, or undefined while it still is: its agent left the
 * rollout's group (or is gone), or — once the rollout assigned it its version (`assigned`) — it runs
 * another assignment now (an operator assigned it directly, cleared the assignment, or it moved out
 * and back, which resets it to the group's). Such targets are Skipped, never pushed over.
 */
export function obsoleteReason(agent: TargetAgent | undefined, rollout: { groupId: string; configHash: string }, assigned: boolean, reasons: ObsoleteReasons = OBSOLETE): string | undefined {
  if (!agent || agent.groupId !== rollout.groupId) return reasons.leftGroup;
  if (assigned && (agent.assignmentSource !== 'rollout' || agent.assignedConfigHash?.trim() !== rollout.configHash)) return reasons.reassigned;
  return undefined;
}
