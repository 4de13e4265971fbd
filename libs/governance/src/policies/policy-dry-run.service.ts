import { Inject, Injectable } from '@nestjs/common';
import { parse } from 'yaml';
import { AMPORA_CONFIG, AmporaConfig, PlatformException, Principal } from '@ampora/platform';
import { evaluatePush } from '../domain/policy/policy-evaluation';
import { AgentView, configView } from '../domain/policy/push-context';
import { GovernanceErrorCode, GovernanceException } from '../governance.errors';
import { PolicyPushCheck } from './policy-push-check';
import { PolicyService } from './policy.service';
import { DryRunSubject } from './push-context-source';
import { PushContextBinding } from './push-time-checks';

export interface DryRunInput {
  agentId?: string;
  versionId?: string;
  yaml?: string;
  currentYaml?: string;
  agent?: AgentView;
}

/**
 * `POST /api/policies/{id}/evaluate`: this policy's answer for one agent and configuration, and
 * whether the real push would be blocked, computed by the same code as the push-time check.
 */
@Injectable()
export class PolicyDryRunService {
  constructor(
    private readonly policies: PolicyService,
    private readonly check: PolicyPushCheck,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly binding: PushContextBinding,
  ) {}

  async evaluate(p: Principal, id: string, input: DryRunInput) {
    const policy = await this.policies.get(p.tenantId, id);
    const subject = await this.subject(p, input);
    const context = { agent: subject.agent, config: configView(subject.config), tenant: subject.tenantName };
    const current = subject.currentConfig === undefined ? undefined : configView(subject.currentConfig);
    const loaded = await this.check.load(p.tenantId);
    const own = evaluatePush({ context, current, policies: [{ id: policy.id, name: policy.name, expression: policy.expression }], settings: { ...loaded.settings, exporterSwap: false, insecureTlsExporter: false }, now: () => performance.now() });
    const real = this.check.decide(loaded, context, current);
    const mine = own.evaluations[0]!;
    return {
      outcome: mine.outcome,
      reason: mine.reason ?? null,
      wouldBlock: !real.allowed,
      mode: real.mode,
      evaluations: real.evaluations.map((e) => ({ policyId: e.policyId, policyName: e.policyName, outcome: e.outcome, reason: e.reason ?? null, failedClosed: e.failedClosed ?? false })),
    };
  }

  private async subject(p: Principal, input: DryRunInput): Promise<DryRunSubject> {
    if (input.agentId !== undefined && input.versionId !== undefined) {
      const source = this.binding.source;
      if (!source) throw new GovernanceException(GovernanceErrorCode.PUSH_CONTEXT_UNAVAILABLE, 'This deployment cannot resolve agents and configuration versions for a dry run yet; send the configuration inline (yaml, agent, currentYaml)');
      const found = await source.resolve(p.tenantId, input.agentId, input.versionId);
      if (!found) throw PlatformException.notFound('Agent or configuration version', `${input.agentId}/${input.versionId}`);
      return found;
    }
    const agent: AgentView = input.agent ?? { id: 'dry-run', description: {}, capabilities: [], group: null, labels: {} };
    return { tenantName: p.tenantName, agent, config: this.parse(input.yaml ?? '', 'yaml'), ...(input.currentYaml !== undefined ? { currentConfig: this.parse(input.currentYaml, 'currentYaml') } : {}) };
  }

  private parse(text: string, field: string): unknown {
    if (Buffer.byteLength(text) > this.config.limits.configMaxBytes) throw PlatformException.validation([{ field, message: `longer than ${this.config.limits.configMaxBytes} bytes` }]);
    try {
      return parse(text, { maxAliasCount: this.config.limits.configMaxAliases });
    } catch (error) {
      throw PlatformException.validation([{ field, message: `not valid YAML: ${(error as Error).message}` }]);
    }
  }
}
