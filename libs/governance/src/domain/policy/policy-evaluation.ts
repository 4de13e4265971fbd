import { Expression, DEFAULT_DEADLINE_MS } from '@ampora/dsl';
import { BuiltInPolicy, exporterSwapDenial, insecureExporterDenial } from './built-in-policies';
import { AgentView, ConfigView, PushContext } from './push-context';

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
  /** The tenant's four-eyes mode: lint-rule changes need a second person (decision 0300). Off by default. */
  fourEyes?: boolean;
}

export const DEFAULT_POLICY_SETTINGS: TenantPolicySettings = { mode: PolicyMode.Required, exporterSwap: true, insecureTlsExporter: true, fourEyes: false };

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
  /** The outcome was computed for an earlier agent of the same push (the same for every agent): no evaluation ran. */
  cached?: boolean;
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
  /** Reuse a per-agent policy's outcome for agents equal on what it reads (decision 0367); on unless false. */
  memoizeAgents?: boolean;
}

/**
 * Evaluates the built-ins and every Active custom policy for one agent's push. A custom policy
 * allows when its expression matches; a non-match, a parse or type error, a missing path or a budget
 * overrun is a deny (fail closed). Every policy is evaluated (for the record), even after a deny.
 */
export function evaluatePush(input: PushCheckInput): PushDecision {
  return new PushEvaluator(input).decide(input.context.agent, input.current);
}

/** The context names whose value is the same for every agent of one push. */
const SHARED_ROOTS = new Set(['config', 'tenant']);

type Verdict = { reason?: string; failedClosed?: boolean };

/**
 * One push's evaluator, for all its agents (decision 0304): each policy is compiled once, and what
 * cannot differ between the agents of the push is evaluated once — a policy reading only `config.*`
 * and `tenant`, the TLS-insecure built-in (the pushed config's), the exporter swap per distinct
 * current config (by identity). Later agents get the same outcome, marked `cached` (no duration).
 */
export class PushEvaluator {
  private readonly policies: PreparedPolicy[];
  /** Outcomes shared by the push's agents: computed for the first, the same (cached) object for the others. */
  private readonly shared = new Map<string, PolicyEvaluation>();
  private readonly swaps = new WeakMap<ConfigView, PolicyEvaluation>();

  constructor(private readonly input: Omit<PushCheckInput, 'current'>) {
    this.policies = input.policies.map((policy) => {
      const compiled = policy.compiled ? { ok: true as const, expression: policy.compiled } : Expression.compile(policy.expression);
      if (!compiled.ok) return { policy, compiled: undefined, error: compiled.error.message, shared: true };
      const expression = compiled.expression;
      if (expression.pathRoots().every((r) => SHARED_ROOTS.has(r))) return { policy, compiled: expression, shared: true };
      return { policy, compiled: expression, shared: false, ...(input.memoizeAgents === false ? {} : agentKeyOf(expression)) };
    });
  }

  decide(agent: AgentView, current?: ConfigView): PushDecision {
    const { settings } = this.input;
    const context: PushContext = { ...this.input.context, agent };
    const evaluations: PolicyEvaluation[] = [];
    if (settings.exporterSwap) {
      const run = () => this.timed(BuiltInPolicy.ExporterSwap, BuiltInPolicy.ExporterSwap, () => ({ reason: exporterSwapDenial(current, context.config) }));
      if (!current) evaluations.push(this.once(`${BuiltInPolicy.ExporterSwap}:no-current`, run));
      else {
        const known = this.swaps.get(current);
        if (known) evaluations.push(known);
        else {
          const fresh = run();
          this.swaps.set(current, cached(fresh));
          evaluations.push(fresh);
        }
      }
    }
    if (settings.insecureTlsExporter) evaluations.push(this.once(BuiltInPolicy.InsecureTlsExporter, () => this.timed(BuiltInPolicy.InsecureTlsExporter, BuiltInPolicy.InsecureTlsExporter, () => ({ reason: insecureExporterDenial(context.config) }))));
    for (const entry of this.policies) {
      const { policy } = entry;
      const run = () =>
        this.timed(policy.id, policy.name, () => {
          if (!entry.compiled) return { reason: `policy ${policy.name} does not compile: ${entry.error}`, failedClosed: true };
          const result = entry.compiled.evaluate(context, { deadlineMs: this.input.deadlineMs ?? DEFAULT_DEADLINE_MS, clock: this.input.now });
          if (result.error) return { reason: `policy ${policy.name} failed closed: ${result.error.message}`, failedClosed: true };
          return result.matched ? {} : { reason: `policy ${policy.name} denies this push` };
        });
      evaluations.push(entry.shared ? this.once(policy.id, run) : this.perAgent(entry, agent, run));
    }
    const denial = evaluations.find((e) => e.outcome === 'deny');
    return { allowed: !denial || settings.mode === PolicyMode.Shadow, mode: settings.mode, evaluations, ...(denial ? { denial } : {}) };
  }

