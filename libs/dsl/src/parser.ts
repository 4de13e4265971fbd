import { BoolNode, CompareOp, PathStep, ValueNode } from './ast';
import { DslError } from './errors';
import { FUNCTIONS } from './functions';
import { Token, tokenize } from './lexer';
import { Pattern, PatternError } from './regex/pattern';

/** Parentheses, `not`s and function calls nest at most this deep. */
export const MAX_DEPTH = 32;

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'matches', 'has-key', 'true', 'false', 'null']);
const COMPARE_OPS = new Set<string>(['=', '!=', '<', '<=', '>', '>=']);

/**
 * Recursive-descent parser of the Ampora language:
 *
 * ```
 * expr       := and ('or' and)*
 * and        := not ('and' not)*
 * not        := 'not' not | '(' expr ')' | condition
 * condition  := value [ op value | 'in' '(' value (',' value)* ')' | 'matches' pattern | 'has-key' key ]
 * value      := literal | path | call
 * path       := (identifier | '$') ('.' identifier | '[' (string | integer) ']')*
 * call       := identifier '(' [value (',' value)*] ')'
 * pattern    := string | 'regex' '(' string ')'
 * key        := identifier | string
 * ```
 */
export function parse(source: string): BoolNode {
  return new Parser(tokenize(source)).parseRoot();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseRoot(): BoolNode {
    if (this.peek().kind === 'eof') throw new DslError('parse', 'the expression is empty', 0);
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') throw new DslError('parse', `unexpected ${describe(t)}`, t.pos);
    return node;
  }

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.i + k, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private isKeyword(word: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'ident' && t.text === word;
  }

  private expect(kind: Token['kind'], what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw new DslError('parse', `expected ${what}, found ${describe(t)}`, t.pos);
    return this.next();
  }

  private nest<T>(pos: number, fn: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new DslError('limit', `the expression nests more than ${MAX_DEPTH} levels deep`, pos);
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private or(): BoolNode {
    const pos = this.peek().pos;
    const items = [this.and()];
    while (this.isKeyword('or')) {
      this.next();
      items.push(this.and());
    }
    return items.length === 1 ? items[0]! : { type: 'or', pos, items };
  }

  private and(): BoolNode {
    const pos = this.peek().pos;
    const items = [this.not()];
    while (this.isKeyword('and')) {
      this.next();
      items.push(this.not());
    }
    return items.length === 1 ? items[0]! : { type: 'and', pos, items };
  }

  private not(): BoolNode {
    const t = this.peek();
    if (this.isKeyword('not')) {
      this.next();
      return this.nest(t.pos, () => ({ type: 'not', pos: t.pos, expr: this.not() }));
    }
    if (t.kind === 'lparen') {
      this.next();
      const inner = this.nest(t.pos, () => this.or());
      this.expect('rparen', '")"');
      return inner;
    }
    return this.condition();
  }

  private condition(): BoolNode {
    const pos = this.peek().pos;
    const value = this.value();
    const t = this.peek();
    if (t.kind === 'op' && COMPARE_OPS.has(t.text)) {
      this.next();
      return { type: 'compare', pos: t.pos, op: t.text as CompareOp, left: value, right: this.value() };
    }
    if (this.isKeyword('in')) {
      this.next();
      this.expect('lparen', '"(" after in');
      const items = [this.value()];
      while (this.peek().kind === 'comma') {
        this.next();
        items.push(this.value());
      }
      this.expect('rparen', '")" closing the in list');
      return { type: 'in', pos: t.pos, value, items };
    }
    if (this.isKeyword('matches')) {
      this.next();
      return { type: 'matches', pos: t.pos, value, pattern: this.pattern() };
    }
    if (this.isKeyword('has-key')) {
      this.next();
      const k = this.peek();
      if (k.kind !== 'ident' && k.kind !== 'string') throw new DslError('parse', `has-key needs a key name, found ${describe(k)}`, k.pos);
      this.next();
      return { type: 'has-key', pos: t.pos, value, key: k.text };
    }
    return { type: 'test', pos, value };
  }

  private pattern(): Pattern {
    const t = this.peek();
    if (t.kind === 'string') {
      this.next();
      return compilePattern(t.text, t.pos);
    }
    if (this.isKeyword('regex') && this.peek(1).kind === 'lparen' && this.peek(2).kind === 'string' && this.peek(3).kind === 'rparen') {
      this.next();
      this.next();
      const s = this.next();
      this.next();
      return compilePattern(s.text, s.pos);
    }
    throw new DslError('parse', `matches needs a pattern in quotes, found ${describe(t)}`, t.pos);
  }

  private value(): ValueNode {
    const t = this.peek();
    switch (t.kind) {
      case 'string':
        this.next();
        return { type: 'literal', pos: t.pos, value: t.text };
      case 'number':
        this.next();
        return { type: 'literal', pos: t.pos, value: t.number! };
      case 'root':
        this.next();
        return this.path(t, []);
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') {
          this.next();
          return { type: 'literal', pos: t.pos, value: t.text === 'true' };
        }
        if (t.text === 'null') {
          this.next();
          return { type: 'literal', pos: t.pos, value: null };
        }
        if (this.peek(1).kind === 'lparen') return this.call();
        if (KEYWORDS.has(t.text)) throw new DslError('parse', `unexpected keyword "${t.text}"`, t.pos);
        this.next();
        return this.path(t, [{ kind: 'dotted', parts: t.text.split('.') }]);
      }
      default:
        throw new DslError('parse', `expected a value, found ${describe(t)}`, t.pos);
    }
  }

  private path(start: Token, steps: PathStep[]): ValueNode {
    let text = start.text;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'lbracket') {
        this.next();
        const k = this.next();
        if (k.kind === 'string') steps.push({ kind: 'key', key: k.text });
        else if (k.kind === 'number' && Number.isInteger(k.number) && k.number! >= 0) steps.push({ kind: 'index', index: k.number! });
        else throw new DslError('parse', 'a [ ] step needs a quoted key or a non-negative integer index', k.pos);
        this.expect('rbracket', '"]"');
        text += `[${k.kind === 'string' ? JSON.stringify(k.text) : k.text}]`;
        continue;
      }
      if (t.kind === 'dot') {
        this.next();
        const name = this.expect('ident', 'a name after "."');
        steps.push({ kind: 'dotted', parts: name.text.split('.') });
        text += `.${name.text}`;
        continue;
      }
      break;
    }
    return { type: 'path', pos: start.pos, text, steps };
  }

  private call(): ValueNode {
    const name = this.next();
    const fn = FUNCTIONS[name.text];
    if (!fn) throw new DslError('parse', `unknown function ${name.text}()`, name.pos);
    this.next(); // (
    return this.nest(name.pos, () => {
      const args: ValueNode[] = [];
      if (this.peek().kind !== 'rparen') {
        args.push(this.value());
        while (this.peek().kind === 'comma') {
          this.next();
          args.push(this.value());
        }
      }
      this.expect('rparen', `")" closing ${name.text}(`);
      if (args.length < fn.minArgs || args.length > fn.maxArgs) {
        const n = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`;
        throw new DslError('parse', `${name.text}() takes ${n} argument${fn.maxArgs === 1 ? '' : 's'}, got ${args.length}`, name.pos);
      }
      if (fn.pathArg && args[0]!.type !== 'path') throw new DslError('parse', `the first argument of ${name.text}() must be a path`, args[0]!.pos);
      const node: ValueNode = { type: 'call', pos: name.pos, name: name.text, args };
      if (name.text === 'regex' && args[1]?.type === 'literal') {
        if (typeof args[1].value !== 'string') throw new DslError('parse', 'the pattern of regex() must be a string', args[1].pos);
        node.pattern = compilePattern(args[1].value, args[1].pos);
      }
      return node;
    });
  }
}

function compilePattern(source: string, pos: number): Pattern {
  try {
    return Pattern.compile(source);
  } catch (error) {
    if (error instanceof PatternError) throw new DslError('parse', `invalid pattern: ${error.message}`, pos);
    throw error;
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the expression';
    case 'string':
      return `the string ${JSON.stringify(t.text)}`;
    case 'ident':
      return `"${t.text}"`;
    default:
      return `"${t.text}"`;
  }
}
