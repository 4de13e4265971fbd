import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, LiveBus, Metrics, Principal, RequestContext, TenantLabels } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { RevocationService } from '@ampora/pki';
import { BootstrapTokenRepository } from '../bootstrap/bootstrap-token.repository';
import { FleetTransactions } from '../fleet-transactions';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { AgentRepository, ForgettableAgent } from './agent.repository';
import { pastRetention, retentionCutoff } from './domain/agent-retention';

/** The close reason an agent sees when it is forgotten. */
export const AGENT_FORGOTTEN_REASON = 'the agent was forgotten by an operator';

/** Actor of the retention sweep's audit events. */
export const RETENTION_ACTOR = 'system:agent-retention';

/** Agents forgotten per transaction (and per audit event) by the retention sweep. */
export const RETENTION_BATCH = 1000;

export type ForgetReason = 'operator' | 'retention';

export interface AgentForgetResult {
  agentId: string;
  certificatesRevoked: number;
  bootstrapTokensRevoked: number;
}

export interface BulkForgetResult {
  forgotten: number;
  certificatesRevoked: number;
  bootstrapTokensRevoked: number;
  skipped: Array<{ agentId: string; reason: 'not_found' }>;
}

interface Forgotten {
  agents: ForgettableAgent[];
  serialNumbers: string[];
  tokenIds: string[];
}

/**
 * Forgets agents (decision 0160): the agent row is deleted, its certificates are revoked through PKI,
 * the bootstrap token it enrolled with is revoked (so its instance uid cannot enrol again as a new
 * agent), its rollout targets go with it (the cascade), and its live session is closed on whichever
 * instance holds it (the `agent.forgotten` event reaches every instance). Certificates, tokens and
 * audit events stay, as history. One transaction and one audit event per request (or per batch of the
 * retention sweep).
 */
@Injectable()
export class AgentForgetService {
  private readonly log = createLogger('Ampora.Fleet.Agents.AgentForgetService');

