import { retentionWindows, SweepTally } from './audit-retention';

describe('retentionWindows', () => {
  const now = new Date('2026-12-06T12:00:00.000Z');

  it('archives what occurred strictly before now minus the hot days, purges before now minus the archive days', () => {
    const w = retentionWindows(now, 90, 2555);
    expect(w.archiveBefore.toISOString()).toBe('2026-09-07T12:00:00.000Z');
    expect(w.purgeBefore.getTime()).toBe(now.getTime() - 2555 * 86_400_000);
  });

  it('refuses windows that are not whole positive days', () => {
    expect(() => retentionWindows(now, 0, 10)).toThrow(/hot days/);
    expect(() => retentionWindows(now, 10, 1.5)).toThrow(/archive days/);
  });
});

describe('SweepTally', () => {
  it('adds counts per tenant and in total', () => {
    const t = new SweepTally();
    expect(t.add('archived', [{ tenantId: 'a', count: 2 }, { tenantId: 'b', count: 3 }])).toBe(5);
    t.add('archived', [{ tenantId: 'a', count: 4 }]);
    t.add('purged', [{ tenantId: 'b', count: 1 }]);
    expect(Object.fromEntries(t.archived)).toEqual({ a: 6, b: 3 });
    expect(t.total('archived')).toBe(9);
    expect(t.total('purged')).toBe(1);
  });
});
