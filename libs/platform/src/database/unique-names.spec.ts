import { suffixedName } from './unique-names';

describe('de-duplicating token names in the migration', () => {
  it('takes the first free suffix from -2', () => {
    const taken = new Set(['ci', 'ci-2', 'ci-3']);
    expect(suffixedName('ci', (n) => taken.has(n))).toBe('ci-4');
    expect(suffixedName('deploy', () => false)).toBe('deploy-2');
  });

  it('keeps the result within 100 characters', () => {
    const long = 'x'.repeat(100);
    const taken = new Set([`${'x'.repeat(98)}-2`]);
    const name = suffixedName(long, (n) => taken.has(n));
    expect(name).toBe(`${'x'.repeat(98)}-3`);
    expect(name.length).toBe(100);
  });
});
