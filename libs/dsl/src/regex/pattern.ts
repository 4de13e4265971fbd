import { Budget, UNLIMITED } from '../budget';
import { foldVariants, isWordChar, MAX_PATTERN_LENGTH, MAX_PROGRAM, Node, Parser, PatternError, Range } from './pattern-syntax';

export { MAX_GROUP_DEPTH, MAX_PATTERN_LENGTH, MAX_PROGRAM, MAX_REPEAT, PatternError } from './pattern-syntax';

/**
 * A regular-expression matcher that runs in time linear in the input: patterns compile to a
 * Thompson NFA and are simulated state-set by state-set (no backtracking), so a pattern like
 * `(a*)*b` costs the same per character as `ab`. The supported subset is documented in docs/dsl.md:
 * literals, `.`, classes `[a-z]` `[^...]`, `\d \w \s \D \W \S \b \B`, escapes, groups `( )` and
 * `(?: )`, alternation `|`, quantifiers `* + ? {n} {n,} {n,m}` (a trailing lazy `?` is accepted and
 * changes nothing for a yes/no match), anchors `^ $`, and a leading `(?i)` for case-insensitive
 * matching. Backreferences and lookaround cannot be matched in linear time and are refused.
 */
const enum Op {
  Char,
  Split,
  Jmp,
  Assert,
  Match,
}

type Inst =
  | { op: Op.Char; ranges: Range[]; negated: boolean; fold: boolean }
  | { op: Op.Split; x: number; y: number }
  | { op: Op.Jmp; x: number }
  | { op: Op.Assert; kind: 'bol' | 'eol' | 'wb' | 'nwb' }
  | { op: Op.Match };

function programSize(n: Node): number {
  switch (n.t) {
    case 'set':
    case 'assert':
      return 1;
    case 'cat':
      return n.items.reduce((s, i) => s + programSize(i), 0);
    case 'alt':
      return n.items.reduce((s, i) => s + programSize(i), 0) + 2 * (n.items.length - 1);
    case 'rep': {
      const inner = programSize(n.node);
      if (n.max === Infinity) return n.min * inner + inner + 2;
      return n.min * inner + (n.max - n.min) * (inner + 1);
    }
  }
}

function emit(n: Node, prog: Inst[]): void {
  switch (n.t) {
    case 'set':
      prog.push({ op: Op.Char, ranges: n.ranges, negated: n.negated, fold: n.fold });
      return;
    case 'assert':
      prog.push({ op: Op.Assert, kind: n.kind });
      return;
    case 'cat':
      for (const i of n.items) emit(i, prog);
      return;
    case 'alt': {
      const jumps: Array<{ op: Op.Jmp; x: number }> = [];
      for (let i = 0; i < n.items.length; i++) {
        if (i === n.items.length - 1) {
          emit(n.items[i]!, prog);
          break;
        }
        const split: Inst = { op: Op.Split, x: prog.length + 1, y: 0 };
        prog.push(split);
        emit(n.items[i]!, prog);
        const jmp = { op: Op.Jmp as const, x: 0 };
        prog.push(jmp);
        jumps.push(jmp);
        split.y = prog.length;
      }
      for (const j of jumps) j.x = prog.length;
      return;
    }
    case 'rep': {
      for (let i = 0; i < n.min; i++) emit(n.node, prog);
      if (n.max === Infinity) {
        const loop = prog.length;
        const split: Inst = { op: Op.Split, x: loop + 1, y: 0 };
        prog.push(split);
        emit(n.node, prog);
        prog.push({ op: Op.Jmp, x: loop });
        split.y = prog.length;
        return;
      }
      const splits: Array<{ op: Op.Split; x: number; y: number }> = [];
      for (let i = n.min; i < n.max; i++) {
        const split = { op: Op.Split as const, x: prog.length + 1, y: 0 };
        prog.push(split);
        splits.push(split);
        emit(n.node, prog);
      }
      for (const s of splits) s.y = prog.length;
      return;
    }
  }
}

function inRanges(ranges: Range[], c: number): boolean {
  for (const [lo, hi] of ranges) if (c >= lo && c <= hi) return true;
  return false;
}

