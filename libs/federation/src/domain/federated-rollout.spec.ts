import { controlActions, controlTarget, decideTick, Leg, LegState, preflightOf, preflightProblems, totalCounts, ZERO_LEG_COUNTS } from './federated-rollout';

const leg = (peer: string | null, state: LegState, more: Partial<Leg> = {}): Leg => ({
  peer,
  groupName: 'edge',
  rolloutId: state === 'Held' ? null : `r-${peer ?? 'local'}`,
  state,
  reason: null,
  currentStep: 0,
  stepCount: 3,
  waitingFor: null,
  counts: { ...ZERO_LEG_COUNTS },
  gate: null,
  rollbackState: null,
  seenAt: null,
  unreachable: null,
  ...more,
});

describe('federated rollout tick', () => {
  it('opens a held leg again and leaves running legs alone when Independent', () => {
    const d = decideTick('InProgress', 'Independent', [leg(null, 'InProgress', { waitingFor: 'advance' }), leg('b', 'Held', { reason: 'ROLLOUT_GROUP_BUSY' })]);
    expect(d).toEqual({ state: 'InProgress', reason: null, actions: [{ leg: 1, action: 'open' }] });
  });

  it('advances Synchronized legs together only once every unfinished leg waits for advance', () => {
    const waiting = leg(null, 'InProgress', { waitingFor: 'advance' });
    expect(decideTick('InProgress', 'Synchronized', [waiting, leg('b', 'InProgress', { waitingFor: 'apply' })]).actions).toEqual([]);
    expect(decideTick('InProgress', 'Synchronized', [waiting, leg('b', 'InProgress', { waitingFor: 'dwell' })]).actions).toEqual([]);
    expect(decideTick('InProgress', 'Synchronized', [waiting, leg('b', 'Held')]).actions).toEqual([{ leg: 1, action: 'open' }]);
    expect(decideTick('InProgress', 'Synchronized', [waiting, leg('b', 'InProgress', { waitingFor: 'advance', unreachable: 'timeout' })]).actions).toEqual([]);
    expect(decideTick('InProgress', 'Synchronized', [waiting, leg('b', 'InProgress', { waitingFor: 'advance' }), leg('c', 'Completed')]).actions).toEqual([
      { leg: 0, action: 'advance' },
      { leg: 1, action: 'advance' },
    ]);
    // Independent legs advance on their own clock
    expect(decideTick('InProgress', 'Independent', [waiting, leg('b', 'InProgress', { waitingFor: 'advance' })]).actions).toEqual([]);
  });

  it('pauses every running leg when a gate paused one, naming the gate', () => {
    const d = decideTick('InProgress', 'Synchronized', [leg(null, 'InProgress'), leg('b', 'Paused', { gate: { gate: 'apply-failed-ratio', observed: 1, threshold: 0.2, step: 0 } }), leg('c', 'Completed')]);
    expect(d.state).toBe('Paused');
    expect(d.reason).toBe('leg b paused by gate apply-failed-ratio (1 > 0.2) in step 0');
    expect(d.actions).toEqual([{ leg: 0, action: 'pause' }]);
  });

  it('pauses when a leg was aborted or rolled back on its own deployment', () => {
    expect(decideTick('InProgress', 'Independent', [leg(null, 'Failed'), leg('b', 'InProgress')])).toMatchObject({ state: 'Paused', reason: 'leg local was aborted on its deployment', actions: [{ leg: 1, action: 'pause' }] });
    expect(decideTick('InProgress', 'Independent', [leg(null, 'InProgress'), leg('b', 'RolledBack')]).reason).toBe('leg b was rolled back on its deployment');
  });

  it('completes when every leg completed, not before', () => {
    expect(decideTick('InProgress', 'Independent', [leg(null, 'Completed'), leg('b', 'Completed')]).state).toBe('Completed');
    expect(decideTick('InProgress', 'Independent', [leg(null, 'Completed'), leg('b', 'InProgress')]).state).toBe('InProgress');
    expect(decideTick('InProgress', 'Independent', []).state).toBe('InProgress');
  });

  it('brings every leg to the federated state: pause, abort, roll back', () => {
    const legs = [leg(null, 'InProgress'), leg('b', 'Paused'), leg('c', 'Completed'), leg('d', 'Failed'), leg('e', 'Held')];
    expect(decideTick('Paused', 'Independent', legs).actions).toEqual([{ leg: 0, action: 'pause' }]);
    expect(decideTick('Failed', 'Independent', legs).actions).toEqual([
      { leg: 0, action: 'abort' },
      { leg: 1, action: 'abort' },
    ]);
    expect(decideTick('RolledBack', 'Independent', legs).actions).toEqual([
      { leg: 0, action: 'rollback' },
      { leg: 1, action: 'rollback' },
      { leg: 3, action: 'rollback' },
    ]);
    expect(decideTick('Completed', 'Independent', legs).actions).toEqual([]);
  });
});

describe('federated rollout controls', () => {
  it('allows only the transitions of the machine', () => {
    expect(controlTarget('InProgress', 'pause')).toBe('Paused');
    expect(controlTarget('Paused', 'pause')).toBeNull();
    expect(controlTarget('Paused', 'resume')).toBe('InProgress');
    expect(controlTarget('Completed', 'abort')).toBeNull();
    expect(controlTarget('Failed', 'rollback')).toBe('RolledBack');
    expect(controlTarget('RolledBack', 'rollback')).toBeNull();
  });

  it('resumes the paused legs at once', () => {
    expect(controlActions('resume', [leg(null, 'Paused'), leg('b', 'InProgress'), leg('c', 'Paused')])).toEqual([
      { leg: 0, action: 'resume' },
      { leg: 2, action: 'resume' },
    ]);
    expect(controlActions('pause', [leg(null, 'InProgress')])).toEqual([]);
  });
});

describe('federated rollout progress and pre-flight', () => {
  it('sums the legs\' counts', () => {
    const c = (applied: number, failed: number) => ({ ...ZERO_LEG_COUNTS, applied, failed, total: applied + failed });
    expect(totalCounts([leg(null, 'InProgress', { counts: c(2, 1) }), leg('b', 'Completed', { counts: c(3, 0) })])).toEqual({ ...ZERO_LEG_COUNTS, applied: 5, failed: 1, total: 6 });
  });

  it('refuses a target without the content Published', () => {
    expect(preflightOf({ status: 'Published' }, 'edge')).toEqual({ ok: true });
    expect(preflightOf({ status: 'Draft' }, 'edge')).toEqual({ ok: false, problem: 'the version of edge with this content hash is Draft, not Published' });
    expect(preflightOf(null, 'edge')).toEqual({ ok: false, problem: 'no version of edge with this content hash' });
    expect(preflightProblems([{ target: 'local', answer: { ok: true } }, { target: 'b', answer: { ok: false, problem: 'x' } }])).toEqual([{ target: 'b', problem: 'x' }]);
  });
});
