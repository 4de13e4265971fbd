import { AgentView } from '../domain/policy/push-context';

/** What the dry run needs about an agent and a configuration version, from the lib that owns them. */
export interface DryRunSubject {
  tenantName: string;
  agent: AgentView;
  /** The version's configuration, parsed within the configuration limits. */
  config: unknown;
  /** The configuration the agent runs today, parsed, when known. */
  currentConfig?: unknown;
}

/**
 * A port for `POST /api/policies/{id}/evaluate` with `{ agentId, versionId }`: governance cannot read
 * the fleet's tables, so the fleet binds this (decision 0262). Unbound, that form answers 503
 * `PUSH_CONTEXT_UNAVAILABLE`; the inline form (`{ yaml, agent?, currentYaml? }`) always works.
 */
export abstract class PushContextSource {
  /** Undefined when the agent or the version does not exist in the tenant. */
  abstract resolve(tenantId: string, agentId: string, versionId: string): Promise<DryRunSubject | undefined>;
}
