import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AMPORA_CONFIG, AmporaConfig, Backplane, Clock, createLogger, injectTraceContext, Metrics, Span, SpanKind, TenantLabels, withSpan } from '@ampora/platform';
import type { ConnectionSettingsOffers } from '../generated/opamp_pb';
import { SessionRegistry } from '../core/session-registry';
import { Lease, SessionOwnershipRepository } from '../ownership/session-ownership.repository';
import type { DesiredConfig } from '../ports';
import { AgentDispatcher, DispatchOutcome, DispatchTarget, PushOptions } from './agent-dispatcher';
import {
  connectionSettingsCommand,
  DISPATCH_BATCH_REPLY_TOPIC,
  DISPATCH_BATCH_TOPIC,
  DISPATCH_REPLY_TOPIC,
  DISPATCH_TOPIC,
  DispatchCommand,
  DispatchBatchEnvelope,
  DispatchEnvelope,
  parseBatchReply,
  parseReply,
  ReceiverOutcome,
  remoteConfigCommand,
} from './dispatch-envelope';
import { LocalDelivery } from './local-delivery';
import { sendToInstance } from '../opamp.events';

/** Agents per batch envelope, at most (a bulk push to one instance travels in envelopes of this size). */
export const BATCH_AGENTS = 1000;

/**
 * The dispatcher of every process. It looks up who holds the agent's session (the lease): this
 * instance → delivered here; another instance (or this process holds no sessions, like the worker)
 * → an envelope over the backplane, and the answer of the instance that delivered it; nobody → the
 * push is counted as `no_session` (the agent gets its assigned config when it connects). When the
 * receiver no longer holds the session the lease is looked up once more and the push follows it.
 */
