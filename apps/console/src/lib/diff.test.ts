import { describe, expect, it } from 'vitest';
import { sideBySide } from './diff';

describe('sideBySide', () => {
  it('keeps equal lines together and pairs a replaced line as changed', () => {
    const rows = sideBySide('a\nb\nc\n', 'a\nB\nc\n');
    expect(rows.map((r) => r.kind)).toEqual(['same', 'changed', 'same']);
    expect(rows[1]).toMatchObject({ left: { n: 2, text: 'b' }, right: { n: 2, text: 'B' } });
  });

  it('marks lines only on one side as added or removed, with their own line numbers', () => {
    const rows = sideBySide('a\nc', 'a\nb\nc\nd');
    expect(rows.map((r) => r.kind)).toEqual(['same', 'added', 'same', 'added']);
    expect(rows[3]!.right).toEqual({ n: 4, text: 'd' });
    expect(sideBySide('x\ny', 'y').map((r) => r.kind)).toEqual(['removed', 'same']);
  });

  it('finds no difference between equal texts', () => {
    expect(sideBySide('same\n', 'same\n').every((r) => r.kind === 'same')).toBe(true);
  });
});
