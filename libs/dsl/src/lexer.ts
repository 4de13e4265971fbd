import { DslError } from './errors';

export type TokenKind = 'ident' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'comma' | 'dot' | 'root' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The identifier (dotted), operator, or the decoded string. */
  text: string;
  number?: number;
  pos: number;
}

export const MAX_SOURCE_LENGTH = 4096;
export const MAX_TOKENS = 1024;

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_-]/;
const ESCAPES: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', n: '\n', t: '\t', r: '\r', '/': '/' };

/**
 * Splits an expression into tokens. Identifiers may contain `-` (`starts-with`, `has-key`) and
 * dots (`service.name` is one token; the parser splits it into path parts). Strings are double- or
 * single-quoted with `\" \' \\ \n \t \r \/ \uXXXX` escapes. Numbers are decimal, optionally signed.
 */
export function tokenize(source: string): Token[] {
  if (source.length > MAX_SOURCE_LENGTH) throw new DslError('limit', `an expression is limited to ${MAX_SOURCE_LENGTH} characters`, MAX_SOURCE_LENGTH);
  const tokens: Token[] = [];
  let i = 0;
  const push = (t: Token) => {
    if (tokens.length >= MAX_TOKENS) throw new DslError('limit', `an expression is limited to ${MAX_TOKENS} tokens`, t.pos);
    tokens.push(t);
  };
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === '[' || c === ']' || c === ',') {
      const kinds: Record<string, TokenKind> = { '(': 'lparen', ')': 'rparen', '[': 'lbracket', ']': 'rbracket', ',': 'comma' };
      push({ kind: kinds[c]!, text: c, pos: start });
      i++;
      continue;
    }
    if (c === '.') {
      push({ kind: 'dot', text: '.', pos: start });
      i++;
      continue;
    }
    if (c === '$') {
      push({ kind: 'root', text: '$', pos: start });
      i++;
      continue;
    }
    if (c === '=' || c === '<' || c === '>' || c === '!') {
      const two = source.slice(i, i + 2);
      if (two === '!=' || two === '<=' || two === '>=') {
        push({ kind: 'op', text: two, pos: start });
        i += 2;
        continue;
      }
      if (two === '==') throw new DslError('parse', 'use = for equality (not ==)', start);
      if (c === '!') throw new DslError('parse', 'unexpected "!"; use "not" or "!="', start);
      push({ kind: 'op', text: c, pos: start });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let out = '';
      i++;
      for (;;) {
        if (i >= source.length) throw new DslError('parse', 'unterminated string', start);
        const ch = source[i]!;
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\n') throw new DslError('parse', 'a string cannot span lines', start);
        if (ch === '\\') {
          const e = source[i + 1];
          if (e === 'u') {
            const hex = source.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new DslError('parse', '\\u needs four hex digits', i);
            out += String.fromCharCode(parseInt(hex, 16));
            i += 6;
            continue;
          }
          if (e === undefined || !(e in ESCAPES)) throw new DslError('parse', `unknown escape \\${e ?? ''} in a string`, i);
          out += ESCAPES[e];
          i += 2;
          continue;
        }
        out += ch;
        i++;
      }
      push({ kind: 'string', text: out, pos: start });
      continue;
    }
    if ((c >= '0' && c <= '9') || (c === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(source.slice(i, i + 64));
      if (!m) throw new DslError('parse', 'malformed number', start);
      const n = Number(m[0]);
      if (!Number.isFinite(n)) throw new DslError('parse', 'number out of range', start);
      i += m[0].length;
      if (i < source.length && IDENT_PART.test(source[i]!)) throw new DslError('parse', 'malformed number', start);
      push({ kind: 'number', text: m[0], number: n, pos: start });
      continue;
    }
    if (IDENT_START.test(c)) {
      i++;
      for (;;) {
        while (i < source.length && IDENT_PART.test(source[i]!)) i++;
        // a dot continues the identifier when a name part follows (`service.name`, `k8s.v1`)
        if (source[i] === '.' && i + 1 < source.length && IDENT_PART.test(source[i + 1]!)) {
          i++;
          continue;
        }
        break;
      }
      push({ kind: 'ident', text: source.slice(start, i), pos: start });
      continue;
    }
    throw new DslError('parse', `unexpected character ${JSON.stringify(c)}`, start);
  }
  push({ kind: 'eof', text: '', pos: source.length });
  return tokens;
}