  constructor(
    private readonly clock: Clock,
    private readonly agents: AgentRepository,
    private readonly tokens: BootstrapTokenRepository,
    private readonly revocations: RevocationService,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** `DELETE /api/agents/{id}`. */
  async forget(caller: Principal, id: string): Promise<AgentForgetResult> {
    const done = await this.tx.run(async ({ manager, afterCommit }) => {
      const f = await this.forgetWithin(manager, caller.tenantId, [id]);
      const agent = f.agents[0];
      if (!agent) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: id,
        action: 'Forgotten',
        before: describe(agent),
        additional: { certificatesRevoked: f.serialNumbers, bootstrapTokensRevoked: f.tokenIds },
      });
      afterCommit(() => this.announce(caller.tenantId, f, 'operator'));
      return f;
    });
    await this.publish(caller.tenantId, done.serialNumbers.length);
    return { agentId: id, certificatesRevoked: done.serialNumbers.length, bootstrapTokensRevoked: done.tokenIds.length };
  }

  /** `POST /api/agents/bulk/delete`: up to 1,000 agents; unknown ids are reported, not refused. */
  async forgetMany(caller: Principal, agentIds: string[]): Promise<BulkForgetResult> {
    const ids = [...new Set(agentIds)];
    const done = await this.tx.run(async ({ manager, afterCommit }) => {
      const f = await this.forgetWithin(manager, caller.tenantId, ids);
      const found = new Set(f.agents.map((a) => a.id));
      const skipped = ids.filter((x) => !found.has(x)).map((agentId) => ({ agentId, reason: 'not_found' as const }));
      // one event even when nothing was found: the attempt is the operator's action
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: 'bulk',
        action: 'Forgotten',
        after: { agents: f.agents.length, certificates: f.serialNumbers.length, bootstrapTokens: f.tokenIds.length },
        additional: { agentIds: [...found], count: found.size, skipped, serialNumbers: f.serialNumbers, bootstrapTokenIds: f.tokenIds },
      });
      afterCommit(() => this.announce(caller.tenantId, f, 'operator'));
      return { f, skipped };
    });
    await this.publish(caller.tenantId, done.f.serialNumbers.length);
    return { forgotten: done.f.agents.length, certificatesRevoked: done.f.serialNumbers.length, bootstrapTokensRevoked: done.f.tokenIds.length, skipped: done.skipped };
  }

  /**
   * The retention sweep (worker): forgets the agents of every tenant disconnected for longer than
   * AMPORA_AGENT_RETENTION_DAYS, a batch per transaction and audit event. Returns how many per tenant.
   */
  async forgetDeparted(): Promise<{ cutoff: string | null; forgotten: Record<string, number> }> {
    const cutoff = retentionCutoff(this.clock.now(), this.config.fleet.agentRetentionDays);
    const forgotten: Record<string, number> = {};
    if (!cutoff) return { cutoff: null, forgotten };
    for (;;) {
      const batch = await this.agents.departedBefore(cutoff, RETENTION_BATCH);
      if (batch.length === 0) break;
      const byTenant = new Map<string, string[]>();
      for (const a of batch) byTenant.set(a.tenantId, [...(byTenant.get(a.tenantId) ?? []), a.id]);
      let progressed = 0;
      for (const [tenantId, ids] of byTenant) {
        const f = await RequestContext.run({ tenantId }, () =>
          this.tx.run(async ({ manager, afterCommit }) => {
            // re-checked under the lock: an agent that reconnected meanwhile stays
            const f = await this.forgetWithin(manager, tenantId, ids, cutoff);
            if (f.agents.length === 0) return f;
            await this.audit.record(manager, {
              tenantId,
              actor: RETENTION_ACTOR,
              actorRole: null,
              entityType: 'Agent',
              entityId: 'bulk',
              action: 'Forgotten',
              after: { agents: f.agents.length, certificates: f.serialNumbers.length, bootstrapTokens: f.tokenIds.length },
              additional: { reason: 'retention', retentionDays: this.config.fleet.agentRetentionDays, disconnectedBefore: cutoff.toISOString(), agentIds: f.agents.map((a) => a.id), serialNumbers: f.serialNumbers, bootstrapTokenIds: f.tokenIds },
            });
            afterCommit(() => this.announce(tenantId, f, 'retention'));
            return f;
          }),
        );
        await this.publish(tenantId, f.serialNumbers.length);
        forgotten[tenantId] = (forgotten[tenantId] ?? 0) + f.agents.length;
        progressed += f.agents.length;
      }
      if (batch.length < RETENTION_BATCH || progressed === 0) break;
    }
    return { cutoff: cutoff.toISOString(), forgotten };
  }

  private async forgetWithin(manager: EntityManager, tenantId: string, ids: string[], disconnectedBefore?: Date): Promise<Forgotten> {
    const locked = await this.agents.lockForForget(manager, tenantId, ids);
    // the retention sweep's candidates are judged again under the lock: one that reconnected meanwhile stays
    const agents = disconnectedBefore ? locked.filter((a) => pastRetention(a, disconnectedBefore)) : locked;
    if (agents.length === 0) return { agents, serialNumbers: [], tokenIds: [] };
    const found = agents.map((a) => a.id);
    const certificates = await this.revocations.revokeWithin(manager, tenantId, found, 'cessationOfOperation');
    const tokenIds = await this.tokens.revokeForAgents(manager, tenantId, found, this.clock.now());
    await this.agents.deleteMany(manager, tenantId, found);
    return { agents, serialNumbers: certificates.map((c) => c.serialNumber), tokenIds };
  }

  /** After the commit: the revocations are counted and the CRL published soon (a failure there does not undo the forget). */
  private async publish(tenantId: string, revoked: number): Promise<void> {
    await this.revocations
      .publishRevocations(tenantId, revoked)
      .catch((error: unknown) => this.log.warn('Could not publish the CRL after revoking {Count} certificates of forgotten agents; the next publication lists them', { Count: revoked }, error));
  }

  private announce(tenantId: string, f: Forgotten, reason: ForgetReason): void {
    if (f.agents.length === 0) return;
    Metrics.add('ampora_fleet_agents_forgotten_total', f.agents.length, { tenant: TenantLabels.of(tenantId), reason });
    this.bus.publish<FleetEvent>({ type: FleetEvents.AgentsForgotten, tenantId, entityId: f.agents.length === 1 ? f.agents[0]!.id : undefined, payload: { agentIds: f.agents.map((a) => a.id), tokenIds: f.tokenIds, reason } });
    this.log.info('Forgot {Count} agents ({Reason}): {Certificates} certificates and {Tokens} bootstrap tokens revoked', {
      Count: f.agents.length,
      Reason: reason,
      Certificates: f.serialNumbers.length,
      Tokens: f.tokenIds.length,
    });
  }
}

/** What the audit event keeps of a forgotten agent. */
function describe(a: ForgettableAgent) {
  return { instanceUid: a.instanceUid, displayName: a.displayName, groupId: a.groupId, identityKind: a.identityKind, certFingerprint: a.certFingerprint, tags: a.tags };
}
