import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Backplane, BackplaneMeta, Clock, createLogger, extractTraceContext, Metrics, RequestContext, SpanKind, TenantLabels, withSpan } from '@ampora/platform';
import { SessionRegistry } from '../core/session-registry';
import { SessionLeaseKeeper } from '../ownership/session-lease-keeper';
import {
  DISPATCH_BATCH_REPLY_TOPIC,
  DISPATCH_BATCH_TOPIC,
  DISPATCH_REPLY_TOPIC,
  DISPATCH_TOPIC,
  DispatchBatchReply,
  DispatchEnvelope,
  DispatchReply,
  parseBatchEnvelope,
  parseEnvelope,
  ReceiverOutcome,
} from './dispatch-envelope';
import { LocalDelivery } from './local-delivery';
import { sendToInstance } from '../opamp.events';

/**
 * Delivers pushes forwarded by other instances (and by workers) to the sessions of this instance,
 * and answers each with its outcome. Fencing: an envelope carries the token of the lease its sender
 * looked up. An older token than this instance's session holds is refused (the sender acted on stale
 * ownership); a newer one means this session is itself stale (its lease moved), so it is closed.
 * Either way the answer is `stale` and the sender looks the owner up again.
 */
@Injectable()
export class DispatchReceiver implements OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.OpAmp.Dispatch.DispatchReceiver');
  private stopListening?: () => void;
  private stopListeningBatches?: () => void;
  /** Totals since start, for diagnostics and tests. */
  readonly totals = { received: 0, fenced: 0 };

  constructor(
    private readonly registry: SessionRegistry,
    private readonly delivery: LocalDelivery,
    private readonly keeper: SessionLeaseKeeper,
    private readonly backplane: Backplane,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onModuleInit(): void {
    this.stopListening = this.backplane.on(DISPATCH_TOPIC, (body, meta) => void this.onEnvelope(body, meta));
    this.stopListeningBatches = this.backplane.on(DISPATCH_BATCH_TOPIC, (body, meta) => void this.onBatch(body, meta));
  }

  onModuleDestroy(): void {
    this.stopListening?.();
    this.stopListeningBatches?.();
  }

  /** A batch (decision 0390): each agent as if it came in its own envelope, answered together. */
  private async onBatch(body: unknown, meta: BackplaneMeta): Promise<void> {
    const batch = parseBatchEnvelope(body);
    if (!batch) {
      this.log.warn('Ignored a malformed dispatch batch from {Instance}', { Instance: meta.from });
      return;
    }
    this.totals.received += batch.agents.length;
    const tenant = TenantLabels.of(batch.tenantId);
    const ageMs = Math.max(0, this.clock.nowMs() - batch.publishedAt);
    Metrics.record('ampora_dispatch_envelope_age_seconds', ageMs / 1000, { tenant });
    const outcomes = await RequestContext.run({ tenantId: batch.tenantId }, () =>
      withSpan(
        'opamp.dispatch.receive',
        {
          kind: SpanKind.CONSUMER,
          parent: extractTraceContext(batch.trace),
          attributes: { 'dispatch.agents': batch.agents.length, 'dispatch.kind': batch.command.kind, 'dispatch.source_instance': batch.from, 'dispatch.target_instance': this.config.app.instanceId, 'dispatch.envelope_age_ms': ageMs },
        },
        async () =>
          Promise.all(
            batch.agents.map(async ({ agentId, fencingToken }): Promise<ReceiverOutcome> => {
              const envelope: DispatchEnvelope = { v: 1, id: batch.id, tenantId: batch.tenantId, agentId, fencingToken, publishedAt: batch.publishedAt, from: batch.from, trace: batch.trace, command: batch.command };
              try {
                return await this.handle(envelope, tenant);
              } catch (error) {
                this.log.error('Delivering a push for agent {AgentId} from {Instance} failed', { AgentId: agentId, Instance: batch.from }, error);
                return 'unconfirmed';
              }
            }),
          ),
      ),
    );
    const reply: DispatchBatchReply = { v: 1, id: batch.id, outcomes };
    await sendToInstance(this.backplane, batch.from, DISPATCH_BATCH_REPLY_TOPIC, reply).catch((error: unknown) => {
      this.log.debug('Could not answer {Instance} about batch {EnvelopeId}: {Error}', { Instance: batch.from, EnvelopeId: batch.id, Error: String(error) });
    });
  }

  private async onEnvelope(body: unknown, meta: BackplaneMeta): Promise<void> {
    const envelope = parseEnvelope(body);
    if (!envelope) {
      this.log.warn('Ignored a malformed dispatch envelope from {Instance}', { Instance: meta.from });
      return;
    }
    this.totals.received += 1;
    const tenant = TenantLabels.of(envelope.tenantId);
    const ageMs = Math.max(0, this.clock.nowMs() - envelope.publishedAt);
    Metrics.record('ampora_dispatch_envelope_age_seconds', ageMs / 1000, { tenant });
    const outcome = await RequestContext.run({ tenantId: envelope.tenantId }, () =>
      withSpan(
        'opamp.dispatch.receive',
        {
          kind: SpanKind.CONSUMER,
          parent: extractTraceContext(envelope.trace),
          attributes: { 'agent.id': envelope.agentId, 'dispatch.kind': envelope.command.kind, 'dispatch.source_instance': envelope.from, 'dispatch.target_instance': this.config.app.instanceId, 'dispatch.envelope_age_ms': ageMs },
        },
        async (span) => {
          let result: ReceiverOutcome;
          try {
            result = await this.handle(envelope, tenant);
          } catch (error) {
            // a command this instance could not carry out (a malformed offer, say): the sender must not wait
            this.log.error('Delivering a push for agent {AgentId} from {Instance} failed', { AgentId: envelope.agentId, Instance: envelope.from }, error);
            result = 'unconfirmed';
          }
          span.setAttribute('dispatch.outcome', result);
          return result;
        },
      ),
    );
    const reply: DispatchReply = { v: 1, id: envelope.id, outcome };
    await sendToInstance(this.backplane, envelope.from, DISPATCH_REPLY_TOPIC, reply).catch((error: unknown) => {
      this.log.debug('Could not answer {Instance} about push {EnvelopeId}: {Error}', { Instance: envelope.from, EnvelopeId: envelope.id, Error: String(error) });
    });
  }

  private handle(envelope: DispatchEnvelope, tenant: string): ReceiverOutcome | Promise<ReceiverOutcome> {
    const session = this.registry.get(envelope.agentId);
    if (!session || session.closed) return 'stale';
    const token = BigInt(envelope.fencingToken);
    const held = session.fencingToken;
    if (held !== undefined && token < held) {
      this.totals.fenced += 1;
      Metrics.add('ampora_dispatch_fenced_total', 1, { tenant });
      this.log.info('Refused a push for agent {AgentId} from {Instance}: its fencing token {EnvelopeToken} is older than the session\'s {SessionToken}', {
        AgentId: envelope.agentId,
        Instance: envelope.from,
        EnvelopeToken: envelope.fencingToken,
        SessionToken: held.toString(),
      });
      return 'stale';
    }
    if (held !== undefined && token > held) {
      this.keeper.supersede(session, token);
      return 'stale';
    }
    return this.delivery.deliver(session, envelope.command);
  }
}
