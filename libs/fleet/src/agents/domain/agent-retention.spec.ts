import { pastRetention, retentionCutoff } from './agent-retention';

const now = new Date('2026-12-05T12:00:00.000Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

describe('agent retention', () => {
  it('is off at 0 days (the default) and cuts off N days before now otherwise', () => {
    expect(retentionCutoff(now, 0)).toBeNull();
    expect(retentionCutoff(now, 30)!.toISOString()).toBe('2026-11-05T12:00:00.000Z');
  });

  it('forgets disconnected agents gone longer than the retention, never connected ones', () => {
    const cutoff = retentionCutoff(now, 30);
    const agent = (over: Partial<Parameters<typeof pastRetention>[0]>) => ({ connected: false, disconnectedAt: null, lastSeenAt: null, createdAt: daysAgo(400), ...over });
    expect(pastRetention(agent({ disconnectedAt: daysAgo(31) }), cutoff)).toBe(true);
    expect(pastRetention(agent({ disconnectedAt: daysAgo(29) }), cutoff)).toBe(false);
    expect(pastRetention(agent({ connected: true, disconnectedAt: daysAgo(300) }), cutoff)).toBe(false);
    // never recorded as disconnected: its last contact, else its creation, counts
    expect(pastRetention(agent({ lastSeenAt: daysAgo(5) }), cutoff)).toBe(false);
    expect(pastRetention(agent({}), cutoff)).toBe(true);
    expect(pastRetention(agent({ disconnectedAt: daysAgo(300) }), null)).toBe(false);
  });
});
