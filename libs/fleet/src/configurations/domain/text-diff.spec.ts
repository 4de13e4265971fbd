import fc from 'fast-check';
import { diffLines, splitLines, unifiedDiff } from './text-diff';

/** Applies a unified diff to `from` (a strict applier: context must match exactly). */
function applyUnified(from: string, patch: string): string {
  if (!patch) return from;
  const src = splitLines(from);
  const lines = patch.split('\n');
  expect(lines[0]).toMatch(/^--- /);
  expect(lines[1]).toMatch(/^\+\+\+ /);
  const out: string[] = [];
  let cursor = 0;
  let i = 2;
  while (i < lines.length && lines[i] !== '') {
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[i]!);
    if (!m) throw new Error(`bad hunk header ${lines[i]}`);
    const startA = Number(m[1]);
    const lenA = m[2] === undefined ? 1 : Number(m[2]);
    const begin = lenA === 0 ? startA : startA - 1;
    while (cursor < begin) out.push(src[cursor++]!);
    i++;
    let last: { op: string; index: number } | undefined;
    while (i < lines.length && lines[i] !== '' && !lines[i]!.startsWith('@@')) {
      const l = lines[i]!;
      if (l === '\\ No newline at end of file') {
        if (last?.op === '+' || last?.op === ' ') out[out.length - 1] = out[out.length - 1]!.replace(/\n$/, '');
        i++;
        continue;
      }
      const op = l[0]!;
      const text = `${l.slice(1)}\n`;
      if (op === ' ' || op === '-') {
        expect(src[cursor]?.replace(/\n?$/, '\n')).toBe(text);
        cursor++;
      }
      if (op === ' ' || op === '+') out.push(op === ' ' ? src[cursor - 1]! : text);
      last = { op, index: out.length - 1 };
      i++;
    }
  }
  while (cursor < src.length) out.push(src[cursor++]!);
  return out.join('');
}

/** Length of the longest common subsequence (the minimum edit script keeps exactly this many lines). */
function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return dp[a.length]![b.length]!;
}

describe('line diffs', () => {
  it('renders a unified diff with context and hunk headers', () => {
    const from = 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n';
    const to = 'a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\n';
    expect(unifiedDiff(from, to, { from: 'v1', to: 'v2' })).toBe(
      ['--- v1', '+++ v2', '@@ -1,5 +1,5 @@', ' a', '-b', '+B', ' c', ' d', ' e', '@@ -8,3 +8,4 @@', ' h', ' i', ' j', '+k', ''].join('\n'),
    );
  });

  it('merges changes closer than twice the context into one hunk', () => {
    const diff = unifiedDiff('1\n2\n3\n4\n5\n6\n7\n', '1\nX\n3\n4\n5\n6\nY\n', { from: 'a', to: 'b' });
    expect(diff.match(/^@@/gm)).toHaveLength(1);
  });

  it('marks a last line without a newline, and is empty for equal texts', () => {
    expect(unifiedDiff('x\ny', 'x\ny\n', { from: 'a', to: 'b' })).toBe('--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n');
    expect(unifiedDiff('same\n', 'same\n', { from: 'a', to: 'b' })).toBe('');
    expect(unifiedDiff('', 'new\n', { from: 'a', to: 'b' })).toBe('--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n');
  });

  it('finds a minimal edit script and its patch reproduces the target (property)', () => {
    const text = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '', '  x: 1'), { maxLength: 30 }).chain((lines) => fc.tuple(fc.constant(lines), fc.boolean()));
    fc.assert(
      fc.property(text, text, ([la, nlA], [lb, nlB]) => {
        const from = la.join('\n') + (nlA && la.length ? '\n' : '');
        const to = lb.join('\n') + (nlB && lb.length ? '\n' : '');
        const a = splitLines(from);
        const b = splitLines(to);
        const edits = diffLines(a, b);
        expect(edits.filter((e) => e.op !== '+').map((e) => e.line)).toEqual(a);
        expect(edits.filter((e) => e.op !== '-').map((e) => e.line)).toEqual(b);
        expect(edits.filter((e) => e.op === ' ').length).toBe(lcs(a, b));
        expect(applyUnified(from, unifiedDiff(from, to, { from: 'a', to: 'b' }))).toBe(to);
      }),
      { numRuns: 500 },
    );
  });

  it('stays correct beyond the edit-distance cap (one replacement)', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `a${i}\n`);
    const b = Array.from({ length: 3000 }, (_, i) => `b${i}\n`);
    const edits = diffLines(a, b);
    expect(edits.filter((e) => e.op !== '+').map((e) => e.line)).toEqual(a);
    expect(edits.filter((e) => e.op !== '-').map((e) => e.line)).toEqual(b);
  });
});
