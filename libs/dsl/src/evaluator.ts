import { BoolNode, PathStep, ValueNode } from './ast';
import { Budget, BudgetExceeded, Clock, defaultClock } from './budget';
import { DslError, DslFailure } from './errors';
import { parse } from './parser';
import { MAX_PATTERN_LENGTH, Pattern, PatternError } from './regex/pattern';
import { kindOf, ownKey, show, ValueKind } from './values';

export const DEFAULT_DEADLINE_MS = 50;
export const DEFAULT_MAX_STEPS = 2_000_000;

export interface EvaluateOptions {
  /** Wall-clock budget of one evaluation (default 50 ms). */
  deadlineMs?: number;
  /** Work budget of one evaluation (default 2,000,000 steps). */
  maxSteps?: number;
  /** Monotonic milliseconds; tests pass a fake clock. */
  clock?: Clock;
}

/** The outcome of one evaluation: a match, or a non-match that may carry the reason it failed closed. */
export interface Evaluation {
  matched: boolean;
  /** Set when the evaluation failed closed (type error, missing path, deadline, ...). */
  error?: DslFailure;
  /** Units of work spent (nodes, regex instructions, characters). */
  steps: number;
}

export type CompileResult = { ok: true; expression: Expression } | { ok: false; error: DslFailure };

/** A parsed, checked expression, ready to be evaluated many times. */
export class Expression {
  private constructor(
    readonly source: string,
    private readonly root: BoolNode,
  ) {}

  /** Parses `source`; never throws. */
  static compile(source: string): CompileResult {
    try {
      return { ok: true, expression: new Expression(source, parse(source)) };
    } catch (error) {
      return { ok: false, error: failure(error) };
    }
  }

  /**
   * The first name of every path the expression reads (`config.exporters` → `config`), distinct, in
   * order of appearance: lets a caller restrict an expression to part of its context (lint rules
   * read `config.*` only).
   */
  pathRoots(): string[] {
    const roots = new Set<string>();
    this.eachPath((steps) => {
      const first = steps[0];
      if (first) roots.add(first.kind === 'dotted' ? first.parts[0]! : first.kind === 'key' ? first.key : `[${first.index}]`);
    });
    return [...roots];
  }

  /**
   * The leading names of every path the expression reads, up to its first list index
   * (`agent.labels["host.name"]` → `agent, labels, host.name`; `agent.capabilities[0]` → `agent,
   * capabilities`; `$` → none: the whole context), distinct: what of its context the outcome can
   * depend on, so that a caller may reuse an outcome for contexts equal on those parts.
   */
  namePrefixes(): string[][] {
    const seen = new Map<string, string[]>();
    this.eachPath((steps) => {
      const names: string[] = [];
      for (const step of steps) {
        if (step.kind === 'index') break;
        if (step.kind === 'dotted') names.push(...step.parts);
        else names.push(step.key);
      }
      seen.set(JSON.stringify(names), names);
    });
    return [...seen.values()];
  }

  private eachPath(visit: (steps: PathStep[]) => void): void {
    const value = (node: ValueNode): void => {
      if (node.type === 'path') visit(node.steps);
      else if (node.type === 'call') node.args.forEach(value);
    };
    const bool = (node: BoolNode): void => {
      switch (node.type) {
        case 'or':
        case 'and':
          node.items.forEach(bool);
          return;
        case 'not':
          return bool(node.expr);
        case 'compare':
          value(node.left);
          return value(node.right);
        case 'in':
          value(node.value);
          return node.items.forEach(value);
        case 'matches':
        case 'has-key':
        case 'test':
          return value(node.value);
      }
    };
    bool(this.root);
  }

  /**
   * Evaluates against `context` (any JSON-like object). Never throws: every error, including a run
   * over the budget, is a non-match with the reason.
   */
  evaluate(context: unknown, options: EvaluateOptions = {}): Evaluation {
    const budget = new Budget(options.clock ?? defaultClock, options.deadlineMs ?? DEFAULT_DEADLINE_MS, options.maxSteps ?? DEFAULT_MAX_STEPS);
    try {
      const matched = new Evaluator(context, budget).bool(this.root);
      return { matched, steps: budget.steps };
    } catch (error) {
      return { matched: false, error: failure(error), steps: budget.steps };
    }
  }
}

/** Compiles and evaluates in one go (a parse error is a non-match with the reason). */
export function evaluate(source: string, context: unknown, options: EvaluateOptions = {}): Evaluation {
  const compiled = Expression.compile(source);
  if (!compiled.ok) return { matched: false, error: compiled.error, steps: 0 };
  return compiled.expression.evaluate(context, options);
}

