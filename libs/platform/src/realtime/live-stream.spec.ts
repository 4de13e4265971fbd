import { typeMatcher } from './live-stream';

describe('typeMatcher (types= of GET /api/live)', () => {
  it('matches everything without patterns or with *', () => {
    expect(typeMatcher(undefined)('agent.connected')).toBe(true);
    expect(typeMatcher([])('x')).toBe(true);
    expect(typeMatcher(['agent.connected', '*'])('rollout.progressed')).toBe(true);
  });

  it('matches exact types and dotted prefixes only', () => {
    const m = typeMatcher(['agent.*', 'group.membership_changed']);
    expect(m('agent.connected')).toBe(true);
    expect(m('agent.status_changed')).toBe(true);
    expect(m('group.membership_changed')).toBe(true);
    expect(m('group.created')).toBe(false);
    expect(m('agentx.connected')).toBe(false);
    expect(m('agent')).toBe(false);
  });
});
