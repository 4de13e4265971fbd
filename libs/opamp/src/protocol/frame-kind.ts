import { AgentToServer, ServerToAgent } from '../generated/opamp_pb';

/**
 * The kind of an inbound frame, for the `frame_kind` label: what the frame mainly carries.
 * Low cardinality by design.
 */
export type AgentFrameKind = 'disconnect' | 'connection_settings_request' | 'status' | 'custom_message' | 'heartbeat';

export function agentFrameKind(m: AgentToServer): AgentFrameKind {
  if (m.agentDisconnect) return 'disconnect';
  if (m.connectionSettingsRequest) return 'connection_settings_request';
  if (
    m.agentDescription ||
    m.health ||
    m.effectiveConfig ||
    m.remoteConfigStatus ||
    m.packageStatuses ||
    m.availableComponents ||
    m.connectionSettingsStatus ||
    m.customCapabilities
  ) {
    return 'status';
  }
  if (m.customMessage) return 'custom_message';
  return 'heartbeat';
}

export type ServerFrameKind = 'error' | 'remote_config' | 'connection_settings' | 'command' | 'identification' | 'report_full_state' | 'ack';

export function serverFrameKind(m: ServerToAgent): ServerFrameKind {
  if (m.errorResponse) return 'error';
  if (m.remoteConfig) return 'remote_config';
  if (m.connectionSettings) return 'connection_settings';
  if (m.command) return 'command';
  if (m.agentIdentification) return 'identification';
  if (m.flags & 1n) return 'report_full_state';
  return 'ack';
}