function failure(error: unknown): DslFailure {
  if (error instanceof DslError) return error.position === undefined ? { kind: error.kind, message: error.message } : { kind: error.kind, message: error.message, position: error.position };
  if (error instanceof BudgetExceeded) return { kind: 'deadline', message: error.message };
  if (error instanceof RangeError) return { kind: 'limit', message: `the evaluation hit an engine limit: ${error.message}` };
  return { kind: 'internal', message: `evaluator defect: ${error instanceof Error ? error.message : String(error)}` };
}

const MISSING: unique symbol = Symbol('missing');
type Resolved = unknown | typeof MISSING;

class Evaluator {
  constructor(
    private readonly context: unknown,
    private readonly budget: Budget,
  ) {}

  bool(node: BoolNode): boolean {
    this.budget.spend(1);
    switch (node.type) {
      case 'or':
        for (const item of node.items) if (this.bool(item)) return true;
        return false;
      case 'and':
        for (const item of node.items) if (!this.bool(item)) return false;
        return true;
      case 'not':
        return !this.bool(node.expr);
      case 'compare':
        return this.compare(node);
      case 'in':
        return this.in(node);
      case 'matches': {
        const v = this.value(node.value);
        if (kindOf(v) !== 'string') throw new DslError('type', `matches needs a string on the left, got ${show(v)}`, node.pos);
        return node.pattern.test(v as string, { budget: this.budget });
      }
      case 'has-key': {
        const v = this.value(node.value);
        if (kindOf(v) !== 'map') throw new DslError('type', `has-key needs a map on the left, got ${show(v)}`, node.pos);
        return ownKey(v as object, node.key);
      }
      case 'test': {
        const v = this.value(node.value);
        if (typeof v !== 'boolean') throw new DslError('type', `a condition must be true or false, got ${show(v)}`, node.pos);
        return v;
      }
    }
  }

  private compare(node: Extract<BoolNode, { type: 'compare' }>): boolean {
    const a = this.value(node.left);
    const b = this.value(node.right);
    if (node.op === '=' || node.op === '!=') {
      const eq = this.equal(a, b, node.pos);
      return node.op === '=' ? eq : !eq;
    }
    const ka = kindOf(a);
    const kb = kindOf(b);
    if (ka !== kb || (ka !== 'number' && ka !== 'string')) {
      throw new DslError('type', `${node.op} compares two numbers or two strings, got ${show(a)} and ${show(b)}`, node.pos);
    }
    if (ka === 'string') this.budget.spend(Math.ceil(Math.min((a as string).length, (b as string).length) / 64));
    switch (node.op) {
      case '<':
        return (a as number) < (b as number);
      case '<=':
        return (a as number) <= (b as number);
      case '>':
        return (a as number) > (b as number);
      default:
        return (a as number) >= (b as number);
    }
  }

  /** Equality: null equals only null; otherwise both sides must be the same scalar kind. */
  private equal(a: unknown, b: unknown, pos: number): boolean {
    const ka = kindOf(a);
    const kb = kindOf(b);
    if (ka === 'null' || kb === 'null') return ka === kb;
    if (!isScalar(ka) || !isScalar(kb)) throw new DslError('type', `= and != compare scalars (strings, numbers, booleans, null), got ${show(a)} and ${show(b)}`, pos);
    if (ka !== kb) throw new DslError('type', `cannot compare ${show(a)} with ${show(b)}`, pos);
    if (ka === 'string') this.budget.spend(Math.ceil(Math.min((a as string).length, (b as string).length) / 64));
    return a === b;
  }

  private in(node: Extract<BoolNode, { type: 'in' }>): boolean {
    const v = this.value(node.value);
    // evaluate and check every item first, so the result never depends on the order of the list
    const items = node.items.map((i) => this.value(i));
    let hit = false;
    for (const item of items) if (this.equal(v, item, node.pos)) hit = true;
    return hit;
  }

  value(node: ValueNode): unknown {
    this.budget.spend(1);
    switch (node.type) {
      case 'literal':
        return node.value;
      case 'path': {
        const v = this.resolve(node.steps);
        if (v === MISSING) throw new DslError('missing', `${node.text} is missing`, node.pos);
        if (kindOf(v) === 'unsupported') throw new DslError('type', `${node.text} holds a value the language does not support`, node.pos);
        return v;
      }
      case 'call':
        return this.call(node);
    }
  }

