import { forcePushContext, forcePushSetId } from './force-push-approval';

describe('force-push approval context', () => {
  it('gathers distinct groups, configurations and label values, ids sorted', () => {
    const ctx = forcePushContext([
      { id: 'b', labels: { env: 'prod', zone: 1 }, groupName: 'edge', configurationName: 'base' },
      { id: 'a', labels: { env: 'dev', nested: { x: 1 } }, groupName: null, configurationName: 'base' },
      { id: 'c', labels: { env: 'prod' }, groupName: 'core', configurationName: null },
    ]);
    expect(ctx).toEqual({
      agents: { count: 3, ids: ['a', 'b', 'c'], groups: ['core', 'edge'], labels: { env: ['dev', 'prod'], zone: ['1'] } },
      configurations: ['base'],
    });
  });

  it('files the same agents in any order (and repeated) under one id, other agents under another', () => {
    expect(forcePushSetId(['x', 'y'])).toBe(forcePushSetId(['y', 'x', 'y']));
    expect(forcePushSetId(['x', 'y'])).not.toBe(forcePushSetId(['x']));
    expect(forcePushSetId(['x'])).toMatch(/^[0-9a-f]{64}$/);
  });
});
