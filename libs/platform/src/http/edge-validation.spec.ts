import { findOutOfRange, findUnsafeStrings, INT4_MAX } from './edge-validation';

describe('edge validation walkers', () => {
  it('names every string and key with NUL or a lone surrogate, and passes well-formed text', () => {
    const errors = findUnsafeStrings({ name: 'a\u0000', ok: 'emoji \u{1F680}', steps: [{ n: '\uD800' }], labels: { 'k\u0000': 'v' } });
    expect(errors.map((e) => e.field).sort()).toEqual(['labels.k\\u0000', 'name', 'steps.0.n']);
    expect(findUnsafeStrings('text\u0000')).toEqual([{ field: '(body)', message: expect.stringContaining('NUL') }]);
    expect(findUnsafeStrings({ a: ['b', 1, null, { c: 'd' }] })).toEqual([]);
  });

  it('names integers beyond int4 and dates outside years 1-9999', () => {
    const errors = findOutOfRange({ version: INT4_MAX + 1, ok: INT4_MAX, ratio: 0.5, at: new Date('+100000-01-01T00:00:00Z'), fine: new Date(), q: [{ step: -(2 ** 40) }] });
    expect(errors.map((e) => e.field).sort()).toEqual(['at', 'q.0.step', 'version']);
  });

  it('walks input nested far deeper than the stack allows without recursion', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const found = findUnsafeStrings(deep);
    expect(found).toHaveLength(1);
    expect(found[0]!.field.length).toBeLessThan(250);
    expect(findOutOfRange(deep)).toEqual([]);
  });
});
