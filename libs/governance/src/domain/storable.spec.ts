import { storable, storableText } from './storable';

describe('storable audit values', () => {
  it('replaces NUL and lone surrogates, keeps pairs and ordinary text as they are', () => {
    expect(storableText('a\u0000b')).toBe('a\uFFFDb');
    expect(storableText('x\ud800y')).toBe('x\uFFFDy');
    expect(storableText('x\udc00')).toBe('x\uFFFD');
    expect(storableText('\ud800')).toBe('\uFFFD');
    const ok = 'plain é 😀';
    expect(storableText(ok)).toBe(ok);
  });

  it('walks keys and values of nested objects and arrays', () => {
    const at = new Date(0);
    expect(storable({ 'k\u0000': ['v\u0000', { n: 1, s: '\udfff' }], at, none: null })).toEqual({ 'k\uFFFD': ['v\uFFFD', { n: 1, s: '\uFFFD' }], at, none: null });
  });
});
