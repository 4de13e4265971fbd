import { groupForPath } from './group-assignment';

describe('groupForPath', () => {
  const assignments = [
    { pathPrefix: 'configs/', groupId: 'all' },
    { pathPrefix: 'configs/eu/', groupId: 'eu' },
    { pathPrefix: 'configs/eu/prod', groupId: 'eu-prod' },
  ];

  it('takes the longest prefix the path starts with', () => {
    expect(groupForPath(assignments, 'configs/eu/prod.yaml')).toBe('eu-prod');
    expect(groupForPath(assignments, 'configs/eu/dev.yaml')).toBe('eu');
    expect(groupForPath(assignments, 'configs/us/a.yaml')).toBe('all');
  });

  it('names no group for a path outside every prefix, and lets an empty prefix match everything', () => {
    expect(groupForPath(assignments, 'other/a.yaml')).toBeUndefined();
    expect(groupForPath([{ pathPrefix: '', groupId: 'g' }], 'a.yaml')).toBe('g');
    expect(groupForPath([], 'a.yaml')).toBeUndefined();
  });
});
