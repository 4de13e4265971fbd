import { compileGlob, InvalidGlobError } from './path-glob';

describe('compileGlob', () => {
  it('matches the default **/*.yaml at the root and in any directory, and nothing else', () => {
    const g = compileGlob('**/*.yaml');
    expect(['a.yaml', 'x/a.yaml', 'x/y/z/a.yaml'].filter((p) => g.matches(p))).toHaveLength(3);
    expect(['a.yml', 'a.yaml.bak', 'x/a.json', 'yaml'].some((p) => g.matches(p))).toBe(false);
  });

  it('anchors a directory prefix and keeps * inside one segment', () => {
    const g = compileGlob('configs/*.yaml');
    expect(g.matches('configs/prod.yaml')).toBe(true);
    expect(g.matches('configs/eu/prod.yaml')).toBe(false);
    expect(g.matches('other/configs/prod.yaml')).toBe(false);
  });

  it('lets ** in the middle match zero directories', () => {
    const g = compileGlob('configs/**/edge-?.yaml');
    expect(g.matches('configs/edge-1.yaml')).toBe(true);
    expect(g.matches('configs/eu/west/edge-2.yaml')).toBe(true);
    expect(g.matches('configs/eu/edge-12.yaml')).toBe(false);
  });

  it('treats regex characters literally and supports [classes] and [!negations]', () => {
    expect(compileGlob('a+b(1).yaml').matches('a+b(1).yaml')).toBe(true);
    expect(compileGlob('a+b(1).yaml').matches('aab1.yaml')).toBe(false);
    expect(compileGlob('env/[ab]/*.yaml').matches('env/a/x.yaml')).toBe(true);
    expect(compileGlob('env/[ab]/*.yaml').matches('env/c/x.yaml')).toBe(false);
    expect(compileGlob('env/[!ab]/*.yaml').matches('env/c/x.yaml')).toBe(true);
  });

  it('refuses absolute, empty-segment, dot-dot and malformed globs', () => {
    for (const bad of ['', '/x.yaml', 'a//b', '../x', 'a**/b', 'x[ab.yaml', 'x'.repeat(501)]) {
      expect(() => compileGlob(bad)).toThrow(InvalidGlobError);
    }
  });
});
