import { NEW_TARGET, observeTarget, startingTarget, TargetSnapshot } from './target-observation';

const expected = { configHash: 'c0ffee', contentHash: 'beef' };
const t0 = new Date('2026-11-25T10:00:00Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);
const target = (fields: Partial<TargetSnapshot> = {}): TargetSnapshot => ({
  state: 'Applying',
  assigned: true,
  assignedAt: t0,
  reason: null,
  pushedAt: t0,
  appliedAt: null,
  disconnectedAt: null,
  recovered: false,
  healthy: null,
  effectiveMatches: null,
  ...fields,
});

describe('observeTarget', () => {
  it('moves Applying to Applied or Failed only for the rollout\'s hash, with the agent\'s error text', () => {
    expect(observeTarget(target(), { remoteConfig: { status: 'APPLIED', hash: 'c0ffee' } }, expected, later(3))).toMatchObject({ state: 'Applied', appliedAt: later(3) });
    expect(observeTarget(target(), { remoteConfig: { status: 'FAILED', hash: 'c0ffee', errorMessage: 'bad exporter' } }, expected, later(3))).toMatchObject({ state: 'Failed', reason: 'bad exporter' });
    expect(observeTarget(target(), { remoteConfig: { status: 'FAILED', hash: 'other' } }, expected, later(3))).toBeUndefined();
  });

  it('never moves a target backwards, and leaves Skipped ones alone', () => {
    expect(observeTarget(target({ state: 'Applied', appliedAt: t0 }), { remoteConfig: { status: 'APPLYING', hash: 'c0ffee' } }, expected, later(1))).toBeUndefined();
    expect(observeTarget(target({ state: 'Failed', reason: 'x' }), { remoteConfig: { status: 'APPLIED', hash: 'c0ffee' } }, expected, later(1))).toBeUndefined();
    expect(observeTarget(target({ state: 'Skipped' }), { remoteConfig: { status: 'APPLIED', hash: 'c0ffee' }, healthy: false }, expected, later(1))).toBeUndefined();
  });

  it('an agent that had no session counts as pushed from its first status for the version', () => {
    const next = observeTarget(target({ state: 'Pending', pushedAt: null, reason: 'not connected' }), { remoteConfig: { status: 'APPLYING', hash: 'c0ffee' } }, expected, later(5));
    expect(next).toMatchObject({ state: 'Applying', pushedAt: later(5), reason: null });
  });

  it('records the first disconnect after the push, and recovery once the agent is back with the version', () => {
    const gone = observeTarget(target(), { disconnectedAt: later(2) }, expected, later(2))!;
    expect(gone).toMatchObject({ disconnectedAt: later(2), recovered: false });
    expect(observeTarget(target({ pushedAt: later(10) }), { disconnectedAt: later(2) }, expected, later(11))).toBeUndefined(); // before the push
    expect(observeTarget(gone, { disconnectedAt: later(9) }, expected, later(9))).toBeUndefined(); // only the first one
    expect(observeTarget(gone, { effectiveHash: 'beef' }, expected, later(20))).toMatchObject({ recovered: true, effectiveMatches: true });
    expect(observeTarget(gone, { remoteConfig: { status: 'APPLIED', hash: 'c0ffee' } }, expected, later(20))).toMatchObject({ state: 'Applied', recovered: true });
    expect(observeTarget(gone, { effectiveHash: 'dead' }, expected, later(20))).toMatchObject({ recovered: false, effectiveMatches: false });
  });

  it('tracks health and effective-config matches; nothing new is no change', () => {
    expect(observeTarget(target(), { healthy: false }, expected, later(1))).toMatchObject({ healthy: false });
    expect(observeTarget(target({ healthy: false }), { healthy: false }, expected, later(1))).toBeUndefined();
    expect(observeTarget(target(), {}, expected, later(1))).toBeUndefined();
  });

  it('takes no status for an answer before the rollout assigned the target (a Supervisor that restored the previous version by itself)', () => {
    const pending = target({ state: 'Pending', pushedAt: null, assigned: false, assignedAt: null });
    expect(observeTarget(pending, { remoteConfig: { status: 'APPLIED', hash: 'c0ffee', at: later(1) } }, expected, later(1))).toBeUndefined();
    expect(observeTarget(pending, { remoteConfig: { status: 'FAILED', hash: 'c0ffee', at: later(1) } }, expected, later(1))).toBeUndefined();
  });

  it('for a rollback, counts only statuses reported after the assignment', () => {
    const rollback = { ...expected, freshOnly: true };
    const assigned = target({ assignedAt: later(10), pushedAt: later(10) });
    expect(observeTarget(assigned, { remoteConfig: { status: 'APPLIED', hash: 'c0ffee', at: later(5) } }, rollback, later(11))).toBeUndefined();
    expect(observeTarget(assigned, { remoteConfig: { status: 'APPLIED', hash: 'c0ffee' } }, rollback, later(11))).toBeUndefined();
    expect(observeTarget(assigned, { remoteConfig: { status: 'APPLIED', hash: 'c0ffee', at: later(12) } }, rollback, later(12))).toMatchObject({ state: 'Applied' });
    // a plain rollout takes the agent's standing status once assigned
    expect(observeTarget(assigned, { remoteConfig: { status: 'APPLIED', hash: 'c0ffee', at: later(5) } }, expected, later(11))).toMatchObject({ state: 'Applied' });
  });

  it('never counts another hash as applied: an open target says what the agent runs, an Applied one counts as a mismatch', () => {
    const other = { remoteConfig: { status: 'APPLIED', hash: 'deadbeef0123456789', at: later(2) } };
    expect(observeTarget(target(), other, expected, later(2))).toMatchObject({ state: 'Applying', reason: expect.stringContaining('deadbeef0123') });
    expect(observeTarget(target({ state: 'Applied', appliedAt: later(1), effectiveMatches: true }), other, expected, later(2))).toMatchObject({ state: 'Applied', effectiveMatches: false });
  });

  it('takes the drift verdict for the effective-mismatch gate, and leaves it alone while drift is unknown', () => {
    expect(observeTarget(target({ state: 'Applied' }), { inDrift: false, effectiveHash: 'other' }, expected, later(2))).toMatchObject({ effectiveMatches: true });
    expect(observeTarget(target({ state: 'Applied' }), { inDrift: true }, expected, later(2))).toMatchObject({ effectiveMatches: false });
    expect(observeTarget(target({ state: 'Applied', effectiveMatches: null }), { inDrift: 'unknown' }, expected, later(2))).toBeUndefined();
  });

  it('takes nothing from an inventory row that has not caught up (another hash, reported before the assignment or the answer)', () => {
    const applied = target({ state: 'Applied', appliedAt: later(5), effectiveMatches: null });
    const stale = { remoteConfig: { status: 'APPLIED', hash: 'deadbeef', at: later(-10) }, inDrift: 'unknown' as const };
    expect(observeTarget(applied, stale, expected, later(6))).toBeUndefined();
    expect(observeTarget(target({ state: 'Applying', assignedAt: later(1) }), { remoteConfig: { status: 'APPLIED', hash: 'deadbeef', at: later(0) } }, expected, later(2))).toBeUndefined();
    // the same report after the answer counts
    expect(observeTarget(applied, { ...stale, remoteConfig: { ...stale.remoteConfig, at: later(7) } }, expected, later(8))).toMatchObject({ effectiveMatches: false });
  });

  it('starts a new target from what the inventory says, as the first observation of it would (decision 0434)', () => {
    // health and whether the agent already runs the version's content; a status before the assignment is no answer
    const seen = { healthy: true, effectiveHash: 'beef', remoteConfig: { status: 'APPLIED', hash: 'c0ffee', at: t0 } };
    expect(startingTarget(seen, expected, later(1))).toEqual({ ...NEW_TARGET, healthy: true, effectiveMatches: true });
    expect(startingTarget({ healthy: false, effectiveHash: 'old' }, expected, later(1))).toEqual({ ...NEW_TARGET, healthy: false, effectiveMatches: false });
    expect(startingTarget({ healthy: null, effectiveHash: null }, expected, later(1))).toEqual(NEW_TARGET);
    // the first observation of the same agent finds nothing new to write
    for (const o of [seen, { healthy: false, effectiveHash: 'old' }]) expect(observeTarget(startingTarget(o, expected, later(1)), o, expected, later(2))).toBeUndefined();
  });
});
