import { OBSOLETE, obsoleteReason } from './target-membership';

describe('obsoleteReason', () => {
  const rollout = { groupId: 'g1', configHash: 'a'.repeat(64) };
  const onRollout = { groupId: 'g1', assignmentSource: 'rollout', assignedConfigHash: `${'a'.repeat(64)}` };

  it('keeps an agent still in the group on the rollout’s assignment (a padded stored hash is the same hash)', () => {
    expect(obsoleteReason(onRollout, rollout, true)).toBeUndefined();
    expect(obsoleteReason({ ...onRollout, assignedConfigHash: `${'a'.repeat(64)}  ` }, rollout, true)).toBeUndefined();
  });

  it('an agent that left the group, or is gone, left the rollout', () => {
    expect(obsoleteReason({ ...onRollout, groupId: 'g2' }, rollout, true)).toBe(OBSOLETE.leftGroup);
    expect(obsoleteReason({ ...onRollout, groupId: null }, rollout, false)).toBe(OBSOLETE.leftGroup);
    expect(obsoleteReason(undefined, rollout, false)).toBe(OBSOLETE.leftGroup);
  });

  it('once assigned, another source or another hash means it was reassigned; before, the assignment is not judged', () => {
    expect(obsoleteReason({ ...onRollout, assignmentSource: 'direct' }, rollout, true)).toBe(OBSOLETE.reassigned);
    expect(obsoleteReason({ ...onRollout, assignmentSource: null, assignedConfigHash: null }, rollout, true)).toBe(OBSOLETE.reassigned);
    expect(obsoleteReason({ ...onRollout, assignedConfigHash: 'b'.repeat(64) }, rollout, true)).toBe(OBSOLETE.reassigned);
    expect(obsoleteReason({ ...onRollout, assignmentSource: 'group', assignedConfigHash: 'b'.repeat(64) }, rollout, false)).toBeUndefined();
  });
});
