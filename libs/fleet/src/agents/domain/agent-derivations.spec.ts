import { AgentDerivations, agentStatus } from './agent-derivations';

describe('agent derivations', () => {
  it('derives display name, type and version from the description', () => {
    expect(AgentDerivations.fromDescription({ 'service.name': 'io.opentelemetry.collector', 'service.version': '0.120.0' }, { 'host.name': 'edge-1' })).toEqual({
      displayName: 'edge-1',
      agentType: 'io.opentelemetry.collector',
      agentVersion: '0.120.0',
    });
    expect(AgentDerivations.fromDescription({ 'service.instance.id': 'i-1' }, {}).displayName).toBe('i-1');
  });

  it('is stale after the heartbeat window and disconnected without a session', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    expect(agentStatus({ connected: true, lastSeenAt: new Date(now - 89_000) }, now, 90)).toBe('connected');
    expect(agentStatus({ connected: true, lastSeenAt: new Date(now - 91_000) }, now, 90)).toBe('stale');
    expect(agentStatus({ connected: false, lastSeenAt: new Date(now) }, now, 90)).toBe('disconnected');
  });
});
