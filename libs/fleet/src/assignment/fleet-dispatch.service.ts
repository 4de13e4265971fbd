import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, createLogger, JobProducer, NO_WORKER_WARNING, TenantLabels, WorkerPresence } from '@ampora/platform';
import { PushPath } from '@ampora/governance';
import { AGENT_DISPATCHER, AgentCap, AgentDispatcher, DispatchOutcome, hasCapability, pushRemoteConfigToMany } from '@ampora/opamp';
import { AgentRepository, DispatchTarget } from '../agents/agent.repository';
import { fromStoredFiles } from '../agents/domain/stored-config';
import { DispatchAction, DispatchJob, FLEET_QUEUE } from '../fleet.jobs';
import { PushGate } from '../push-checks/push-gate.service';

/** Agents whose ids are listed in a report, at most (the count is always exact). */
export const REPORT_ID_LIMIT = 1000;
/** Pushes in flight at once during an inline dispatch. */
const CONCURRENCY = 32;
/** Agents per paced job, at most. */
const MAX_JOB_AGENTS = 1000;
/** Agents of one config pushed in one batch (one envelope per owning instance; decision 0390). */
const PUSH_BATCH = 1000;

export type OutcomeCounts = Record<DispatchOutcome, number>;

/**
 * What happened to a dispatch: pushed now (`inline`, with the dispatcher's outcomes) or handed to
 * the worker (`paced`, in slices of the per-second rate). Agents that do not accept remote config
 * (from their last reported capabilities) are always named: they keep the assignment, never get it
 * pushed, and are never silently dropped.
 */
export interface DispatchReport {
  agents: number;
  mode: 'none' | 'inline' | 'paced';
  outcomes: OutcomeCounts;
  /** Agents without an assigned config to push (nothing was sent to them). */
  unassigned: number;
  pacedJobs: number;
  /** Roughly how long a paced dispatch takes to reach every agent. */
  estimatedSeconds: number;
  notAcceptingRemoteConfig: string[];
  notAcceptingRemoteConfigCount: number;
  /** `no_worker`: the dispatch was paced while no worker was alive; it waits until one runs. */
  warnings: string[];
  /** Agents a push-time check (a policy) denied: not pushed; their denial is on the agent (decision 0275). */
  deniedByPolicy: Array<{ agentId: string; policyId: string; policyName: string; reason: string }>;
  deniedByPolicyCount: number;
}

const zero = (): OutcomeCounts => ({ delivered: 0, queued: 0, unchanged: 0, no_session: 0, cap_mismatch: 0, unconfirmed: 0 });

export function emptyReport(): DispatchReport {
  return { agents: 0, mode: 'none', outcomes: zero(), unassigned: 0, pacedJobs: 0, estimatedSeconds: 0, notAcceptingRemoteConfig: [], notAcceptingRemoteConfigCount: 0, warnings: [], deniedByPolicy: [], deniedByPolicyCount: 0 };
}

/**
 * Reaches agents through the AGENT_DISPATCHER: their assigned config (from their row, read at push
 * time, so a late slice never pushes an outdated config), or a disconnect. Small sets are reached at
 * once; large ones (and every bulk force-push) are paced by the worker at AMPORA_FLEET_DISPATCH_RATE
 * agents per second.
 */
@Injectable()
export class FleetDispatchService {
  private readonly log = createLogger('Ampora.Fleet.Assignment.FleetDispatchService');

  constructor(
    private readonly agents: AgentRepository,
    private readonly producer: JobProducer,
    private readonly workers: WorkerPresence,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly gate: PushGate,
  ) {}

  /** Pushes the assigned config of `agentIds` now when they are few, paced otherwise. */
  async pushAssigned(tenantId: string, agentIds: string[], reason: string, options: { force?: boolean; path?: PushPath } = {}): Promise<DispatchReport> {
    if (agentIds.length === 0) return emptyReport();
    const action: DispatchAction = options.force ? 'force-push' : 'push';
    const { allowed, denials } = await this.screen(tenantId, agentIds, options.path ?? (options.force ? 'force-push' : 'group-assignment'));
    const report = allowed.length === 0 ? emptyReport() : allowed.length <= this.config.fleet.inlinePushMax ? await this.run(tenantId, action, allowed, reason) : await this.pace(tenantId, action, allowed, reason, { screened: true });
    return withDenials(report, denials);
  }

  /** The push-time checks, once for all the agents: those that may be pushed, and the denials. */
  private async screen(tenantId: string, agentIds: string[], path: PushPath): Promise<{ allowed: string[]; denials: DispatchReport['deniedByPolicy'] }> {
    const denied = await this.gate.screen({ tenantId, path, agentIds });
    if (denied.size === 0) return { allowed: agentIds, denials: [] };
    this.log.info('{Denied} of {Agents} agents were not pushed: a push-time check denied them', { Denied: denied.size, Agents: agentIds.length, Tenant: TenantLabels.of(tenantId) });
    return { allowed: agentIds.filter((id) => !denied.has(id)), denials: [...denied].map(([agentId, d]) => ({ agentId, policyId: d.policyId, policyName: d.policyName, reason: d.reason })) };
  }

