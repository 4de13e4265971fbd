import { Injectable } from '@nestjs/common';
import { Principal } from '@ampora/platform';
import { FleetReads, RolloutSupportService } from '@ampora/fleet';
import { ApprovalOperation, ApprovalService, ApprovalStatus, ApprovalSubjectKind, operationSubjectId } from '@ampora/governance';
import { CreateRolloutSchema, RolloutsService, RolloutState } from '@ampora/rollouts';
import { LegAction, LegCounts, LegState } from '../domain/federated-rollout';
import { FederationErrorCode, FederationException } from '../federation.errors';

/** What a deployment is asked to run as its leg of a federated rollout (the body of `POST /federation/v1/rollouts`). */
export interface LegSpec {
  federatedRolloutId: string;
  name: string;
  configurationName: string;
  contentHash: string;
  groupName: string;
  /** strategy, gates, ordering, autoAdvance, dwellSeconds: as `POST /api/rollouts` takes them. */
  plan: Record<string, unknown>;
  /** The originator's actor, for the audit trail of the leg. */
  by: string;
}

/** A leg as its deployment reports it (`GET /federation/v1/rollouts/{id}`). */
export interface LegSnapshot {
  rolloutId: string;
  state: LegState;
  currentStep: number | null;
  stepCount: number;
  waitingFor: string | null;
  counts: LegCounts;
  gate: { gate: string; observed: number; threshold: number; step: number } | null;
  rollbackState: string | null;
}

/** The leg's rollout name: the federated rollout's, tagged with its id (so a repeated open finds it). */
export const legRolloutName = (spec: Pick<LegSpec, 'name' | 'federatedRolloutId'>) => `${spec.name.slice(0, 150)} (federated ${spec.federatedRolloutId})`;

const LEG_NAME = / \(federated [0-9a-f-]{36}\)$/;

const ACTIVE = new Set<string>([RolloutState.Pending, RolloutState.InProgress, RolloutState.Paused]);

/**
 * A leg run on this deployment, through rollouts' public face only (decision 0370): opened as an
 * ordinary rollout of the named group and version (its RBAC, push-time policies, gates and audit
 * apply), read back as a snapshot, and controlled. Used for this deployment's own leg and, through
 * the federation listener, for a peer's.
 */
@Injectable()
export class LocalLegs {
  constructor(
    private readonly rollouts: RolloutsService,
    private readonly reads: FleetReads,
    private readonly support: RolloutSupportService,
    private readonly approvals: ApprovalService,
  ) {}

