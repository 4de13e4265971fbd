import { Expression, DEFAULT_DEADLINE_MS } from '@ampora/dsl';
import { BuiltInPolicy, exporterSwapDenial, insecureExporterDenial } from './built-in-policies';
import { ConfigView, PushContext } from './push-context';

/** `required`: a deny blocks the push; `shadow`: evaluated and recorded, never blocks. */
export const PolicyMode = { Required: 'required', Shadow: 'shadow' } as const;
export type PolicyMode = (typeof PolicyMode)[keyof typeof PolicyMode];

/** An Active custom policy, ready to evaluate. Its expression states what an allowed push looks like. */
export interface ActivePolicy {
  id: string;
  name: string;
  expression: string;
  /** The expression compiled once (callers evaluating many agents pass it). */
  compiled?: Expression;
}

export interface TenantPolicySettings {
  mode: PolicyMode;
  exporterSwap: boolean;
  insecureTlsExporter: boolean;
}

export const DEFAULT_POLICY_SETTINGS: TenantPolicySettings = { mode: PolicyMode.Required, exporterSwap: true, insecureTlsExporter: true };

export type PolicyOutcome = 'allow' | 'deny';

export interface PolicyEvaluation {
  /** Policy id, or the built-in's name (`builtin:exporter-swap`). */
  policyId: string;
  policyName: string;
  outcome: PolicyOutcome;
  reason?: string;
  /** True when the deny comes from an error or a budget overrun (fail closed). */
  failedClosed?: boolean;
  durationMs: number;
}

export interface PushDecision {
  /** False only when a policy denied and the tenant's mode is `required`. */
  allowed: boolean;
  mode: PolicyMode;
  evaluations: PolicyEvaluation[];
  /** The first deny, if any (what a blocked push stores and shows). */
  denial?: PolicyEvaluation;
}

export interface PushCheckInput {
  context: PushContext;
  /** The configuration the agent runs today (for the exporter swap), when known. */
  current?: ConfigView;
  policies: readonly ActivePolicy[];
  settings: TenantPolicySettings;
  /** Monotonic milliseconds (durations and the evaluation budget). */
  now: () => number;
  deadlineMs?: number;
}

/**
 * Evaluates the built-ins and every Active custom policy for one agent's push. A custom policy
 * allows when its expression matches; a non-match, a parse or type error, a missing path or a budget
 * overrun is a deny (fail closed). Every policy is evaluated (for the record), even after a deny.
 */
export function evaluatePush(input: PushCheckInput): PushDecision {
  const { context, current, policies, settings, now } = input;
  const evaluations: PolicyEvaluation[] = [];
  const timed = (policyId: string, policyName: string, run: () => { reason?: string; failedClosed?: boolean }) => {
    const start = now();
    let result: { reason?: string; failedClosed?: boolean };
    try {
      result = run();
    } catch (error) {
      result = { reason: `the policy failed: ${error instanceof Error ? error.message : String(error)}`, failedClosed: true };
    }
    evaluations.push({ policyId, policyName, outcome: result.reason === undefined ? 'allow' : 'deny', ...result, durationMs: now() - start });
  };
  if (settings.exporterSwap) timed(BuiltInPolicy.ExporterSwap, BuiltInPolicy.ExporterSwap, () => ({ reason: exporterSwapDenial(current, context.config) }));
  if (settings.insecureTlsExporter) timed(BuiltInPolicy.InsecureTlsExporter, BuiltInPolicy.InsecureTlsExporter, () => ({ reason: insecureExporterDenial(context.config) }));
  for (const policy of policies) {
    timed(policy.id, policy.name, () => {
      const compiled = policy.compiled ? { ok: true as const, expression: policy.compiled } : Expression.compile(policy.expression);
      if (!compiled.ok) return { reason: `policy ${policy.name} does not compile: ${compiled.error.message}`, failedClosed: true };
      const result = compiled.expression.evaluate(context, { deadlineMs: input.deadlineMs ?? DEFAULT_DEADLINE_MS, clock: now });
      if (result.error) return { reason: `policy ${policy.name} failed closed: ${result.error.message}`, failedClosed: true };
      return result.matched ? {} : { reason: `policy ${policy.name} denies this push` };
    });
  }
  const denial = evaluations.find((e) => e.outcome === 'deny');
  return { allowed: !denial || settings.mode === PolicyMode.Shadow, mode: settings.mode, evaluations, ...(denial ? { denial } : {}) };
}
