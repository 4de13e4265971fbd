import type { DomainEvent } from '@ampora/platform';
import type { RemoteConfigStatusName, Transport } from '@ampora/opamp';

/**
 * Every event the fleet publishes on the live bus (live views, SSE, other instances, other libs'
 * reactions). Publish with `bus.publish<FleetEvent>({ type: FleetEvents.AgentConnected, ... })`;
 * listen with `isEvent<FleetEvent, typeof FleetEvents.X>(event, FleetEvents.X)`.
 */
export const FleetEvents = {
  AgentConnected: 'agent.connected',
  AgentDisconnected: 'agent.disconnected',
  /** An agent reported status, health, effective config or its description (heartbeats publish nothing). */
  AgentStatusChanged: 'agent.status_changed',
  AgentTagsChanged: 'agent.tags_changed',
  /** Agents were forgotten: every instance closes their sessions. */
  AgentsForgotten: 'agent.forgotten',
  ConfigurationVersionCreated: 'configuration.version_created',
  ConfigurationVersionPublished: 'configuration.version_published',
  ConfigurationVersionArchived: 'configuration.version_archived',
  ConfigurationDeleted: 'configuration.deleted',
  GroupMembershipChanged: 'group.membership_changed',
  GroupAssignmentChanged: 'group.assignment_changed',
  /** A bootstrap token was revoked: every instance closes the sessions that run on it. */
  BootstrapTokenRevoked: 'bootstrap_token.revoked',
  /** An instance wrote what agents' own telemetry reported since its last write (one event per agent; decision 0320). */
  AgentTelemetry: 'agent.telemetry',
  /** An operator offered an agent a new OpAMP endpoint (connection settings; decision 0322). */
  AgentEndpointOffered: 'agent.endpoint_offered',
  /** An operator offered every agent of a group a new OpAMP endpoint (decision 0381). */
  GroupEndpointOffered: 'group.endpoint_offered',
} as const;

export interface AgentConnectedPayload {
  agentId: string;
  transport: Transport;
  instance: string;
}

export interface AgentDisconnectedPayload {
  agentId: string;
  /** ISO time. */
  at: string;
  instance: string;
}

export interface AgentStatusChangedPayload {
  agentId: string;
  remoteConfigStatus?: { status: RemoteConfigStatusName; hash: string; errorMessage: string };
  /** ISO time. */
  at: string;
  healthy?: boolean;
  effectiveConfigHash?: string;
  descriptionChanged: boolean;
  /** The agent reported its package statuses (read from its row: package rollouts judge them, decision 0375). */
  packageStatusesChanged?: boolean;
}

export interface AgentTagsChangedPayload {
  agentId: string;
  tags: Record<string, string>;
}

export interface AgentsForgottenPayload {
  agentIds: string[];
  tokenIds: string[];
  reason: 'operator' | 'retention';
}

export interface ConfigurationVersionCreatedPayload {
  configurationId: string;
  versionId: string;
  number: number;
  status: string;
  hash: string;
  errorCount: number;
  warningCount: number;
}

export interface ConfigurationVersionPublishedPayload {
  configurationId: string;
  versionId: string;
  number: number;
  hash: string;
}

export interface ConfigurationVersionArchivedPayload {
  configurationId: string;
  versionId: string;
  number: number;
}

export interface ConfigurationDeletedPayload {
  configurationId: string;
  name: string;
}

/** Payload of `group.membership_changed` (id lists are cut at 1,000; the counts are exact). */
export interface MembershipChangedEvent {
  groupId: string;
  added: string[];
  removed: string[];
  addedCount: number;
  removedCount: number;
  reason: string;
}

export interface GroupAssignmentChangedPayload {
  groupId: string;
  versionId: string | null;
  configurationId: string | null;
  version: number | null;
  changedAgents: number;
}

export interface BootstrapTokenRevokedPayload {
  tokenId: string;
}

/** Per signal, per measure: items counted since the agent's last event (queue_size: the last value). */
export interface AgentTelemetryPayload {
  agentId: string;
  /** ISO time of the write. */
  at: string;
  signals: Record<string, Record<string, number>>;
}

export interface AgentEndpointOfferedPayload {
  agentId: string;
  endpoint: string;
  /** The offer's hash (hex), as the agent reports it back in its connection settings status. */
  hash: string;
  delivery: string;
}

export interface GroupEndpointOfferedPayload {
  groupId: string;
  endpoint: string;
  hash: string;
  /** How many agents each delivery outcome had; agents without the capability are `skipped`. */
  deliveries: Record<string, number>;
  skipped: number;
}

export type FleetEvent =
  | DomainEvent<typeof FleetEvents.AgentConnected, AgentConnectedPayload>
  | DomainEvent<typeof FleetEvents.AgentDisconnected, AgentDisconnectedPayload>
  | DomainEvent<typeof FleetEvents.AgentStatusChanged, AgentStatusChangedPayload>
  | DomainEvent<typeof FleetEvents.AgentTagsChanged, AgentTagsChangedPayload>
  | DomainEvent<typeof FleetEvents.AgentsForgotten, AgentsForgottenPayload>
  | DomainEvent<typeof FleetEvents.ConfigurationVersionCreated, ConfigurationVersionCreatedPayload>
  | DomainEvent<typeof FleetEvents.ConfigurationVersionPublished, ConfigurationVersionPublishedPayload>
  | DomainEvent<typeof FleetEvents.ConfigurationVersionArchived, ConfigurationVersionArchivedPayload>
  | DomainEvent<typeof FleetEvents.ConfigurationDeleted, ConfigurationDeletedPayload>
  | DomainEvent<typeof FleetEvents.GroupMembershipChanged, MembershipChangedEvent>
  | DomainEvent<typeof FleetEvents.GroupAssignmentChanged, GroupAssignmentChangedPayload>
  | DomainEvent<typeof FleetEvents.BootstrapTokenRevoked, BootstrapTokenRevokedPayload>
  | DomainEvent<typeof FleetEvents.AgentTelemetry, AgentTelemetryPayload>
  | DomainEvent<typeof FleetEvents.AgentEndpointOffered, AgentEndpointOfferedPayload>
  | DomainEvent<typeof FleetEvents.GroupEndpointOffered, GroupEndpointOfferedPayload>;

export type FleetEventName = FleetEvent['type'];
