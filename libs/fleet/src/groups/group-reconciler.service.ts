import { Injectable } from '@nestjs/common';
import { Expression } from '@ampora/dsl';
import { createLogger, TenantLabels } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { FleetTransactions } from '../fleet-transactions';
import { AgentRepository } from '../agents/agent.repository';
import { AssignmentService, Move, PlacementResult } from '../assignment/assignment.service';
import { REPORT_ID_LIMIT } from '../assignment/fleet-dispatch.service';
import { chooseGroup, compileSelector, selectorContext } from './domain/selector';
import { GroupEntity } from './entities/group.entity';
import { GroupRepository } from './group.repository';

/** Agents read and evaluated per page (and moved per transaction). */
export const RECONCILE_PAGE = 5000;

export interface ReconcileStats {
  tenantId: string;
  groups: number;
  /** Dynamic groups whose selector no longer compiles (they match nothing). */
  invalidGroups: string[];
  evaluated: number;
  moved: number;
  /** Agents whose evaluation failed closed, by reason. */
  failed: Record<string, number>;
  durationMs: number;
}

export interface ReconcileOptions {
  /** Called with every selector evaluation's duration (benchmarks). */
  observe?: (ms: number) => void;
  pageSize?: number;
}

interface Compiled {
  id: string;
  group: GroupEntity;
  expression: Expression;
}

/**
 * Re-evaluates dynamic group membership of a tenant in one pass: agents not pinned by an operator
 * are read page by page, each is given the first dynamic group whose selector matches (groups in
 * tie-break order: higher priority, then the older group, then id), and the changes of a page are
 * written in bulk in one transaction. Each write re-checks, under the row locks, that the agent was
 * not moved meanwhile, so a concurrent operator move always wins and an agent is never in two groups.
 */
@Injectable()
export class GroupReconciler {
  private readonly log = createLogger('Ampora.Fleet.Groups.GroupReconciler');

  constructor(
    private readonly groups: GroupRepository,
    private readonly agents: AgentRepository,
    private readonly assignment: AssignmentService,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
  ) {}

  async reconcileAll(options: ReconcileOptions = {}): Promise<ReconcileStats[]> {
    const stats: ReconcileStats[] = [];
    for (const tenantId of await this.groups.tenantsWithGroups()) stats.push(await this.reconcileTenant(tenantId, options));
    return stats;
  }

  async reconcileTenant(tenantId: string, options: ReconcileOptions = {}): Promise<ReconcileStats> {
    const started = performance.now();
    const stats: ReconcileStats = { tenantId, groups: 0, invalidGroups: [], evaluated: 0, moved: 0, failed: {}, durationMs: 0 };
    const dynamic = await this.groups.dynamicGroups(tenantId);
    stats.groups = dynamic.length;
    const managed = new Set(dynamic.map((g) => g.id));
    const compiled: Compiled[] = [];
    for (const g of dynamic) {
      const c = compileSelector(g.selector ?? '');
      if (c.ok) compiled.push({ id: g.id, group: g, expression: c.expression });
      else {
        stats.invalidGroups.push(g.id);
        this.log.warn('Group {GroupId} has a selector that does not compile ({Reason}); it matches no agent', { GroupId: g.id, Reason: c.error.message });
      }
    }
    const observe = (_g: Compiled, ms: number, failed: string | undefined) => {
      options.observe?.(ms);
      if (failed) stats.failed[failed] = (stats.failed[failed] ?? 0) + 1;
    };

    const pageSize = options.pageSize ?? RECONCILE_PAGE;
    let after: string | null = null;
    for (;;) {
      const page = await this.agents.selectorPage(tenantId, after, pageSize, true);
      if (page.length === 0) break;
      after = page[page.length - 1]!.id;
      const changes: Move[] = [];
      for (const agent of page) {
        // agents in a static (or deleted) group stay there: only ungrouped and dynamic members move
        if (agent.groupId !== null && !managed.has(agent.groupId)) continue;
        stats.evaluated += 1;
        const target = chooseGroup(compiled, selectorContext(agent.labels, agent.tags), observe);
        const to = target?.id ?? null;
        if (to !== agent.groupId) changes.push({ agentId: agent.id, from: agent.groupId, to });
      }
      if (changes.length) stats.moved += await this.apply(tenantId, changes, compiled);
      if (page.length < pageSize) break;
    }
    stats.durationMs = Math.round(performance.now() - started);
    const level = stats.moved > 0 ? 'info' : 'debug';
    this.log[level]('Reconciled {Groups} dynamic groups of tenant {Tenant}: {Evaluated} agents evaluated, {Moved} moved in {DurationMs} ms', {
      Groups: stats.groups,
      Tenant: TenantLabels.of(tenantId),
      Evaluated: stats.evaluated,
      Moved: stats.moved,
      DurationMs: stats.durationMs,
    });
    return stats;
  }

  /** Writes one page of membership changes in one transaction; returns how many agents moved. */
  private async apply(tenantId: string, changes: Move[], compiled: Compiled[]): Promise<number> {
    const expected = new Map(changes.map((c) => [c.agentId, c]));
    const targets = [...new Set(changes.flatMap((c) => (c.to ? [c.to] : [])))];
    const merged: PlacementResult = { moves: [], configChanged: [] };
    await this.tx.run(async ({ manager, afterCommit }) => {
      // groups first (shared: their assignment cannot change under us), then agents, both in id order
      const live = new Map((await this.groups.lockShared(manager, tenantId, targets)).filter((g) => !g.deletedAt && g.kind === 'Dynamic').map((g) => [g.id, g]));
      const locked = await this.agents.lockForChange(manager, tenantId, [...expected.keys()]);
      const byTarget = new Map<string | null, typeof locked>();
      for (const a of locked) {
        const c = expected.get(a.id)!;
        // moved or pinned since the page was read: leave it
        if (a.groupPinned || a.groupId !== c.from) continue;
        if (c.to && !live.has(c.to)) continue;
        const list = byTarget.get(c.to) ?? [];
        list.push(a);
        byTarget.set(c.to, list);
      }
      for (const [to, agents] of byTarget) {
        const r = await this.assignment.place(manager, tenantId, agents, to ? live.get(to)! : null, false);
        merged.moves.push(...r.moves);
        merged.configChanged.push(...r.configChanged);
      }
      for (const [groupId, delta] of summarise(merged.moves)) {
        await this.audit.record(manager, {
          tenantId,
          entityType: 'Group',
          entityId: groupId,
          action: 'MembershipReconciled',
          additional: {
            selector: compiled.find((c) => c.id === groupId)?.group.selector ?? null,
            addedCount: delta.added.length,
            removedCount: delta.removed.length,
            added: delta.added.slice(0, REPORT_ID_LIMIT),
            removed: delta.removed.slice(0, REPORT_ID_LIMIT),
          },
        });
      }
      afterCommit(() => this.assignment.afterPlacement(tenantId, merged, 'dynamic group reconcile'));
    });
    return merged.moves.length;
  }
}

function summarise(moves: Move[]): Map<string, { added: string[]; removed: string[] }> {
  const out = new Map<string, { added: string[]; removed: string[] }>();
  const get = (id: string) => {
    let d = out.get(id);
    if (!d) out.set(id, (d = { added: [], removed: [] }));
    return d;
  };
  for (const m of moves) {
    if (m.from) get(m.from).removed.push(m.agentId);
    if (m.to) get(m.to).added.push(m.agentId);
  }
  return out;
}
