/**
 * The syntax half of Pattern (pattern.ts): the limits, the error, the parsed tree and the parser of
 * the supported subset (docs/dsl.md). Split from the matcher so each file holds one concern.
 */

export const MAX_PATTERN_LENGTH = 1000;
export const MAX_REPEAT = 1000;
export const MAX_PROGRAM = 10_000;
export const MAX_GROUP_DEPTH = 32;

export class PatternError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} (at offset ${position} of the pattern)`);
    this.name = 'PatternError';
  }
}

export type Range = readonly [number, number];

export type Node =
  | { t: 'set'; ranges: Range[]; negated: boolean; fold: boolean }
  | { t: 'assert'; kind: 'bol' | 'eol' | 'wb' | 'nwb' }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number };
const MAX_CODE_POINT = 0x10ffff;
const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

function complement(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

export function foldVariants(c: number): number[] {
  const s = String.fromCodePoint(c);
  const out = [c];
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const cp = v.codePointAt(0)!;
    if (v.length === String.fromCodePoint(cp).length && !out.includes(cp)) out.push(cp);
  }
  return out;
}

export function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x61 && c <= 0x7a);
}

export class Parser {
  private pos = 0;
  private depth = 0;
  private fold = false;
  private readonly cps: number[];
  /** Offsets (in UTF-16 units) of each code point, for error messages. */
  private readonly offsets: number[];

  constructor(private readonly source: string) {
    this.cps = [];
    this.offsets = [];
    for (let i = 0; i < source.length; ) {
      const cp = source.codePointAt(i)!;
      this.cps.push(cp);
      this.offsets.push(i);
      i += cp > 0xffff ? 2 : 1;
    }
  }

  parse(): { node: Node; fold: boolean } {
    if (this.source.startsWith('(?i)')) {
      this.fold = true;
      this.pos = 4;
    }
    const node = this.alt();
    if (this.pos < this.cps.length) throw this.error(this.peek() === 0x29 ? 'unbalanced )' : 'unexpected character');
    return { node, fold: this.fold };
  }

  private error(message: string, at = this.pos): PatternError {
    return new PatternError(message, this.offsets[at] ?? this.source.length);
  }

  private peek(k = 0): number | undefined {
    return this.cps[this.pos + k];
  }

  private eat(cp: number): boolean {
    if (this.peek() !== cp) return false;
    this.pos += 1;
    return true;
  }

  private alt(): Node {
    const items = [this.cat()];
    while (this.eat(0x7c /* | */)) items.push(this.cat());
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private cat(): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === 0x7c || c === 0x29) break;
      items.push(this.repeat());
    }
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private repeat(): Node {
    const start = this.pos;
    let node = this.atom();
    const q = this.quantifier();
    if (!q) return node;
    if (node.t === 'assert') throw this.error('an anchor cannot be repeated', start);
    node = { t: 'rep', node, min: q.min, max: q.max };
    this.eat(0x3f /* lazy ? */);
    const again = this.peek();
    if (again === 0x2a || again === 0x2b || again === 0x3f || (again === 0x7b && this.looksLikeCount())) {
      throw this.error('a quantifier cannot follow another quantifier (possessive and nested quantifiers are not supported)');
    }
    return node;
  }

  private quantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === 0x2a) return this.pos++, { min: 0, max: Infinity };
    if (c === 0x2b) return this.pos++, { min: 1, max: Infinity };
    if (c === 0x3f) return this.pos++, { min: 0, max: 1 };
    if (c === 0x7b && this.looksLikeCount()) {
      const at = this.pos;
      this.pos += 1;
      const min = this.number();
      let max = min;
      if (this.eat(0x2c)) max = this.peek() === 0x7d ? Infinity : this.number();
      this.eat(0x7d);
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) throw this.error(`a repeat count is limited to ${MAX_REPEAT}`, at);
      if (max < min) throw this.error('a repeat range must have min <= max', at);
      return { min, max };
    }
    return undefined;
  }

  private looksLikeCount(): boolean {
    let i = this.pos + 1;
    const digits = () => {
      const s = i;
      while (this.cps[i] !== undefined && this.cps[i]! >= 0x30 && this.cps[i]! <= 0x39) i++;
      return i > s;
    };
    if (!digits()) return false;
    if (this.cps[i] === 0x2c) {
      i++;
      digits();
    }
    return this.cps[i] === 0x7d;
  }

  private number(): number {
    let n = 0;
    let digits = 0;
    while (this.peek() !== undefined && this.peek()! >= 0x30 && this.peek()! <= 0x39) {
      n = Math.min(n * 10 + (this.peek()! - 0x30), MAX_REPEAT * 10);
      this.pos++;
      digits++;
    }
    if (!digits) throw this.error('a number was expected');
    return n;
  }

  private set(ranges: Range[], negated = false): Node {
    return { t: 'set', ranges, negated, fold: this.fold };
  }

  private atom(): Node {
    const at = this.pos;
    const c = this.peek()!;
    this.pos += 1;
    switch (c) {
      case 0x28: {
        // (
        if (this.eat(0x3f)) {
          if (!this.eat(0x3a)) {
            const next = this.peek();
            const what = next === 0x3d || next === 0x21 || next === 0x3c ? 'lookaround and named groups are' : next === 0x69 ? 'a (?i) flag is only allowed at the very start and is' : 'this group syntax is';
            throw this.error(`${what} not supported`, at);
          }
        }
        if (++this.depth > MAX_GROUP_DEPTH) throw this.error(`groups nest at most ${MAX_GROUP_DEPTH} deep`, at);
        const inner = this.alt();
        this.depth--;
        if (!this.eat(0x29)) throw this.error('missing )', at);
        return inner;
      }
      case 0x5b:
        return this.charClass(at);
      case 0x2e:
        return this.set([[0x0a, 0x0a]], true);
      case 0x5e:
        return { t: 'assert', kind: 'bol' };
      case 0x24:
        return { t: 'assert', kind: 'eol' };
      case 0x5c:
        return this.escape(false, at);
      case 0x2a:
      case 0x2b:
      case 0x3f:
        throw this.error('nothing to repeat', at);
      case 0x7b:
        throw this.error(this.cps[at + 1] !== undefined && this.looksLikeCountAt(at) ? 'nothing to repeat' : 'a literal { must be escaped as \\{', at);
      default:
        return this.set([[c, c]]);
    }
  }

  private looksLikeCountAt(at: number): boolean {
    const saved = this.pos;
    this.pos = at;
    const ok = this.looksLikeCount();
    this.pos = saved;
    return ok;
  }

  /** After a backslash. In a class, `\b` is a backspace; outside, a word boundary. */
  private escape(inClass: boolean, at: number): Node {
    const c = this.peek();
    if (c === undefined) throw this.error('the pattern ends with a lone backslash', at);
    this.pos += 1;
    switch (String.fromCodePoint(c)) {
      case 'd':
        return this.set(DIGIT);
      case 'D':
        return this.set(DIGIT, true);
      case 'w':
        return this.set(WORD);
      case 'W':
        return this.set(WORD, true);
      case 's':
        return this.set(SPACE);
      case 'S':
        return this.set(SPACE, true);
      case 'b':
        return inClass ? this.set([[8, 8]]) : { t: 'assert', kind: 'wb' };
      case 'B':
        if (inClass) throw this.error('\\B is not allowed in a class', at);
        return { t: 'assert', kind: 'nwb' };
      case 'n':
        return this.set([[0x0a, 0x0a]]);
      case 'r':
        return this.set([[0x0d, 0x0d]]);
      case 't':
        return this.set([[0x09, 0x09]]);
      case 'f':
        return this.set([[0x0c, 0x0c]]);
      case 'v':
        return this.set([[0x0b, 0x0b]]);
      case '0':
        return this.set([[0, 0]]);
      case 'x':
        return this.hex(2, at);
      case 'u':
        return this.hex(4, at);
      default:
        // any ASCII punctuation (or a space) escaped is itself
        if (c < 0x80 && !/[A-Za-z0-9]/.test(String.fromCodePoint(c)) && c >= 0x20) return this.set([[c, c]]);
        if (c >= 0x31 && c <= 0x39) throw this.error('backreferences are not supported', at);
        throw this.error(`unknown escape \\${String.fromCodePoint(c)}`, at);
    }
  }

  private hex(digits: number, at: number): Node {
    let v = 0;
    for (let i = 0; i < digits; i++) {
      const c = this.peek();
      const d = c === undefined ? -1 : parseInt(String.fromCodePoint(c), 16);
      if (Number.isNaN(d) || d < 0) throw this.error(`\\${digits === 2 ? 'x' : 'u'} needs ${digits} hex digits`, at);
      v = v * 16 + d;
      this.pos++;
    }
    return this.set([[v, v]]);
  }

  private charClass(at: number): Node {
    const negated = this.eat(0x5e);
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw this.error('missing ]', at);
      if (c === 0x5d && !first) {
        this.pos++;
        break;
      }
      if (c === 0x5d) throw this.error('an empty class [] matches nothing; escape ] as \\]', at);
      first = false;
      const lo = this.classAtom();
      if (this.peek() === 0x2d && this.peek(1) !== 0x5d && this.peek(1) !== undefined) {
        const dashAt = this.pos;
        this.pos++;
        const hi = this.classAtom();
        if (lo.single === undefined || hi.single === undefined) throw this.error('a class range needs single characters at both ends', dashAt);
        if (hi.single < lo.single) throw this.error('a class range must go from low to high', dashAt);
        ranges.push([lo.single, hi.single]);
      } else {
        ranges.push(...lo.ranges);
      }
    }
    return this.set(ranges, negated);
  }

  private classAtom(): { ranges: Range[]; single?: number } {
    const at = this.pos;
    const c = this.peek()!;
    this.pos++;
    if (c !== 0x5c) return { ranges: [[c, c]], single: c };
    const node = this.escape(true, at);
    if (node.t !== 'set') throw this.error('only characters and classes are allowed in a class', at);
    const ranges = node.negated ? complement(node.ranges) : node.ranges;
    const single = !node.negated && node.ranges.length === 1 && node.ranges[0]![0] === node.ranges[0]![1] ? node.ranges[0]![0] : undefined;
    return { ranges, single };
  }
}

