import { DEFAULT_DEADLINE_MS, Expression } from '@ampora/dsl';
import { highestRole, Role } from '../role';

/**
 * Tenant-defined approval rules (issue 17 item 2, decision 0365): "this operation, when this
 * condition holds, needs a second person of at least this role". Pure: which rules apply to one
 * operation and its context. A rule whose condition cannot be evaluated applies (fail closed).
 */

/** The operations a rule can gate: each is asked by the lib that owns it before it acts. */
export const ApprovalOperation = {
  RolloutStart: 'rollout.start',
  ConfigurationPublish: 'configuration.publish',
  GroupAssignment: 'group.assignment',
  AgentForcePush: 'agent.force-push',
  GitopsSourceEdit: 'gitops.source.edit',
} as const;
export type ApprovalOperation = (typeof ApprovalOperation)[keyof typeof ApprovalOperation];
export const APPROVAL_OPERATIONS = Object.values(ApprovalOperation) as [ApprovalOperation, ...ApprovalOperation[]];

/** The names a condition may read, per operation (anything else is refused when the rule is written). */
export const OPERATION_CONTEXT_ROOTS: Readonly<Record<ApprovalOperation, readonly string[]>> = {
  // rollout.{name, kind, strategy, version}, group.{name}, tenant, actor
  'rollout.start': ['rollout', 'group', 'tenant', 'actor'],
  // configuration.{id, name}, version.{id, number, warningCount}, tenant, actor (decision 0400)
  'configuration.publish': ['configuration', 'version', 'tenant', 'actor'],
  // group.{id, name, kind, members}, configuration.{id, name}, version.{id, number}, tenant, actor (decision 0401)
  'group.assignment': ['group', 'configuration', 'version', 'tenant', 'actor'],
  // agents.{count, ids, groups, labels}, configurations (names), tenant, actor (decision 0402)
  'agent.force-push': ['agents', 'configurations', 'tenant', 'actor'],
  // source.{id, name, repositoryUrl, branch, pathGlob, credentialKind, autoPublish, created}, tenant, actor — never the credential (decision 0403)
  'gitops.source.edit': ['source', 'tenant', 'actor'],
};

export const ApprovalRuleStatus = { Active: 'Active', Disabled: 'Disabled' } as const;
export type ApprovalRuleStatus = (typeof ApprovalRuleStatus)[keyof typeof ApprovalRuleStatus];
export const APPROVAL_RULE_STATUSES = Object.values(ApprovalRuleStatus) as [ApprovalRuleStatus, ...ApprovalRuleStatus[]];

/** The roles a rule may require of the deciding person (a Viewer cannot decide anything). */
export const APPROVAL_RULE_ROLES = [Role.Operator, Role.Admin] as const;

export interface ApprovalRuleDefinition {
  id: string;
  name: string;
  operation: string;
  /** Ampora-language condition over the operation's context; null: the rule always applies. */
  condition: string | null;
  requiredRole: Role;
  status: ApprovalRuleStatus;
}

export type ConditionCompile = { ok: true; expression: Expression | null } | { ok: false; message: string };

export function isApprovalOperation(value: string): value is ApprovalOperation {
  return (APPROVAL_OPERATIONS as readonly string[]).includes(value);
}

/** Compiles a rule's condition and refuses any name its operation's context does not have. */
export function compileCondition(operation: string, condition: string | null): ConditionCompile {
  if (!isApprovalOperation(operation)) return { ok: false, message: `unknown operation ${JSON.stringify(operation)}; one of ${APPROVAL_OPERATIONS.join(', ')}` };
  if (condition === null || condition.trim() === '') return { ok: true, expression: null };
  const compiled = Expression.compile(condition);
  if (!compiled.ok) return { ok: false, message: `the condition does not compile: ${compiled.error.message}` };
  const allowed = OPERATION_CONTEXT_ROOTS[operation];
  const foreign = compiled.expression.pathRoots().filter((r) => !allowed.includes(r));
  if (foreign.length) return { ok: false, message: `a ${operation} rule reads ${allowed.join(', ')}; it reads ${foreign.map((r) => JSON.stringify(r)).join(', ')}` };
  return { ok: true, expression: compiled.expression };
}

/** A rule that applies to one operation: why (its condition matched, it has none, or it failed closed). */
export interface AppliedRule {
  id: string;
  name: string;
  requiredRole: Role;
  /** Set when the condition could not be evaluated: the rule applies anyway (fail closed). */
  failedClosed?: string;
}

export interface RequiredApproval {
  /** The highest role any applying rule requires. */
  requiredRole: Role;
  rules: AppliedRule[];
}

/**
 * Which of the tenant's rules apply to `operation` with `context`: Active rules of that operation
 * whose condition matches (or that have none, or whose condition errs, fails to compile or runs
 * over the language's budget). Undefined when none applies: the operation goes ahead at once.
 */
export function requiredApproval(rules: readonly ApprovalRuleDefinition[], operation: ApprovalOperation, context: Record<string, unknown>, options: { now?: () => number; deadlineMs?: number } = {}): RequiredApproval | undefined {
  const applied: AppliedRule[] = [];
  for (const rule of rules) {
    if (rule.status !== ApprovalRuleStatus.Active || rule.operation !== operation) continue;
    const compiled = compileCondition(rule.operation, rule.condition);
    const base = { id: rule.id, name: rule.name, requiredRole: rule.requiredRole };
    if (!compiled.ok) {
      applied.push({ ...base, failedClosed: compiled.message });
      continue;
    }
    if (!compiled.expression) {
      applied.push(base);
      continue;
    }
    const result = compiled.expression.evaluate(context, { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS, ...(options.now ? { clock: options.now } : {}) });
    if (result.matched) applied.push(base);
    else if (result.error) applied.push({ ...base, failedClosed: result.error.message });
  }
  if (applied.length === 0) return undefined;
  return { requiredRole: highestRole(applied.map((r) => r.requiredRole)) ?? Role.Admin, rules: applied };
}
