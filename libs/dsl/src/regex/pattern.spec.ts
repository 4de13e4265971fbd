import { Budget } from '../budget';
import { MAX_PROGRAM, Pattern, PatternError } from './pattern';

const full = (p: string, s: string) => Pattern.compile(p).test(s);
const search = (p: string, s: string) => Pattern.compile(p).test(s, { mode: 'search' });

/** Work spent matching `input`, counted by a budget that never runs out. */
function steps(pattern: string, input: string): { matched: boolean; steps: number } {
  const budget = new Budget(() => 0, 1, Number.MAX_SAFE_INTEGER);
  const matched = Pattern.compile(pattern).test(input, { budget });
  return { matched, steps: budget.steps };
}

describe('the linear-time pattern matcher', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['a.c', 'axc', true],
    ['a.c', 'a\nc', false],
    ['a|b|c', 'b', true],
    ['(ab)+', 'ababab', true],
    ['(ab)+', 'ababa', false],
    ['a*', '', true],
    ['a?b', 'b', true],
    ['a{2,3}', 'aaa', true],
    ['a{2,3}', 'aaaa', false],
    ['a{2,}', 'aaaaaa', true],
    ['a{3}', 'aa', false],
    ['[a-c]+', 'abcab', true],
    ['[^a-c]+', 'xyz', true],
    ['[^a-c]+', 'xaz', false],
    ['[\\d.]+', '1.2.3', true],
    ['[a\\-z]+', 'a-z', true],
    ['\\w+@\\w+\\.com', 'ops@acme.com', true],
    ['\\s*x\\s*', ' \t x ', true],
    ['\\D+', 'abc', true],
    ['\\S+', 'a b', false],
    ['(?i)hello', 'HeLLo', true],
    ['(?i)[a-z]+', 'ABC', true],
    ['hello', 'HELLO', false],
    ['(?:x|y)z', 'yz', true],
    ['^a$', 'a', true],
    ['a\\bb', 'ab', false],
    ['a\\Bb', 'ab', true],
    ['\\x41\\u00e9', 'Aé', true],
    ['.', '🚀', true],
    ['..', '🚀', false],
    ['a{0}b', 'b', true],
    ['(a|ab)(c|bcd)(d*)', 'abcd', true],
    ['x*?y', 'xxy', true],
    ['a\\;b\\_\\ c', 'a;b_ c', true],
    ['[]a]', ']', false],
  ])('%s against %j → %s', (pattern, input, expected) => {
    if (pattern === '[]a]') {
      expect(() => Pattern.compile(pattern)).toThrow(PatternError);
      return;
    }
    expect(full(pattern, input)).toBe(expected);
  });

  it('searches anywhere in search mode', () => {
    expect(search('cent', 'eu-central-1')).toBe(true);
    expect(search('^cent', 'eu-central-1')).toBe(false);
    expect(search('1$', 'eu-central-1')).toBe(true);
    expect(search('x', '')).toBe(false);
    expect(search('', '')).toBe(true);
  });

  it.each([
    ['(a', /missing \)/],
    ['a)', /unbalanced/],
    ['*a', /nothing to repeat/],
    ['a**', /quantifier cannot follow/],
    ['a++', /quantifier cannot follow/],
    ['(?=a)', /lookaround/],
    ['(?<n>a)', /lookaround and named groups/],
    ['a(?i)b', /only allowed at the very start/],
    ['(a)\\1', /backreferences/],
    ['\\q', /unknown escape/],
    ['[z-a]', /low to high/],
    ['[a', /missing \]/],
    ['a{5,2}', /min <= max/],
    ['a{1001}', /limited to 1000/],
    ['{', /must be escaped/],
    ['a\\', /lone backslash/],
    ['^*', /anchor cannot be repeated/],
    [`${'('.repeat(40)}a${')'.repeat(40)}`, /nest at most/],
    ['x'.repeat(1001), /limited to 1000 characters/],
  ])('refuses %s', (pattern, message) => {
    expect(() => Pattern.compile(pattern)).toThrow(message);
  });

  it('refuses patterns whose expansion is too large', () => {
    expect(() => Pattern.compile('(a{100}){100}')).toThrow(/instructions/);
    expect(Pattern.compile('(a{99}){100}').size).toBeLessThan(MAX_PROGRAM);
  });

  describe('catastrophic patterns stay linear', () => {
    // each of these takes exponential time in a backtracking engine on a near-miss input
    const catastrophic = ['(a+)+b', '(a*)*b', '(a|a)*b', '(a|aa)+b', '(.*a){12}b', '(x+x+)+y', '^(\\w+\\s?)*$'];

    it.each(catastrophic)('%s does not match a long near-miss and costs linear work', (pattern) => {
      const input = (n: number) => (pattern.includes('x') ? 'x'.repeat(n) : pattern.includes('\\w') ? `${'a'.repeat(n)}!` : 'a'.repeat(n));
      const small = steps(pattern, input(1000));
      const large = steps(pattern, input(4000));
      expect(small.matched).toBe(false);
      expect(large.matched).toBe(false);
      // four times the input costs about four times the work (a backtracking engine would explode)
      expect(large.steps / small.steps).toBeGreaterThan(3);
      expect(large.steps / small.steps).toBeLessThan(5);
    });

    it('still finds the match when there is one', () => {
      expect(full('(a+)+b', `${'a'.repeat(5000)}b`)).toBe(true);
      expect(full('(a|aa)+b', `${'a'.repeat(5000)}b`)).toBe(true);
    });
  });
});
