/** One row of a side-by-side diff: a line on the left, on the right, or both. */
export interface DiffRow {
  kind: 'same' | 'removed' | 'added' | 'changed';
  left?: { n: number; text: string };
  right?: { n: number; text: string };
}

/**
 * A line diff (longest common subsequence) laid out side by side: a removed line facing an added one
 * becomes one "changed" row. Enough for configuration files (hundreds of lines); larger inputs fall back
 * to pairing lines by position.
 */
export function sideBySide(leftText: string, rightText: string): DiffRow[] {
  const a = leftText.split('\n');
  const b = rightText.split('\n');
  if (a[a.length - 1] === '') a.pop();
  if (b[b.length - 1] === '') b.pop();
  if (a.length * b.length > 4_000_000) return byPosition(a, b);
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Array<{ op: '=' | '-' | '+'; i?: number; j?: number }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) ops.push({ op: '=', i: i++, j: j++ });
    else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push({ op: '-', i: i++ });
    else ops.push({ op: '+', j: j++ });
  }
  while (i < a.length) ops.push({ op: '-', i: i++ });
  while (j < b.length) ops.push({ op: '+', j: j++ });
  const rows: DiffRow[] = [];
  for (let k = 0; k < ops.length; ) {
    if (ops[k]!.op === '=') {
      const o = ops[k++]!;
      rows.push({ kind: 'same', left: { n: o.i! + 1, text: a[o.i!]! }, right: { n: o.j! + 1, text: b[o.j!]! } });
      continue;
    }
    const removed: number[] = [];
    const added: number[] = [];
    while (k < ops.length && ops[k]!.op !== '=') {
      const o = ops[k++]!;
      if (o.op === '-') removed.push(o.i!);
      else added.push(o.j!);
    }
    for (let m = 0; m < Math.max(removed.length, added.length); m++) {
      const l = removed[m];
      const r = added[m];
      rows.push({
        kind: l !== undefined && r !== undefined ? 'changed' : l !== undefined ? 'removed' : 'added',
        left: l !== undefined ? { n: l + 1, text: a[l]! } : undefined,
        right: r !== undefined ? { n: r + 1, text: b[r]! } : undefined,
      });
    }
  }
  return rows;
}

function byPosition(a: string[], b: string[]): DiffRow[] {
  return Array.from({ length: Math.max(a.length, b.length) }, (_, k) => {
    const l = a[k];
    const r = b[k];
    const kind = l === r ? 'same' : l === undefined ? 'added' : r === undefined ? 'removed' : 'changed';
    return { kind, left: l === undefined ? undefined : { n: k + 1, text: l }, right: r === undefined ? undefined : { n: k + 1, text: r } };
  });
}
