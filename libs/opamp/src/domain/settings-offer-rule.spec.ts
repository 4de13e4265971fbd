import { AgentCap } from '../protocol/capabilities';
import { settingsOfferCaps } from './settings-offer-rule';

const frame = (f: Partial<{ firstReplyPending: boolean; justEnrolled: boolean; certificateRequest: boolean }> = {}) => ({ firstReplyPending: false, justEnrolled: false, certificateRequest: false, ...f });

describe('settingsOfferCaps', () => {
  it('offers on a connection\'s first reply or enrolment, to an agent that takes OpAMP settings or reports its own telemetry', () => {
    expect(settingsOfferCaps(AgentCap.AcceptsOpAMPConnectionSettings, frame({ firstReplyPending: true }))).toEqual({ acceptsOpamp: true, reportsOwn: false });
    expect(settingsOfferCaps(AgentCap.ReportsOwnMetrics, frame({ justEnrolled: true }))).toEqual({ acceptsOpamp: false, reportsOwn: true });
    expect(settingsOfferCaps(AgentCap.ReportsOwnLogs | AgentCap.AcceptsOpAMPConnectionSettings, frame({ firstReplyPending: true }))).toEqual({ acceptsOpamp: true, reportsOwn: true });
    expect(settingsOfferCaps(AgentCap.AcceptsRemoteConfig | AgentCap.ReportsStatus, frame({ firstReplyPending: true }))).toBeUndefined();
  });

  it('offers nothing on a heartbeat; a certificate request counts only from an agent that accepts OpAMP settings', () => {
    expect(settingsOfferCaps(AgentCap.AcceptsOpAMPConnectionSettings | AgentCap.ReportsOwnMetrics, frame())).toBeUndefined();
    expect(settingsOfferCaps(AgentCap.AcceptsOpAMPConnectionSettings, frame({ certificateRequest: true }))).toEqual({ acceptsOpamp: true, reportsOwn: false });
    expect(settingsOfferCaps(AgentCap.ReportsOwnTraces, frame({ certificateRequest: true }))).toBeUndefined();
  });
});
