import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Backplane, Clock, createLogger, Metrics, RequestContext, STORM_BATCH_SPACING_MS, TimerHandle, TurnBatch } from '@ampora/platform';
import { AgentSession } from '../core/agent-session';
import { OpampCore } from '../core/opamp-core.service';
import { SessionRegistry } from '../core/session-registry';
import { Acquired, SessionOwnershipRepository } from './session-ownership.repository';
import { LeaseRevokedNotice, OpampTopics, sendToInstance } from '../opamp.events';

/** At most this many leases are taken in one statement. */
const ACQUIRE_BATCH_MAX = 1000;
/** One lease statement runs at a time, at most one per STORM_BATCH_SPACING_MS; leases asked meanwhile are taken together next (decisions 0431, 0442). */
const ACQUIRE_IN_FLIGHT = 1;

/** Backplane topic: "a newer session of this agent holds the lease now" (to the previous holder). */
export const LEASE_REVOKED_TOPIC = OpampTopics.LeaseRevoked;

/**
 * Holds this instance's leases on its agents' sessions. A session that opens takes the lease (taking
 * it over from another instance if need be, and telling that instance so); all leases are renewed
 * together every third of the lease time, in one statement; a session that ends gives its lease up.
 * A session whose lease moved to a newer session elsewhere (a notice, or a renewal that no longer
 * returns it) is superseded: nothing more is sent on it and its socket is closed. Lease operations
 * for one agent run one after the other. On shutdown every lease is released at once, so agents that
 * reconnect elsewhere acquire without waiting.
 */