function charMatches(inst: Extract<Inst, { op: Op.Char }>, c: number): boolean {
  let hit = inRanges(inst.ranges, c);
  if (!hit && inst.fold) for (const v of foldVariants(c)) if (v !== c && inRanges(inst.ranges, v)) hit = true;
  return hit !== inst.negated;
}

/** A compiled pattern. `test` is linear in the input (times the program size), never exponential. */
export class Pattern {
  private readonly mark: Int32Array;
  private generation = 0;

  private constructor(
    readonly source: string,
    private readonly prog: Inst[],
  ) {
    this.mark = new Int32Array(prog.length);
  }

  private nextGeneration(): number {
    if (this.generation >= 0x7fffffff) {
      this.mark.fill(0);
      this.generation = 0;
    }
    return ++this.generation;
  }

  static compile(source: string): Pattern {
    if (source.length > MAX_PATTERN_LENGTH) throw new PatternError(`a pattern is limited to ${MAX_PATTERN_LENGTH} characters`, MAX_PATTERN_LENGTH);
    const { node } = new Parser(source).parse();
    const size = programSize(node);
    if (size + 1 > MAX_PROGRAM) throw new PatternError(`the pattern expands to ${size} instructions; at most ${MAX_PROGRAM - 1} are allowed`, 0);
    const prog: Inst[] = [];
    emit(node, prog);
    prog.push({ op: Op.Match });
    return new Pattern(source, prog);
  }

  /** Instructions in the compiled program (for tests of the expansion limits). */
  get size(): number {
    return this.prog.length;
  }

  /**
   * Whether the whole input matches (`mode: 'full'`, the default) or some part of it does
   * (`'search'`). Every instruction visited and every character read is spent from `budget`.
   */
  test(input: string, options: { mode?: 'full' | 'search'; budget?: Pick<Budget, 'spend'> } = {}): boolean {
    const search = options.mode === 'search';
    const budget = options.budget ?? UNLIMITED;
    const prog = this.prog;
    // the visited marks are kept between calls: each closure uses a fresh generation number
    const mark = this.mark;
    let clist: number[] = [];
    let nlist: number[] = [];
    const stack: number[] = [];
    let gen = this.nextGeneration();

    // the epsilon closure of `pc` at a position between `prev` and `cur` (-1 = none)
    const add = (list: number[], start: number, prev: number, cur: number): boolean => {
      stack.push(start);
      while (stack.length) {
        const pc = stack.pop()!;
        if (mark[pc] === gen) continue;
        mark[pc] = gen;
        budget.spend(1);
        const inst = prog[pc]!;
        switch (inst.op) {
          case Op.Jmp:
            stack.push(inst.x);
            break;
          case Op.Split:
            stack.push(inst.y, inst.x);
            break;
          case Op.Assert: {
            const ok =
              inst.kind === 'bol'
                ? prev === -1
                : inst.kind === 'eol'
                  ? cur === -1
                  : (prev !== -1 && isWordChar(prev)) !== (cur !== -1 && isWordChar(cur)) === (inst.kind === 'wb');
            if (ok) stack.push(pc + 1);
            break;
          }
          case Op.Match:
            if (search) {
              stack.length = 0;
              return true;
            }
            list.push(pc);
            break;
          default:
            list.push(pc);
        }
      }
      return false;
    };

    let prev = -1;
    let i = 0;
    const at = (k: number) => (k < input.length ? input.codePointAt(k)! : -1);
    let cur = at(0);
    if (add(clist, 0, prev, cur)) return true;
    while (cur !== -1) {
      budget.spend(1);
      const width = cur > 0xffff ? 2 : 1;
      const next = at(i + width);
      gen = this.nextGeneration();
      for (const pc of clist) {
        const inst = prog[pc]!;
        if (inst.op === Op.Char && charMatches(inst, cur)) {
          if (add(nlist, pc + 1, cur, next)) return true;
        }
      }
      if (search && add(nlist, 0, cur, next)) return true;
      [clist, nlist] = [nlist, clist];
      nlist.length = 0;
      if (clist.length === 0 && !search) return false;
      prev = cur;
      cur = next;
      i += width;
    }
    return clist.some((pc) => prog[pc]!.op === Op.Match);
  }
}
