import { AgentDerivations, AgentStatus, agentStatus, agentStatusCondition, satisfiesStatusCondition } from './agent-derivations';

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

  it('gives the list filter a condition that holds exactly for the agents of that status', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const offsets = [null, 0, 1, 89_999, 90_000, 90_001, 3_600_000, -5_000];
    const agents = [true, false].flatMap((connected) => offsets.map((o) => ({ connected, lastSeenAt: o === null ? null : new Date(now - o) })));
    for (const status of ['connected', 'stale', 'disconnected'] as AgentStatus[]) {
      const condition = agentStatusCondition(status, now, 90);
      for (const a of agents) expect([status, a, satisfiesStatusCondition(a, condition)]).toEqual([status, a, agentStatus(a, now, 90) === status]);
    }
  });
});
