import { expectedOf, NO_PACKAGE_ERROR, packageAnswer, packageMarker, packageObsoleteReason, ReportedPackageStatus } from './package-observation';
import { observeTarget, TargetSnapshot } from './target-observation';

const expected = { versionId: '11111111-1111-4111-8111-111111111111', version: '1.0.1', offerHash: 'ab12' };
const marker = packageMarker(expected.versionId);
const status = (fields: Partial<ReportedPackageStatus>): ReportedPackageStatus => ({
  state: 'Installed',
  agentHasVersion: '1.0.0',
  agentHasHash: '',
  serverOfferedVersion: '',
  serverOfferedHash: '',
  error: null,
  ...fields,
});
const t0 = new Date('2026-12-06T09:00:00Z');
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

describe('packageAnswer', () => {
  it('Installed at the rolled-out version is APPLIED; at another version (what ran before) it is no answer', () => {
    expect(packageAnswer(status({ agentHasVersion: '1.0.1', serverOfferedVersion: '1.0.1' }), expected)).toEqual({ status: 'APPLIED', hash: marker });
    expect(packageAnswer(status({ agentHasVersion: '1.0.1', agentHasHash: 'ab12' }), expected)).toEqual({ status: 'APPLIED', hash: marker });
    expect(packageAnswer(status({ agentHasVersion: '1.0.0' }), expected)).toBeUndefined();
    // the same version string with another offer's hash is another build
    expect(packageAnswer(status({ agentHasVersion: '1.0.1', agentHasHash: 'ffff' }), expected)).toBeUndefined();
    expect(packageAnswer(undefined, expected)).toBeUndefined();
  });

  it('Failed while offered this version is FAILED with the agent\'s error; an older offer\'s failure is not', () => {
    expect(packageAnswer(status({ state: 'Failed', serverOfferedVersion: '1.0.1', error: 'signature verification failed' }), expected)).toEqual({ status: 'FAILED', hash: marker, errorMessage: 'signature verification failed' });
    expect(packageAnswer(status({ state: 'Failed', serverOfferedHash: 'ab12', error: '' }), expected)).toEqual({ status: 'FAILED', hash: marker, errorMessage: NO_PACKAGE_ERROR });
    expect(packageAnswer(status({ state: 'Failed', serverOfferedVersion: '0.9.0', error: 'disk full' }), expected)).toBeUndefined();
  });

  it('downloading or installing the offered version is APPLYING', () => {
    for (const state of ['Downloading', 'Installing', 'InstallPending'] as const) {
      expect(packageAnswer(status({ state, serverOfferedVersion: '1.0.1' }), expected)).toEqual({ status: 'APPLYING', hash: marker });
      expect(packageAnswer(status({ state, serverOfferedVersion: '2.0.0' }), expected)).toBeUndefined();
    }
  });

  it('drives the configuration\'s target state machine: Applying → Applied, Applying → Failed with the reason, never backwards', () => {
    const exp = expectedOf(expected);
    const applied = observeTarget(target(), { remoteConfig: packageAnswer(status({ agentHasVersion: '1.0.1' }), expected) }, exp, new Date(t0.getTime() + 3000));
    expect(applied).toMatchObject({ state: 'Applied', appliedAt: new Date(t0.getTime() + 3000) });
    const failed = observeTarget(target(), { remoteConfig: packageAnswer(status({ state: 'Failed', serverOfferedVersion: '1.0.1', error: 'signature verification failed' }), expected) }, exp, t0);
    expect(failed).toMatchObject({ state: 'Failed', reason: 'signature verification failed' });
    const pending = observeTarget(target({ state: 'Pending', pushedAt: null }), { remoteConfig: packageAnswer(status({ state: 'Downloading', serverOfferedVersion: '1.0.1' }), expected) }, exp, t0);
    expect(pending).toMatchObject({ state: 'Applying', pushedAt: t0 });
    expect(observeTarget(target({ state: 'Failed', reason: 'x' }), { remoteConfig: packageAnswer(status({ agentHasVersion: '1.0.1' }), expected) }, exp, t0)).toBeUndefined();
    // the version the agent had before says nothing
    expect(observeTarget(target(), { remoteConfig: packageAnswer(status({ agentHasVersion: '1.0.0' }), expected) }, exp, t0)).toBeUndefined();
  });
});

describe('packageObsoleteReason', () => {
  const rollout = { groupId: 'g1', packageVersionId: expected.versionId };
  it('a target stays the rollout\'s while its agent is in the group and, once assigned, still assigned the version', () => {
    expect(packageObsoleteReason({ groupId: 'g1', assignedVersionId: null }, rollout, false)).toBeUndefined();
    expect(packageObsoleteReason({ groupId: 'g1', assignedVersionId: expected.versionId }, rollout, true)).toBeUndefined();
    expect(packageObsoleteReason({ groupId: 'g2', assignedVersionId: expected.versionId }, rollout, true)).toMatch(/left the rollout's group/);
    expect(packageObsoleteReason(undefined, rollout, false)).toMatch(/left/);
    expect(packageObsoleteReason({ groupId: 'g1', assignedVersionId: 'other' }, rollout, true)).toMatch(/package assignment changed/);
  });
});