  /** Follows a path from the context; MISSING when any step does not exist. */
  private resolve(steps: PathStep[]): Resolved {
    let cur: unknown = this.context;
    for (const step of steps) {
      this.budget.spend(1);
      if (step.kind === 'index') {
        if (!Array.isArray(cur) || step.index >= cur.length) return MISSING;
        cur = cur[step.index];
        continue;
      }
      if (kindOf(cur) !== 'map') return MISSING;
      if (step.kind === 'key') {
        if (!ownKey(cur as object, step.key)) return MISSING;
        cur = (cur as Record<string, unknown>)[step.key];
        continue;
      }
      // a dotted run: the longest run of parts that is a key wins, then the rest below it
      let i = 0;
      const parts = step.parts;
      while (i < parts.length) {
        if (kindOf(cur) !== 'map') return MISSING;
        let found = false;
        for (let j = parts.length; j > i; j--) {
          this.budget.spend(1);
          const key = j - i === 1 ? parts[i]! : parts.slice(i, j).join('.');
          if (ownKey(cur as object, key)) {
            cur = (cur as Record<string, unknown>)[key];
            i = j;
            found = true;
            break;
          }
        }
        if (!found) return MISSING;
      }
    }
    return cur === undefined ? MISSING : cur;
  }

  private call(node: Extract<ValueNode, { type: 'call' }>): unknown {
    const pos = node.pos;
    if (node.name === 'exists') {
      const path = node.args[0] as Extract<ValueNode, { type: 'path' }>;
      return this.resolve(path.steps) !== MISSING;
    }
    if (node.name === 'default') {
      const path = node.args[0] as Extract<ValueNode, { type: 'path' }>;
      const v = this.resolve(path.steps);
      if (v === MISSING || v === null) return this.value(node.args[1]!);
      if (kindOf(v) === 'unsupported') throw new DslError('type', `${path.text} holds a value the language does not support`, path.pos);
      return v;
    }
    const args = node.args.map((a) => this.value(a));
    const str = (i: number): string => {
      const v = args[i];
      if (typeof v !== 'string') throw new DslError('type', `${node.name}() needs a string as argument ${i + 1}, got ${show(v)}`, node.args[i]!.pos);
      this.budget.spend(Math.ceil(v.length / 64));
      return v;
    };
    switch (node.name) {
      case 'len': {
        const v = args[0];
        const k = kindOf(v);
        if (k === 'string') {
          const s = str(0);
          let n = 0;
          for (let i = 0; i < s.length; i++) {
            const c = s.charCodeAt(i);
            if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) n++;
            else {
              n++;
              i++;
            }
          }
          return n;
        }
        if (k === 'list') return (v as unknown[]).length;
        if (k === 'map') {
          const n = Object.keys(v as object).length;
          this.budget.spend(Math.ceil(n / 64));
          return n;
        }
        throw new DslError('type', `len() needs a string, list or map, got ${show(v)}`, pos);
      }
      case 'lower':
        return str(0).toLowerCase();
      case 'upper':
        return str(0).toUpperCase();
      case 'trim':
        return str(0).trim();
      case 'starts-with':
        return str(0).startsWith(str(1));
      case 'ends-with':
        return str(0).endsWith(str(1));
      case 'contains': {
        const k = kindOf(args[0]);
        if (k === 'string') return str(0).includes(str(1));
        if (k === 'list') {
          const needle = args[1];
          const kn = kindOf(needle);
          if (!isScalar(kn) && kn !== 'null') throw new DslError('type', `contains() looks for a scalar in a list, got ${show(needle)}`, pos);
          for (const item of args[0] as unknown[]) {
            this.budget.spend(1);
            if (item === needle) return true;
          }
          return false;
        }
        throw new DslError('type', `contains() needs a string or a list, got ${show(args[0])}`, pos);
      }
      case 'regex': {
        const s = str(0);
        let pattern = node.pattern;
        if (!pattern) {
          const p = str(1);
          if (p.length > MAX_PATTERN_LENGTH) throw new DslError('limit', `a pattern is limited to ${MAX_PATTERN_LENGTH} characters`, node.args[1]!.pos);
          try {
            pattern = Pattern.compile(p);
          } catch (error) {
            if (error instanceof PatternError) throw new DslError('type', `invalid pattern: ${error.message}`, node.args[1]!.pos);
            throw error;
          }
          this.budget.spend(pattern.size);
        }
        return pattern.test(s, { budget: this.budget });
      }
      default:
        throw new DslError('parse', `unknown function ${node.name}()`, pos);
    }
  }
}

function isScalar(k: ValueKind): boolean {
  return k === 'string' || k === 'number' || k === 'boolean';
}
