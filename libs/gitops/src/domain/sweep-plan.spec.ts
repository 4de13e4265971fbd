import { compileGlob } from './path-glob';
import { planImports, selectFiles, TrackedFile, TreeEntry } from './sweep-plan';

const glob = compileGlob('**/*.yaml');
const entry = (path: string, blobSha: string, size = 10): TreeEntry => ({ path, blobSha, size });
const tracked = (path: string, blobSha: string, configurationName: string, status: TrackedFile['status'] = 'tracked'): TrackedFile => ({ path, blobSha, configurationName, status });
const bytes = (s: string) => Buffer.from(s);

describe('selectFiles', () => {
  it('reads new and changed blobs, keeps unchanged ones, and orphans tracked paths the tip lost', () => {
    const s = selectFiles(
      [entry('a.yaml', 'a2'), entry('b.yaml', 'b1'), entry('new.yaml', 'n1'), entry('README.md', 'r1')],
      glob,
      [tracked('a.yaml', 'a1', 'a'), tracked('b.yaml', 'b1', 'b'), tracked('gone.yaml', 'g1', 'gone'), tracked('old.yaml', 'o1', 'old', 'orphaned')],
      1000,
    );
    expect(s.seen).toBe(3);
    expect(s.toRead.map((e) => e.path)).toEqual(['a.yaml', 'new.yaml']);
    expect(s.unchanged.map((e) => e.path)).toEqual(['b.yaml']);
    expect(s.orphaned.map((e) => e.path)).toEqual(['gone.yaml']);
    expect(s.errors).toEqual([]);
  });

  it('reads a file again when it comes back after being orphaned, and refuses one over the size limit', () => {
    const s = selectFiles([entry('back.yaml', 'x1'), entry('huge.yaml', 'h1', 5000)], glob, [tracked('back.yaml', 'x1', 'back', 'orphaned')], 1000);
    expect(s.toRead.map((e) => e.path)).toEqual(['back.yaml']);
    expect(s.errors).toEqual([{ path: 'huge.yaml', error: expect.stringContaining('5000 bytes') }]);
  });
});

describe('planImports', () => {
  it('names files by frontmatter or file name', () => {
    const p = planImports([{ ...entry('x/prod.yaml', 'p1'), bytes: bytes('a: 1\n') }, { ...entry('y/prod.yaml', 'p2'), bytes: bytes('# ampora.name: prod-eu\na: 1\n') }], []);
    expect(p.imports.map((i) => [i.path, i.name])).toEqual([
      ['x/prod.yaml', 'prod'],
      ['y/prod.yaml', 'prod-eu'],
    ]);
    expect(p.errors).toEqual([]);
  });

  it('refuses every file of a name two new files resolve to', () => {
    const p = planImports([{ ...entry('x/prod.yaml', 'p1'), bytes: bytes('a: 1\n') }, { ...entry('y/prod.yaml', 'p2'), bytes: bytes('b: 1\n') }, { ...entry('z.yaml', 'z1'), bytes: bytes('c: 1\n') }], []);
    expect(p.imports.map((i) => i.path)).toEqual(['z.yaml']);
    expect(p.errors.map((e) => e.path)).toEqual(['x/prod.yaml', 'y/prod.yaml']);
  });

  it('leaves a name with the unchanged file that holds it', () => {
    const p = planImports([{ ...entry('copy/prod.yaml', 'c1'), bytes: bytes('a: 1\n') }], [tracked('prod.yaml', 'p1', 'prod')]);
    expect(p.imports).toEqual([]);
    expect(p.errors).toEqual([{ path: 'copy/prod.yaml', error: expect.stringContaining('prod.yaml') }]);
  });

  it('records binary files and bad names as errors', () => {
    const p = planImports([{ ...entry('bin.yaml', 'b1'), bytes: Buffer.from([1, 0, 2]) }, { ...entry('empty.yaml', 'e1'), bytes: bytes('# ampora.name: \n') }], []);
    expect(p.imports).toEqual([]);
    expect(p.errors.map((e) => e.path)).toEqual(['bin.yaml', 'empty.yaml']);
  });
});
