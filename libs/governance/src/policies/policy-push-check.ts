import { Injectable } from '@nestjs/common';
import { Expression } from '@ampora/dsl';
import { Metrics, TenantLabels, withSpanSync } from '@ampora/platform';
import { AuditService } from '../audit/audit.service';
import { ActivePolicy, PolicyEvaluation, PushDecision, PushEvaluator, TenantPolicySettings } from '../domain/policy/policy-evaluation';
import { configView, ConfigView, PushContext } from '../domain/policy/push-context';
import { TenantService } from '../tenants/tenant.service';
import { PolicyRepository } from './policy.repository';
import { PushCheckRequest, PushCheckResult, PushDenial, PushTimeCheck } from './push-time-check';

export const POLICY_CHECK_NAME = 'policies';

const EMPTY_AGENT = { id: '', description: {}, capabilities: [], group: null, labels: {} };

/** What one evaluation pass loaded once for a tenant: settings and the compiled Active policies. */
export interface LoadedPolicies {
  /** The tenant's name: what a policy's `tenant` is, in every process (decision 0369). */
  tenantName: string;
  settings: TenantPolicySettings;
  policies: ActivePolicy[];
}

/**
 * Governance's push-time check (decision 0262): the built-ins and the tenant's Active policies for
 * every agent of a push. A deny in `required` mode blocks that agent; in `shadow` mode it is only
 * recorded. Every deny writes one audit event `Policy.Denied` referencing the agent.
 */
@Injectable()
export class PolicyPushCheck implements PushTimeCheck {
  readonly name = POLICY_CHECK_NAME;

  constructor(
    private readonly repository: PolicyRepository,
    private readonly audit: AuditService,
    private readonly tenants: TenantService,
  ) {}

  async load(tenantId: string): Promise<LoadedPolicies> {
    const [tenant, settings, rows] = await Promise.all([this.tenants.findById(tenantId), this.repository.settings(tenantId), this.repository.active(tenantId)]);
    // never the id in place of the name (a process that has not learned the name yet): no tenant, no push
    if (!tenant) throw new Error(`tenant ${tenantId} does not exist: its push cannot be checked`);
    const policies = rows.map((r) => {
      const compiled = Expression.compile(r.expression);
      return { id: r.id, name: r.name, expression: r.expression, ...(compiled.ok ? { compiled: compiled.expression } : {}) };
    });
    return { tenantName: tenant.name, settings, policies };
  }

  async check(request: PushCheckRequest): Promise<PushCheckResult> {
    const loaded = await this.load(request.tenantId);
    const tenant = TenantLabels.of(request.tenantId);
    const next = configView(request.config);
    // one evaluator for the push: policies compiled once, what every agent shares evaluated once
    const evaluator = this.evaluator(loaded, { agent: EMPTY_AGENT, config: next, tenant: loaded.tenantName });
    // agents on the same current config share one parsed document (the gate reads one per hash): one view each
    const views = new Map<unknown, ConfigView>();
    const viewOf = (doc: unknown) => views.get(doc) ?? views.set(doc, configView(doc)).get(doc)!;
    const decisions = request.targets.map((t) => ({ agentId: t.agent.id, decision: evaluator.decide(t.agent, t.currentConfig === undefined ? undefined : viewOf(t.currentConfig)) }));
    this.observe(tenant, decisions.map((d) => d.decision));

    const denied = new Map<string, PushDenial>();
    for (const { agentId, decision } of decisions) {
      if (!decision.denial) continue;
      const denial = toDenial(decision.denial);
      if (!decision.allowed) denied.set(agentId, denial);
      await this.audit.record(undefined, {
        tenantId: request.tenantId,
        entityType: 'Policy',
        entityId: decision.denial.policyId,
        action: 'Denied',
        consequence: true,
        additional: { agentId, policyName: denial.policyName, reason: denial.reason, mode: decision.mode, blocked: !decision.allowed, path: request.path, versionId: request.versionId ?? null, rolloutId: request.rolloutId ?? null },
      });
    }
    return { denied };
  }

  /** Evaluates one agent's push (also the dry run's path, so the two agree). */
  decide(loaded: LoadedPolicies, context: PushContext, current: ConfigView | undefined): PushDecision {
    return this.evaluator(loaded, context).decide(context.agent, current);
  }

  private evaluator(loaded: LoadedPolicies, context: PushContext): PushEvaluator {
    return new PushEvaluator({ context, policies: loaded.policies, settings: loaded.settings, now: () => performance.now() });
  }

  /**
   * Metrics per evaluation, and one `policy.evaluate` span per policy per push (not per agent: a
   * step of 10,000 agents would otherwise emit 200,000 spans), with the worst outcome.
   */
  observe(tenant: string, decisions: PushDecision[]): void {
    const perPolicy = new Map<string, { allow: number; deny: number }>();
    for (const d of decisions) {
      for (const e of d.evaluations) {
        // a duration is recorded for each evaluation that ran (an outcome shared by the push's agents ran once)
        if (!e.cached) Metrics.record('ampora_policy_evaluation_duration_seconds', e.durationMs / 1000, { tenant, policy: e.policyName });
        const counts = perPolicy.get(e.policyName) ?? { allow: 0, deny: 0 };
        counts[e.outcome] += 1;
        perPolicy.set(e.policyName, counts);
      }
    }
    // counters are added once per policy and outcome (a step of 10,000 agents is one add, not 10,000)
    for (const [policy, counts] of perPolicy) {
      if (counts.allow) Metrics.add('ampora_policy_evaluations_total', counts.allow, { tenant, policy, outcome: 'allow' });
      if (counts.deny) {
        Metrics.add('ampora_policy_evaluations_total', counts.deny, { tenant, policy, outcome: 'deny' });
        Metrics.add('ampora_policy_denied_total', counts.deny, { tenant, policy });
      }
      withSpanSync('policy.evaluate', { attributes: { 'policy.name': policy, outcome: counts.deny ? 'deny' : 'allow', 'ampora.policy.agents': counts.allow + counts.deny, 'ampora.policy.denied': counts.deny } }, () => undefined);
    }
  }
}

function toDenial(e: PolicyEvaluation): PushDenial {
  return { check: POLICY_CHECK_NAME, policyId: e.policyId, policyName: e.policyName, reason: e.reason ?? 'denied' };
}

