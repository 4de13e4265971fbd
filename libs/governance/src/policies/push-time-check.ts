import { AgentView } from '../domain/policy/push-context';

/** Every push path a configuration reaches an agent by (issue 17 item 1). */
export type PushPath = 'rollout-step' | 'assignment' | 'group-assignment' | 'force-push' | 'gitops' | 'federation';

/** One agent of a push: who it is and the configuration it runs today (parsed), when known. */
export interface PushTarget {
  agent: AgentView;
  currentConfig?: unknown;
}

export interface PushCheckRequest {
  tenantId: string;
  path: PushPath;
  /** The configuration being pushed, parsed (the caller parsed it within the configuration limits). */
  config: unknown;
  /** The configuration version, when the push is of one (recorded in the audit event). */
  versionId?: string;
  rolloutId?: string;
  targets: readonly PushTarget[];
}

/** A blocked agent: which check and policy said no, and why (stored on the rollout target and the agent). */
export interface PushDenial {
  check: string;
  policyId: string;
  policyName: string;
  reason: string;
}

export interface PushCheckResult {
  /** Agents whose push is blocked, by agent id; an agent absent here may be pushed. */
  denied: Map<string, PushDenial>;
}

/**
 * The push-time extension point: fleet and rollouts ask every bound check before they push to an
 * agent, and skip an agent any check denies. Governance's policies are one provider
 * (`PolicyPushCheck`); the multi-provider list is wired by the pushing libs.
 */
export interface PushTimeCheck {
  readonly name: string;
  check(request: PushCheckRequest): Promise<PushCheckResult>;
}
