import { MAX_TAG_KEY, MAX_TAG_VALUE, MAX_TAGS, tagProblems } from './operator-tags';

describe('operator tag rules', () => {
  it('accepts ordinary keys and values, including an empty value', () => {
    expect(tagProblems({ team: 'payments', 'cost-center': '42', 'example.com/owner': 'ops', env_name: '' })).toEqual([]);
  });

  it('refuses keys that are empty, padded, start or end with punctuation, or carry other characters', () => {
    for (const key of ['', ' team', '-team', 'team.', 'a b', 'tëam', 'a=b', 'a"b']) {
      expect(tagProblems({ [key]: 'x' }).map((p) => p.field)).toEqual([`tags.${key}`]);
    }
  });

  it('bounds key and value lengths', () => {
    expect(tagProblems({ ['k'.repeat(MAX_TAG_KEY)]: 'v'.repeat(MAX_TAG_VALUE) })).toEqual([]);
    expect(tagProblems({ ['k'.repeat(MAX_TAG_KEY + 1)]: 'v' })[0]!.message).toMatch(/at most 63/);
    expect(tagProblems({ k: 'v'.repeat(MAX_TAG_VALUE + 1) })[0]!.message).toMatch(/at most 255/);
  });

  it('refuses non-string values and control characters', () => {
    expect(tagProblems({ k: 1 })[0]!.message).toMatch(/string/);
    expect(tagProblems({ k: 'a\nb' })[0]!.message).toMatch(/control/);
  });

  it('bounds the number of tags', () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(tagProblems(many(MAX_TAGS))).toEqual([]);
    expect(tagProblems(many(MAX_TAGS + 1))).toEqual([{ field: 'tags', message: `at most ${MAX_TAGS} tags (got ${MAX_TAGS + 1})` }]);
  });
});
