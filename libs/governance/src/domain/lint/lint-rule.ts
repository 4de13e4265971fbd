import { DEFAULT_DEADLINE_MS, Expression } from '@ampora/dsl';
import { configView } from '../policy/push-context';

/**
 * Tenant lint rules (issue 17 item 3, decision 0300): an expression in the Ampora language over
 * `config.*` only, stating what a good configuration looks like. A configuration the expression
 * does not match (including a fail-closed error) gets one finding of the rule's severity. Pure.
 */

export const LintSeverity = { Error: 'Error', Warning: 'Warning', Info: 'Info' } as const;
export type LintSeverity = (typeof LintSeverity)[keyof typeof LintSeverity];
export const LINT_SEVERITIES = Object.values(LintSeverity) as [LintSeverity, ...LintSeverity[]];

export const LintRuleStatus = { Active: 'Active', Disabled: 'Disabled' } as const;
export type LintRuleStatus = (typeof LintRuleStatus)[keyof typeof LintRuleStatus];
export const LINT_RULE_STATUSES = Object.values(LintRuleStatus) as [LintRuleStatus, ...LintRuleStatus[]];

/** The finding code of every lint-rule finding (the rule itself is named in `rule`). */
export const LINT_FINDING_CODE = 'LINT_RULE';

/** The one context name a lint rule may read. */
const LINT_ROOT = 'config';

export interface LintRuleDefinition {
  id: string;
  name: string;
  expression: string;
  severity: LintSeverity;
  /** What the rule asks for, shown in its finding. */
  description: string;
}

export interface LintFinding {
  severity: LintSeverity;
  code: typeof LINT_FINDING_CODE;
  message: string;
  path: string;
  rule: { id: string; name: string };
}

export type LintCompile = { ok: true; expression: Expression } | { ok: false; message: string };

/** Compiles a rule's expression and refuses any path outside `config.*`. */
export function compileLintExpression(source: string): LintCompile {
  const compiled = Expression.compile(source);
  if (!compiled.ok) return { ok: false, message: `the expression does not compile: ${compiled.error.message}` };
  const foreign = compiled.expression.pathRoots().filter((r) => r !== LINT_ROOT);
  if (foreign.length) return { ok: false, message: `a lint rule reads config.* only; it reads ${foreign.map((r) => JSON.stringify(r)).join(', ')}` };
  return { ok: true, expression: compiled.expression };
}

interface CompiledRule extends LintRuleDefinition {
  compiled: LintCompile;
}

/**
 * The Active rules of a tenant, compiled once; `check` lints one parsed configuration document.
 * A rule that cannot compile (stored before a language change) or errors while evaluating fails
 * closed: it reports its finding, saying why.
 */
export class LintRuleSet {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly LintRuleDefinition[]) {
    this.rules = rules.map((r) => ({ ...r, compiled: compileLintExpression(r.expression) }));
  }

  get size(): number {
    return this.rules.length;
  }

  check(document: unknown, options: { now?: () => number; deadlineMs?: number } = {}): LintFinding[] {
    const context = { config: configView(document) };
    const findings: LintFinding[] = [];
    for (const rule of this.rules) {
      let failure: string | undefined;
      if (!rule.compiled.ok) failure = rule.compiled.message;
      else {
        const result = rule.compiled.expression.evaluate(context, { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS, ...(options.now ? { clock: options.now } : {}) });
        if (result.matched) continue;
        if (result.error) failure = `failed closed: ${result.error.message}`;
      }
      const text = `lint rule ${rule.name}: ${rule.description.trim() || 'not satisfied'}`;
      findings.push({ severity: rule.severity, code: LINT_FINDING_CODE, message: failure ? `${text} (${failure})` : text, path: '', rule: { id: rule.id, name: rule.name } });
    }
    return findings;
  }
}
