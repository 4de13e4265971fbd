/**
 * Line diffs: Myers' O((N+M)·D) greedy algorithm over the lines that differ (common prefix and suffix
 * are trimmed first), rendered as a unified diff with three lines of context. Written for Ampora.
 */

export type EditOp = ' ' | '-' | '+';
export interface Edit {
  op: EditOp;
  /** The line including its terminator ('\n'); the last line of a text may have none. */
  line: string;
}

/** Above this many differences, the middle is shown as one replacement (correct, not minimal). */
export const MAX_EDIT_DISTANCE = 2000;

/** Lines with their terminators, in one linear pass (no regular expression over the input). */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    out.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** The edit script turning `a` into `b`, in order. */
export function diffLines(a: string[], b: string[]): Edit[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: Edit[] = a.slice(0, start).map((line) => ({ op: ' ', line }));
  const tail: Edit[] = a.slice(endA).map((line) => ({ op: ' ', line }));
  return [...head, ...myers(a.slice(start, endA), b.slice(start, endB)), ...tail];
}

function myers(a: string[], b: string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((line) => ({ op: '+', line }));
  if (m === 0) return a.map((line) => ({ op: '-', line }));
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  // trace[d]: the frontier before step d, for diagonals -d-1 .. d+1 (O(D²) memory in all)
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)) x = v[offset + k + 1]!; // down: insertion
      else x = v[offset + k - 1]! + 1; // right: deletion
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
    v = next;
  }
  if (found < 0) return [...a.map((line): Edit => ({ op: '-', line })), ...b.map((line): Edit => ({ op: '+', line }))];

  // walk back through the saved frontiers
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const vd = trace[d]!;
    const at = (k: number) => vd[k + d + 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) edits.push({ op: ' ', line: a[--x]! }), y--;
    if (down) edits.push({ op: '+', line: b[--y]! });
    else edits.push({ op: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) edits.push({ op: ' ', line: a[--x]! }), y--;
  return edits.reverse();
}

/**
 * A unified diff of two texts (`--- from` / `+++ to` headers, `@@ -l,s +l,s @@` hunks), '' when
 * they are equal. A last line without a newline is marked `\ No newline at end of file`.
 */
export function unifiedDiff(from: string, to: string, labels: { from: string; to: string }, context = 3): string {
  if (from === to) return '';
  const edits = diffLines(splitLines(from), splitLines(to));
  let out = `--- ${labels.from}\n+++ ${labels.to}\n`;
  // positions (0-based) of each edit in a and b
  const posA: number[] = [];
  const posB: number[] = [];
  let ia = 0;
  let ib = 0;
  for (const e of edits) {
    posA.push(ia);
    posB.push(ib);
    if (e.op !== '+') ia++;
    if (e.op !== '-') ib++;
  }
  let i = 0;
  while (i < edits.length) {
    if (edits[i]!.op === ' ') {
      i++;
      continue;
    }
    // a hunk: from `context` lines before this change to `context` lines after the last change
    // that is at most 2·context unchanged lines away from the previous one
    const first = Math.max(0, i - context);
    let last = i;
    let j = i;
    while (j < edits.length) {
      if (edits[j]!.op !== ' ') {
        last = j;
        j++;
        continue;
      }
      let run = j;
      while (run < edits.length && edits[run]!.op === ' ') run++;
      if (run < edits.length && run - j <= 2 * context) {
        j = run;
        continue;
      }
      break;
    }
    const end = Math.min(edits.length, last + context + 1);
    const hunk = edits.slice(first, end);
    const lenA = hunk.filter((e) => e.op !== '+').length;
    const lenB = hunk.filter((e) => e.op !== '-').length;
    const startA = lenA === 0 ? posA[first]! : posA[first]! + 1;
    const startB = lenB === 0 ? posB[first]! : posB[first]! + 1;
    out += `@@ -${range(startA, lenA)} +${range(startB, lenB)} @@\n`;
    for (const e of hunk) out += e.line.endsWith('\n') ? `${e.op}${e.line}` : `${e.op}${e.line}\n\\ No newline at end of file\n`;
    i = end;
  }
  return out;
}

function range(start: number, len: number): string {
  return len === 1 ? `${start}` : `${start},${len}`;
}