@Injectable()
export class BackplaneDispatcher implements AgentDispatcher, OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.OpAmp.Dispatch.BackplaneDispatcher');
  private readonly pending = new Map<string, (outcome: ReceiverOutcome) => void>();
  private readonly pendingBatches = new Map<string, (outcomes: ReceiverOutcome[] | undefined) => void>();
  private stopListening?: () => void;
  private stopListeningBatches?: () => void;
  private lastMisconfigWarning = 0;

  constructor(
    private readonly registry: SessionRegistry,
    private readonly delivery: LocalDelivery,
    private readonly leases: SessionOwnershipRepository,
    private readonly backplane: Backplane,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onModuleInit(): void {
    this.stopListening = this.backplane.on(DISPATCH_REPLY_TOPIC, (body) => {
      const reply = parseReply(body);
      if (reply) this.pending.get(reply.id)?.(reply.outcome);
    });
    this.stopListeningBatches = this.backplane.on(DISPATCH_BATCH_REPLY_TOPIC, (body) => {
      const reply = parseBatchReply(body);
      if (reply) this.pendingBatches.get(reply.id)?.(reply.outcomes);
    });
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    this.stopListeningBatches?.();
    for (const resolve of [...this.pending.values()]) resolve('unconfirmed');
    for (const resolve of [...this.pendingBatches.values()]) resolve(undefined);
  }

  pushRemoteConfig(target: DispatchTarget, config: DesiredConfig, options: PushOptions = {}): Promise<DispatchOutcome> {
    return this.dispatch(target, remoteConfigCommand(config, options.force ?? false, options.since));
  }

  /**
   * One config to many agents (decision 0390): the leases in one statement, the agents held here
   * delivered at once, the others sent as one envelope per owning instance (at most BATCH_AGENTS
   * agents each) and answered agent by agent. An agent whose receiver no longer holds it (`stale`)
   * is pushed again on its own, which follows its lease as a single push does.
   */
  pushRemoteConfigMany(targets: DispatchTarget[], config: DesiredConfig, options: PushOptions = {}): Promise<DispatchOutcome[]> {
    if (targets.length === 0) return Promise.resolve([]);
    const command = remoteConfigCommand(config, options.force ?? false, options.since);
    return withSpan('opamp.dispatch.batch', { kind: SpanKind.PRODUCER, attributes: { 'dispatch.kind': command.kind, 'dispatch.agents': targets.length } }, async (span) => {
      const outcomes: DispatchOutcome[] = targets.map(() => 'no_session');
      const leases = await this.leases.owners(targets.map((t) => t.agentId));
      // instance and tenant → the indexes of the targets it holds
      const remote = new Map<string, { instanceId: string; tenantId: string; indexes: number[] }>();
      let local = 0;
      targets.forEach((target, i) => {
        const lease = leases.get(target.agentId);
        const session = this.registry.get(target.agentId);
        if (session && !session.closed && (session.fencingToken === undefined || lease?.instanceId === this.config.app.instanceId)) {
          const outcome = this.delivery.deliver(session, command);
          outcomes[i] = outcome;
          if (outcome !== 'cap_mismatch') Metrics.add('ampora_dispatch_local_total', 1, { tenant: TenantLabels.of(target.tenantId) });
          local += 1;
          return;
        }
        if (!lease) return;
        const key = `${lease.instanceId}\u0000${target.tenantId}`;
        let group = remote.get(key);
        if (!group) remote.set(key, (group = { instanceId: lease.instanceId, tenantId: target.tenantId, indexes: [] }));
        group.indexes.push(i);
      });
      const stale: number[] = [];
      const sends: Array<Promise<void>> = [];
      for (const group of remote.values()) {
        for (let k = 0; k < group.indexes.length; k += BATCH_AGENTS) {
          const indexes = group.indexes.slice(k, k + BATCH_AGENTS);
          sends.push(
            this.forwardBatch(group.instanceId, group.tenantId, indexes.map((i) => leases.get(targets[i]!.agentId)!), command).then((answers) => {
              indexes.forEach((i, j) => {
                const answer = answers[j] ?? 'unconfirmed';
                if (answer === 'stale') stale.push(i);
                else outcomes[i] = answer;
              });
            }),
          );
        }
      }
      await Promise.all(sends);
      // counted here for the agents decided here (a single push below counts its own), by tenant
      const staleSet = new Set(stale);
      const missing = new Map<string, number>();
      outcomes.forEach((o, i) => {
        if (o === 'no_session' && !staleSet.has(i)) missing.set(targets[i]!.tenantId, (missing.get(targets[i]!.tenantId) ?? 0) + 1);
      });
      for (const [tenantId, n] of missing) Metrics.add('ampora_dispatch_no_session_total', n, { tenant: TenantLabels.of(tenantId) });
      // receivers that no longer hold the session: single pushes look the owner up again
      await Promise.all(stale.map(async (i) => (outcomes[i] = await this.dispatch(targets[i]!, command))));
      span.setAttribute('dispatch.local', local);
      span.setAttribute('dispatch.instances', remote.size);
      return outcomes;
    });
  }

  pushConnectionSettings(target: DispatchTarget, offer: ConnectionSettingsOffers): Promise<DispatchOutcome> {
    return this.dispatch(target, connectionSettingsCommand(offer));
  }

  pushPackages(target: DispatchTarget): Promise<DispatchOutcome> {
    return this.dispatch(target, { kind: 'packages' });
  }

  disconnect(target: DispatchTarget, reason: string): Promise<DispatchOutcome> {
    return this.dispatch(target, { kind: 'disconnect', reason });
  }

  /** Pushes still waiting for an answer from another instance. */
  get inFlight(): number {
    return this.pending.size + this.pendingBatches.size;
  }

  private dispatch(target: DispatchTarget, command: DispatchCommand): Promise<DispatchOutcome> {
    const tenant = TenantLabels.of(target.tenantId);
    return withSpan('opamp.dispatch', { kind: SpanKind.PRODUCER, attributes: { 'agent.id': target.agentId, 'dispatch.kind': command.kind } }, async (span) => {
      let outcome: DispatchOutcome = 'no_session';
      for (let attempt = 0; attempt < 2; attempt++) {
        const pending = this.registry.get(target.agentId);
        // the agent just connected here and its lease is being taken: it is this instance's
        const lease = pending && !pending.closed && pending.fencingToken === undefined ? undefined : await this.leases.owner(target.agentId);
        const local = this.registry.get(target.agentId);
        const mine = local && !local.closed && (local.fencingToken === undefined || lease?.instanceId === this.config.app.instanceId);
        if (mine) {
          span.setAttribute('dispatch.target_instance', this.config.app.instanceId);
          outcome = await this.delivery.deliver(local, command);
          if (outcome !== 'cap_mismatch') Metrics.add('ampora_dispatch_local_total', 1, { tenant });
          break;
        }
        if (!lease) break;
        const answer = await this.forward(span, lease, target, command);
        if (answer !== 'stale') {
          outcome = answer;
          break;
        }
      }
      if (outcome === 'no_session') Metrics.add('ampora_dispatch_no_session_total', 1, { tenant });
      span.setAttribute('dispatch.outcome', outcome);
      return outcome;
    });
  }

  /** Sends one batch to the instance holding its agents and waits (bounded) for its answers. */
  private forwardBatch(instanceId: string, tenantId: string, leases: Lease[], command: DispatchCommand): Promise<ReceiverOutcome[]> {
    const envelope: DispatchBatchEnvelope = {
      v: 1,
      id: randomUUID(),
      tenantId,
      agents: leases.map((l) => ({ agentId: l.agentId, fencingToken: l.fencingToken.toString() })),
      publishedAt: this.clock.nowMs(),
      from: this.config.app.instanceId,
      trace: injectTraceContext(),
      command,
    };
    Metrics.add('ampora_dispatch_forwarded_total', leases.length, { tenant: TenantLabels.of(tenantId), target_instance: instanceId });
    const unconfirmed = (): ReceiverOutcome[] => leases.map(() => 'unconfirmed');
    return new Promise<ReceiverOutcome[]>((resolve) => {
      const timer = this.clock.setTimeout(() => finish(undefined), this.config.dispatch.forwardTimeoutMs);
      const finish = (outcomes: ReceiverOutcome[] | undefined) => {
        timer.cancel();
        this.pendingBatches.delete(envelope.id);
        resolve(outcomes && outcomes.length === leases.length ? outcomes : unconfirmed());
      };
      this.pendingBatches.set(envelope.id, finish);
      sendToInstance(this.backplane, instanceId, DISPATCH_BATCH_TOPIC, envelope).catch((error: unknown) => {
        this.log.warn('Forwarding a push for {Agents} agents to instance {TargetInstance} failed', { Agents: leases.length, TargetInstance: instanceId }, error);
        finish(undefined);
      });
    });
  }

  /** Sends the envelope to the lease holder and waits (bounded) for its answer. */
  private forward(span: Span, lease: Lease, target: DispatchTarget, command: DispatchCommand): Promise<ReceiverOutcome> {
    span.setAttribute('dispatch.target_instance', lease.instanceId);
    if (this.backplane.kind === 'inprocess' && lease.instanceId !== this.config.app.instanceId && this.clock.nowMs() - this.lastMisconfigWarning > 60_000) {
      this.lastMisconfigWarning = this.clock.nowMs();
      this.log.warn('Agent {AgentId} is held by instance {TargetInstance}, which AMPORA_BACKPLANE=inprocess cannot reach: several instances need redis or postgres', {
        AgentId: target.agentId,
        TargetInstance: lease.instanceId,
      });
    }
    const envelope: DispatchEnvelope = {
      v: 1,
      id: randomUUID(),
      tenantId: target.tenantId,
      agentId: target.agentId,
      fencingToken: lease.fencingToken.toString(),
      publishedAt: this.clock.nowMs(),
      from: this.config.app.instanceId,
      trace: injectTraceContext(),
      command,
    };
    Metrics.add('ampora_dispatch_forwarded_total', 1, { tenant: TenantLabels.of(target.tenantId), target_instance: lease.instanceId });
    return new Promise<ReceiverOutcome>((resolve) => {
      const timer = this.clock.setTimeout(() => finish('unconfirmed'), this.config.dispatch.forwardTimeoutMs);
      const finish = (outcome: ReceiverOutcome) => {
        timer.cancel();
        this.pending.delete(envelope.id);
        resolve(outcome);
      };
      this.pending.set(envelope.id, finish);
      sendToInstance(this.backplane, lease.instanceId, DISPATCH_TOPIC, envelope).catch((error: unknown) => {
        this.log.warn('Forwarding a push for agent {AgentId} to instance {TargetInstance} failed', { AgentId: target.agentId, TargetInstance: lease.instanceId }, error);
        finish('unconfirmed');
      });
    });
  }
}