  async open(caller: Principal, spec: LegSpec): Promise<LegSnapshot> {
    const name = legRolloutName(spec);
    const existing = (await this.rollouts.list(caller.tenantId, {}, { limit: 200 })).items.find((r) => r.name === name);
    if (existing) return this.snapshotOf(existing);
    const version = await this.reads.versionByHash(caller.tenantId, spec.configurationName, spec.contentHash);
    if (!version || version.status !== 'Published') {
      throw new FederationException(FederationErrorCode.FEDERATION_VERSION_NOT_PUBLISHED, `No Published version of ${spec.configurationName} has content hash ${spec.contentHash} here`);
    }
    const groupId = await this.reads.groupIdByName(caller.tenantId, spec.groupName);
    if (!groupId) throw new FederationException(FederationErrorCode.FEDERATION_GROUP_NOT_FOUND, `No group named ${spec.groupName} here`);
    // the target's push-time policies are asked before anything starts: a leg they would cut short is held, not run on part of the group
    const members = await this.support.members(caller.tenantId, groupId);
    const denied = await this.support.screenStep(caller.tenantId, spec.federatedRolloutId, version.versionId, members.map((m) => m.id));
    if (denied.size > 0) {
      const first = [...denied.values()][0]!;
      const why = first.policyName ? `policy ${first.policyName}: ${first.reason}` : `${first.check}: ${first.reason}`;
      throw new FederationException(FederationErrorCode.FEDERATION_LEG_DENIED_BY_POLICY, `${denied.size} of ${members.length} agents of group ${spec.groupName} are denied this version here (${why})`, { denied: denied.size, agents: members.length });
    }
    const input = CreateRolloutSchema.safeParse({ ...spec.plan, name, configurationId: version.configurationId, version: version.version, groupId });
    if (!input.success) throw new FederationException(FederationErrorCode.FEDERATED_ROLLOUT_INVALID, `The leg's plan is not a rollout this deployment takes: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const created = await this.rollouts.create(caller, input.data);
    // a start that a tenant's approval rule holds leaves the leg Pending until a second person approves it
    return this.snapshotOf((await this.rollouts.start(caller, created.id)).rollout);
  }

  /** Whether a rollout of the tenant is the leg of a federated rollout (a peer may read and control those only). */
  async isLeg(tenantId: string, rolloutId: string): Promise<boolean> {
    const r = await this.rollouts.get(tenantId, rolloutId).catch(() => null);
    return r !== null && LEG_NAME.test(r.name);
  }

  async view(tenantId: string, rolloutId: string): Promise<LegSnapshot> {
    return this.snapshotOf(await this.rollouts.get(tenantId, rolloutId));
  }

  /** One control on the leg's rollout; a control its state no longer allows is a no-op (the snapshot says where it is). */
  async act(caller: Principal, rolloutId: string, action: Exclude<LegAction, 'open'>): Promise<LegSnapshot> {
    const r = await this.rollouts.get(caller.tenantId, rolloutId);
    const allowed =
      (action === 'pause' && r.state === RolloutState.InProgress) ||
      (action === 'resume' && r.state === RolloutState.Paused) ||
      (action === 'advance' && r.state === RolloutState.InProgress) ||
      (action === 'abort' && ACTIVE.has(r.state)) ||
      // a leg that never started (Failed from Pending) pushed nothing: there is nothing to roll back (decision 0412)
      (action === 'rollback' && (ACTIVE.has(r.state) || r.state === RolloutState.Failed) && r.state !== RolloutState.Pending && r.startedAt !== null);
    if (!allowed) return this.snapshotOf(r);
    return this.snapshotOf(await this.rollouts[action](caller, rolloutId));
  }

  private async pendingStartApproval(tenantId: string, rolloutId: string): Promise<string | undefined> {
    const page = await this.approvals.list(
      { tenantId, status: ApprovalStatus.Pending, subjectKind: ApprovalSubjectKind.Custom, subjectId: operationSubjectId(ApprovalOperation.RolloutStart, rolloutId) },
      { limit: 1 },
    );
    return page.items[0]?.id;
  }

  private async snapshotOf(r: Awaited<ReturnType<RolloutsService['get']>>): Promise<LegSnapshot> {
    const [summary] = await this.rollouts.summaries([r]);
    const rollback = r.rollbackId ? await this.rollouts.get(r.tenantId, r.rollbackId).catch(() => null) : null;
    const c = summary!.counts;
    const gate = summary!.gate;
    // a start that one of this deployment's approval rules holds: the leg is held, the reason names the request
    const awaiting = r.state === RolloutState.Pending ? await this.pendingStartApproval(r.tenantId, r.id) : undefined;
    return {
      rolloutId: r.id,
      state: awaiting ? 'Held' : (r.state as LegState),
      currentStep: summary!.currentStep,
      stepCount: summary!.stepCount,
      waitingFor: awaiting ? `approval ${awaiting} of its start on this deployment` : summary!.waitingFor,
      counts: { pending: c.pending, applying: c.applying, applied: c.applied, failed: c.failed, skipped: c.skipped, total: c.total },
      gate: gate ? { gate: gate.gate, observed: gate.observed, threshold: gate.threshold, step: gate.step } : null,
      rollbackState: rollback?.state ?? null,
    };
  }
}