  /** Hands a dispatch to the worker, one job per second's worth of agents. */
  async pace(tenantId: string, action: DispatchAction, agentIds: string[], reason: string, options: { screened?: boolean } = {}): Promise<DispatchReport> {
    if (action === 'force-push' && !options.screened) {
      const { allowed, denials } = await this.screen(tenantId, agentIds, 'force-push');
      return withDenials(allowed.length ? await this.pace(tenantId, action, allowed, reason, { screened: true }) : emptyReport(), denials);
    }
    const report = emptyReport();
    report.agents = agentIds.length;
    report.mode = 'paced';
    if (action !== 'disconnect') await this.noteNonAccepting(agentIds, report);
    const perSecond = this.config.fleet.dispatchRatePerSecond;
    const size = Math.min(perSecond, MAX_JOB_AGENTS);
    const intervalMs = Math.round((size / perSecond) * 1000);
    for (let i = 0, slice = 0; i < agentIds.length; i += size, slice++) {
      const payload: DispatchJob = { action, agentIds: agentIds.slice(i, i + size), reason };
      await this.producer.enqueue(FLEET_QUEUE.name, FLEET_QUEUE.jobs.dispatch, payload, { tenantId, delay: slice * intervalMs });
      report.pacedJobs += 1;
    }
    report.estimatedSeconds = Math.ceil(agentIds.length / perSecond);
    if (!(await this.workers.alive())) {
      report.warnings.push(NO_WORKER_WARNING);
      this.log.warn('No worker is alive: the paced {Action} of {Agents} agents waits in the queue until one runs ({Reason})', { Action: action, Agents: agentIds.length, Reason: reason, Tenant: TenantLabels.of(tenantId) });
    }
    this.log.info('Paced {Action} of {Agents} agents in {Jobs} jobs ({Reason})', { Action: action, Agents: agentIds.length, Jobs: report.pacedJobs, Reason: reason, Tenant: TenantLabels.of(tenantId) });
    return report;
  }

  /** Reaches the agents now (inline, or one paced slice in the worker). */
  async run(tenantId: string, action: DispatchAction, agentIds: string[], reason: string): Promise<DispatchReport> {
    const report = emptyReport();
    report.agents = agentIds.length;
    report.mode = 'inline';
    const targets = (await this.agents.dispatchTargets(agentIds)).filter((t) => t.tenantId === tenantId);
    if (action !== 'disconnect') this.noteTargets(targets, report);
    const count = (o: DispatchOutcome | 'unassigned') => {
      if (o === 'unassigned') report.unassigned += 1;
      else report.outcomes[o] += 1;
    };
    if (action === 'disconnect') {
      for (let i = 0; i < targets.length; i += CONCURRENCY) (await Promise.all(targets.slice(i, i + CONCURRENCY).map((t) => this.dispatcher.disconnect({ agentId: t.id, tenantId: t.tenantId }, reason)))).forEach(count);
    } else {
      // agents assigned the same config are pushed together: one batch per owning instance (decision 0390)
      const byHash = new Map<string, DispatchTarget[]>();
      for (const t of targets) {
        if (!t.assignedConfig || !t.assignedConfigHash) {
          count('unassigned');
          continue;
        }
        const list = byHash.get(t.assignedConfigHash) ?? [];
        list.push(t);
        byHash.set(t.assignedConfigHash, list);
      }
      for (const [hash, list] of byHash) {
        const config = { files: fromStoredFiles(list[0]!.assignedConfig!), hash };
        for (let i = 0; i < list.length; i += PUSH_BATCH) {
          const slice = list.slice(i, i + PUSH_BATCH);
          (await pushRemoteConfigToMany(this.dispatcher, slice.map((t) => ({ agentId: t.id, tenantId: t.tenantId })), config, { force: action === 'force-push' })).forEach(count);
        }
      }
    }
    this.log.debug('{Action} reached {Agents} agents: {Outcomes} ({Reason})', { Action: action, Agents: targets.length, Outcomes: JSON.stringify(report.outcomes), Reason: reason });
    return report;
  }

  private async noteNonAccepting(agentIds: string[], report: DispatchReport): Promise<void> {
    for (let i = 0; i < agentIds.length; i += 5000) this.noteTargets(await this.agents.capabilitiesOf(agentIds.slice(i, i + 5000)), report);
  }

  private noteTargets(targets: Array<Pick<DispatchTarget, 'id' | 'capabilities'>>, report: DispatchReport): void {
    for (const t of targets) {
      if (hasCapability(BigInt(t.capabilities), AgentCap.AcceptsRemoteConfig)) continue;
      report.notAcceptingRemoteConfigCount += 1;
      if (report.notAcceptingRemoteConfig.length < REPORT_ID_LIMIT) report.notAcceptingRemoteConfig.push(t.id);
    }
  }
}

function withDenials(report: DispatchReport, denials: DispatchReport['deniedByPolicy']): DispatchReport {
  report.deniedByPolicyCount = denials.length;
  report.deniedByPolicy = denials.slice(0, REPORT_ID_LIMIT);
  return report;
}
