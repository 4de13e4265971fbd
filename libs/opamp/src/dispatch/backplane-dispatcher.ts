import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AMPORA_CONFIG, AmporaConfig, Backplane, Clock, createLogger, injectTraceContext, Metrics, Span, SpanKind, TenantLabels, withSpan } from '@ampora/platform';
import type { ConnectionSettingsOffers } from '../generated/opamp_pb';
import { SessionRegistry } from '../core/session-registry';
import { Lease, SessionOwnershipRepository } from '../ownership/session-ownership.repository';
import type { DesiredConfig } from '../ports';
import { AgentDispatcher, DispatchOutcome, DispatchTarget } from './agent-dispatcher';
import {
  connectionSettingsCommand,
  DISPATCH_REPLY_TOPIC,
  DISPATCH_TOPIC,
  DispatchCommand,
  DispatchEnvelope,
  parseReply,
  ReceiverOutcome,
  remoteConfigCommand,
} from './dispatch-envelope';
import { LocalDelivery } from './local-delivery';
import { sendToInstance } from '../opamp.events';

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
  private stopListening?: () => void;
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
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    for (const resolve of [...this.pending.values()]) resolve('unconfirmed');
  }

  pushRemoteConfig(target: DispatchTarget, config: DesiredConfig, options: { force?: boolean } = {}): Promise<DispatchOutcome> {
    return this.dispatch(target, remoteConfigCommand(config, options.force ?? false));
  }

  pushConnectionSettings(target: DispatchTarget, offer: ConnectionSettingsOffers): Promise<DispatchOutcome> {
    return this.dispatch(target, connectionSettingsCommand(offer));
  }

  disconnect(target: DispatchTarget, reason: string): Promise<DispatchOutcome> {
    return this.dispatch(target, { kind: 'disconnect', reason });
  }

  /** Pushes still waiting for an answer from another instance. */
  get inFlight(): number {
    return this.pending.size;
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
          outcome = this.delivery.deliver(local, command);
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