@Injectable()
export class SessionLeaseKeeper implements OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.OpAmp.Ownership.SessionLeaseKeeper');
  private readonly chains = new Map<string, Promise<void>>();
  private readonly instanceId: string;
  private readonly ttlSeconds: number;
  private timer?: TimerHandle;
  private renewing?: Promise<void>;
  private stopped = false;
  private stopListening?: () => void;
  /** Leases asked for in this turn of the event loop, taken together when it ends (decision 0421). */
  private readonly acquiring = new TurnBatch<string, Acquired>({
    key: (agentId) => agentId,
    max: ACQUIRE_BATCH_MAX,
    inFlight: ACQUIRE_IN_FLIGHT,
    spacingMs: STORM_BATCH_SPACING_MS,
    run: (agentIds) => {
      this.totals.acquireStatements += 1;
      return this.leases.acquireMany(agentIds, this.instanceId, this.ttlSeconds);
    },
  });
  /** Totals since start, for diagnostics and tests (`acquireStatements`: statements that took leases). */
  readonly totals = { renewals: 0, superseded: 0, acquireStatements: 0 };

  constructor(
    private readonly registry: SessionRegistry,
    private readonly core: OpampCore,
    private readonly leases: SessionOwnershipRepository,
    private readonly backplane: Backplane,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) config: AmporaConfig,
  ) {
    this.instanceId = config.app.instanceId;
    this.ttlSeconds = config.dispatch.ownershipTtlSeconds;
  }

  onModuleInit(): void {
    this.registry.onLifecycle({
      opened: (session) => this.serialize(session.agentId, () => this.acquire(session)),
      closed: (session, info) => {
        if (!info.replaced && !session.superseded) this.serialize(session.agentId, () => this.release(session));
      },
    });
    this.stopListening = this.backplane.on(LEASE_REVOKED_TOPIC, (body) => {
      const notice = body as Partial<LeaseRevokedNotice> | null;
      if (typeof notice?.agentId !== 'string' || typeof notice.fencingToken !== 'string' || !/^\d+$/.test(notice.fencingToken)) return;
      const token = BigInt(notice.fencingToken);
      this.serialize(notice.agentId, async () => this.revoked(notice.agentId!, token));
    });
    this.timer = this.clock.setInterval(() => void this.renew(), Math.max(500, (this.ttlSeconds * 1000) / 3)).unref();
  }

  async onModuleDestroy(): Promise<void> {
    await this.releaseAll();
  }

  /** Stops renewing and gives every lease of this instance up (graceful shutdown). */
  async releaseAll(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.stopListening?.();
    await this.renewing?.catch(() => undefined);
    try {
      const n = await this.leases.releaseAll(this.instanceId);
      this.log.info('Released {Count} agent session leases', { Count: n });
    } catch (error) {
      this.log.warn('Releasing the agent session leases failed; they expire in {Seconds} s', { Seconds: this.ttlSeconds }, error);
    }
  }

  /** Waits until every queued lease operation has run (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  /** Renews now (also runs on a timer). */
  renew(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private serialize(agentId: string, task: () => Promise<void>): void {
    const previous = this.chains.get(agentId) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => this.log.warn('A lease operation for agent {AgentId} failed', { AgentId: agentId }, error));
    this.chains.set(agentId, next);
    void next.then(() => {
      if (this.chains.get(agentId) === next) this.chains.delete(agentId);
    });
  }

  private async acquire(session: AgentSession): Promise<void> {
    if (session.closed || this.stopped) return;
    const result = await this.take(session.agentId);
    session.fencingToken = result.fencingToken;
    Metrics.add('ampora_session_ownership_acquires_total', 1, { outcome: result.outcome });
    RequestContext.run({ tenantId: session.tenantId }, () =>
      this.log.debug('Lease on agent {AgentId}: {Outcome} with token {FencingToken}', { AgentId: session.agentId, Outcome: result.outcome, FencingToken: result.fencingToken.toString() }),
    );
    if (result.outcome === 'taken_over' && result.previousInstance && result.previousInstance !== this.instanceId) {
      const notice: LeaseRevokedNotice = { agentId: session.agentId, fencingToken: result.fencingToken.toString() };
      sendToInstance(this.backplane, result.previousInstance, LEASE_REVOKED_TOPIC, notice).catch((error: unknown) => {
        this.log.debug('Could not tell {Instance} that it lost agent {AgentId}: {Error}', { Instance: result.previousInstance, AgentId: session.agentId, Error: String(error) });
      });
    }
    // an assignment that committed between attach and now was pushed to nobody: catch up with it
    await this.core.refreshAssignment(session).catch((error: unknown) => this.log.warn('Reading the assignment of agent {AgentId} after its lease failed', { AgentId: session.agentId }, error));
  }

  /**
   * The lease on one agent, taken in one statement with every other lease asked for in the same turn
   * of the event loop: a reconnect storm opens hundreds of sessions per turn, and one round trip each
   * cost the instance more than the agents' frames (decision 0421). Lease operations of one agent
   * are serialized, so an agent is in at most one batch.
   */
  private async take(agentId: string): Promise<Acquired> {
    const acquired = await this.acquiring.ask(agentId);
    if (!acquired) throw new Error(`the lease statement did not answer for agent ${agentId}`);
    return acquired;
  }

  private async release(session: AgentSession): Promise<void> {
    if (session.fencingToken === undefined || this.stopped) return;
    await this.leases.release(session.agentId, this.instanceId, session.fencingToken);
  }

  /** Another instance took the lease over with `token`: an older local session is stale. */
  private revoked(agentId: string, token: bigint): void {
    const session = this.registry.get(agentId);
    if (!session || session.closed) return;
    if (session.fencingToken !== undefined && session.fencingToken >= token) return;
    this.supersede(session, token);
  }

  /** Closes a local session whose lease a newer session holds elsewhere. */
  supersede(session: AgentSession, newerToken?: bigint): void {
    if (session.closed) return;
    this.totals.superseded += 1;
    Metrics.add('ampora_session_ownership_acquires_total', 1, { outcome: 'lost' });
    RequestContext.run({ tenantId: session.tenantId }, () =>
      this.log.info('Agent {AgentId} now has a newer session on another instance (token {FencingToken}); closing the stale one here', {
        AgentId: session.agentId,
        FencingToken: newerToken?.toString() ?? 'unknown',
      }),
    );
    this.core.supersede(session, 'the agent has a newer session on another instance');
  }

  private async renewOnce(): Promise<void> {
    // judge only sessions whose lease was acquired before the renewal statement started
    const known = new Map<AgentSession, bigint>();
    for (const s of this.registry.all()) if (s.fencingToken !== undefined && !s.closed) known.set(s, s.fencingToken);
    let held: Map<string, bigint> & { lapsed: string[] };
    try {
      held = await this.leases.renewAll(this.instanceId, this.ttlSeconds);
    } catch (error) {
      this.log.warn('Renewing {Count} agent session leases failed; retrying in {Seconds} s', { Count: known.size, Seconds: Math.round(this.ttlSeconds / 3) }, error);
      return;
    }
    this.totals.renewals += 1;
    if (held.size) Metrics.add('ampora_session_ownership_acquires_total', held.size, { outcome: 'renewed' });
    for (const [session, token] of known) {
      if (session.closed) continue;
      const current = held.get(session.agentId);
      if (current === undefined) this.serialize(session.agentId, async () => this.lostAtRenewal(session, token));
      else if (current !== token) session.fencingToken = current;
    }
    // leases that had lapsed (a renewal late or failed under load): nobody took them, but a push in
    // that time found no owner and went nowhere; the sessions read their assignments again
    const lapsed = held.lapsed.map((agentId) => this.registry.get(agentId)).filter((s): s is AgentSession => Boolean(s && !s.closed));
    if (lapsed.length) {
      this.log.warn('{Count} agent session leases had lapsed before this renewal; their sessions read their assignments again', { Count: lapsed.length });
      for (const session of lapsed) {
        this.serialize(session.agentId, async () => {
          await this.core.refreshAssignment(session, 'while its lease had lapsed');
        });
      }
    }
    // leases this instance holds without a session (a release that failed): give them up
    const orphans = new Map<string, bigint>();
    for (const [agentId, token] of held) if (!this.registry.get(agentId)) orphans.set(agentId, token);
    if (orphans.size) {
      const n = await this.leases.releaseMany(this.instanceId, orphans).catch(() => 0);
      if (n) this.log.info('Released {Count} leases whose sessions had ended', { Count: n });
    }
  }

  private async lostAtRenewal(session: AgentSession, token: bigint): Promise<void> {
    // a queued acquire may have run meanwhile: look again before giving the session up
    if (session.closed || session.fencingToken !== token) return;
    const lease = await this.leases.owner(session.agentId);
    if (lease && lease.instanceId === this.instanceId) {
      session.fencingToken = lease.fencingToken;
      return;
    }
    // another instance took the lease (and may have released it since): this socket is stale
    this.supersede(session, lease?.fencingToken);
  }
}
