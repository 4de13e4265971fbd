import { observeTarget, TargetSnapshot } from './target-observation';

const expected = { configHash: 'c0ffee', contentHash: 'beef' };
const t0 = new Date('2026-11-25T10:00:00Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);
const target = (fields: Partial<TargetSnapshot> = {}): TargetSnapshot => ({
  state: 'Applying',
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
});