  /**
   * A policy that reads the agent: agents equal on every agent path it reads (and sharing the push's
   * config and tenant) get the same outcome, evaluated once (decision 0367). A policy whose keys
   * turn out all distinct (it reads `agent.id` or a per-agent label) stops being remembered.
   */
  private perAgent(entry: PreparedPolicy, agent: AgentView, run: () => PolicyEvaluation): PolicyEvaluation {
    const memo = entry.memo;
    if (!entry.agentPaths || !memo || memo.off) return run();
    const key = agentKey(agent, entry.agentPaths);
    const known = memo.outcomes.get(key);
    if (known) {
      memo.hits++;
      return known;
    }
    const fresh = run();
    memo.outcomes.set(key, cached(fresh));
    if (memo.hits === 0 && memo.outcomes.size >= MEMO_PROBE) {
      memo.off = true;
      memo.outcomes.clear();
    }
    return fresh;
  }

  private once(key: string, run: () => PolicyEvaluation): PolicyEvaluation {
    const known = this.shared.get(key);
    if (known) return known;
    const fresh = run();
    this.shared.set(key, cached(fresh));
    return fresh;
  }

  private timed(policyId: string, policyName: string, run: () => Verdict): PolicyEvaluation {
    const start = this.input.now();
    let result: Verdict;
    try {
      result = run();
    } catch (error) {
      result = { reason: `the policy failed: ${error instanceof Error ? error.message : String(error)}`, failedClosed: true };
    }
    return { policyId, policyName, outcome: result.reason === undefined ? 'allow' : 'deny', ...result, durationMs: this.input.now() - start };
  }
}

interface PreparedPolicy {
  policy: ActivePolicy;
  compiled: Expression | undefined;
  error?: string;
  /** Reads only what every agent of the push shares (config, tenant): evaluated once per push. */
  shared: boolean;
  /** The agent paths it reads (below `agent`), when its outcome depends on nothing else of the agent. */
  agentPaths?: string[][];
  memo?: { outcomes: Map<string, PolicyEvaluation>; hits: number; off: boolean };
}

/** Distinct agents remembered before a policy whose outcomes never repeat stops being remembered. */
const MEMO_PROBE = 256;

/** What of the agent a policy reads, when that is known (no `$`, no bare `agent`): the key of its per-agent memo. */
function agentKeyOf(expression: Expression): Pick<PreparedPolicy, 'agentPaths' | 'memo'> {
  const prefixes = expression.namePrefixes();
  // a path reading the whole context, or a root the push context does not have the same for every agent
  if (prefixes.some((p) => p.length === 0 || (p[0] !== 'agent' && !SHARED_ROOTS.has(p[0]!)))) return {};
  const agentPaths = prefixes.filter((p) => p[0] === 'agent').map((p) => p.slice(1));
  // reading the whole agent (`agent has-key …`, `len(agent)`) or its id: every agent differs
  if (agentPaths.some((p) => p.length === 0 || p[0] === 'id')) return {};
  return { agentPaths, memo: { outcomes: new Map(), hits: 0, off: false } };
}

const MISSING = '\u0000missing';

/** The values of `paths` in the agent, as one string (a missing path differs from `null`). */
function agentKey(agent: AgentView, paths: string[][]): string {
  const parts: string[] = [];
  for (const path of paths) {
    let v: unknown = agent;
    for (const name of path) {
      v = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, name) ? (v as Record<string, unknown>)[name] : MISSING;
      if (v === MISSING) break;
    }
    parts.push(v === MISSING ? MISSING : JSON.stringify(v) ?? 'undefined');
  }
  return parts.join('\u0001');
}

function cached(e: PolicyEvaluation): PolicyEvaluation {
  return Object.freeze({ ...e, durationMs: 0, cached: true });
}
