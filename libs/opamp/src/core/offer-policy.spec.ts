import { AgentCap } from '../protocol/capabilities';
import { OfferState, shouldOfferRemoteConfig } from './offer-policy';

const base: OfferState = {
  capabilities: AgentCap.ReportsStatus | AgentCap.AcceptsRemoteConfig | AgentCap.ReportsRemoteConfig,
  desiredHash: 'b',
  reportedHash: 'a',
  offeredAt: 0,
  firstReplyOfConnection: false,
  transport: 'ws',
};

describe('shouldOfferRemoteConfig', () => {
  it('offers a desired config the agent does not have', () => {
    expect(shouldOfferRemoteConfig(base, 1000, 60000)).toBe(true);
  });
  it('never pushes to an agent without AcceptsRemoteConfig', () => {
    expect(shouldOfferRemoteConfig({ ...base, capabilities: AgentCap.ReportsStatus }, 1000, 60000)).toBe(false);
  });
  it('does not resend what the agent already reports', () => {
    expect(shouldOfferRemoteConfig({ ...base, reportedHash: 'b' }, 1000, 60000)).toBe(false);
  });
  it('does not loop after a rollback: B failed, the agent is back on A', () => {
    const afterRollback = { ...base, reportedHash: 'a', failedHash: 'b', offeredHash: 'b', offeredAt: 0 };
    expect(shouldOfferRemoteConfig(afterRollback, 10_000_000, 60000)).toBe(false);
    expect(shouldOfferRemoteConfig({ ...afterRollback, firstReplyOfConnection: true }, 10_000_000, 60000)).toBe(false);
    expect(shouldOfferRemoteConfig({ ...afterRollback, transport: 'http' }, 10_000_000, 60000)).toBe(false);
    // a new desired config is offered again
    expect(shouldOfferRemoteConfig({ ...afterRollback, desiredHash: 'c' }, 10_000_000, 60000)).toBe(true);
  });
  it('offers once per WebSocket connection, again on a new connection', () => {
    const offered = { ...base, offeredHash: 'b', offeredAt: 1000 };
    expect(shouldOfferRemoteConfig(offered, 1_000_000, 60000)).toBe(false);
    expect(shouldOfferRemoteConfig({ ...offered, firstReplyOfConnection: true }, 1001, 60000)).toBe(true);
  });
  it('re-offers to an HTTP agent that never acknowledged, slowly', () => {
    const offered = { ...base, transport: 'http' as const, offeredHash: 'b', offeredAt: 1000 };
    expect(shouldOfferRemoteConfig(offered, 30_000, 60000)).toBe(false);
    expect(shouldOfferRemoteConfig(offered, 61_001, 60000)).toBe(true);
    expect(shouldOfferRemoteConfig({ ...offered, capabilities: AgentCap.AcceptsRemoteConfig }, 61_001, 60000)).toBe(false);
  });
});
