import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { z } from 'zod';
import { Clock, createLogger, Principal, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { RolloutDefaultsInputSchema } from './dto/rollout.dto';
import { GATE_DEFAULTS, GateSettings } from './domain/gates';
import { Ordering } from './domain/step-planner';
import { normalizeStrategy, Strategy, StrategyInput } from './domain/strategy';
import { RolloutDefaultsEntity } from './entities/rollout-defaults.entity';
import { RolloutErrorCode, RolloutException } from './rollouts.errors';

/** What a rollout gets when nobody chose: the spec's "default safe production strategy". */
export const BUILT_IN_STRATEGY: StrategyInput = { type: 'Canary' };

/** A tenant's defaults with every gap filled from the built-in ones. */
export interface EffectiveRolloutDefaults {
  source: 'tenant' | 'built-in';
  strategy: Strategy;
  gates: GateSettings;
  ordering: Ordering;
  updatedBy: string | null;
  updatedAt: Date | null;
}

type DefaultsInput = z.infer<typeof RolloutDefaultsInputSchema>;

/** Validates a strategy as a rollout would take it; a bad one is 422 ROLLOUT_INVALID_STRATEGY with every problem. */
export function validStrategy(input: StrategyInput): Strategy {
  const normalized = normalizeStrategy(input);
  if (!normalized.ok) {
    throw new RolloutException(RolloutErrorCode.ROLLOUT_INVALID_STRATEGY, `The strategy is not valid: ${normalized.problems.map((p) => `${p.field} ${p.message}`).join('; ')}`, { problems: normalized.problems });
  }
  return normalized.strategy;
}

/**
 * Per-tenant rollout defaults (spec §4.2 "tenant-level default strategy", §4.3 "per tenant default"
 * thresholds): what a new rollout takes for the strategy, gates and ordering its request leaves out.
 * Rollouts copy them at creation; changing the defaults never changes an existing rollout.
 */
@Injectable()
export class RolloutDefaultsService {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutDefaultsService');

  constructor(
    @InjectRepository(RolloutDefaultsEntity) private readonly repo: Repository<RolloutDefaultsEntity>,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async effective(tenantId: string, manager?: EntityManager): Promise<EffectiveRolloutDefaults> {
    const row = await (manager ? manager.getRepository(RolloutDefaultsEntity) : this.repo).findOne({ where: { tenantId } });
    return effectiveOf(row);
  }

  /** Replaces the tenant's defaults with the fields given (absent or null: the built-in one). */
  async put(caller: Principal, input: DefaultsInput): Promise<EffectiveRolloutDefaults> {
    const strategy = input.strategy ? validStrategy(input.strategy as StrategyInput) : null;
    const result = await this.tx.run(async ({ manager }) => {
      const repo = manager.getRepository(RolloutDefaultsEntity);
      const before = await repo.findOne({ where: { tenantId: caller.tenantId }, lock: { mode: 'pessimistic_write' } });
      const row = repo.create({
        tenantId: caller.tenantId,
        strategy,
        gates: input.gates && Object.keys(input.gates).length ? (input.gates as Partial<GateSettings>) : null,
        ordering: input.ordering ?? null,
        updatedBy: caller.actor,
        updatedAt: this.clock.now(),
      });
      // an upsert: two first PUTs of a tenant (no row to lock yet) must not collide on the key
      await repo.upsert(row as never, { conflictPaths: ['tenantId'] });
      const after = effectiveOf(row);
      await this.audit.record(manager, { entityType: 'RolloutDefaults', entityId: caller.tenantId, action: 'Updated', before: auditView(effectiveOf(before)), after: auditView(after) });
      return after;
    });
    this.log.info('Rollout defaults of the tenant set by {Actor}: {Strategy}', { Actor: caller.actor, Strategy: result.strategy.type });
    return result;
  }

  /** Back to the built-in defaults. */
  async reset(caller: Principal): Promise<EffectiveRolloutDefaults> {
    return this.tx.run(async ({ manager }) => {
      const repo = manager.getRepository(RolloutDefaultsEntity);
      const before = await repo.findOne({ where: { tenantId: caller.tenantId }, lock: { mode: 'pessimistic_write' } });
      if (before) await repo.delete({ tenantId: caller.tenantId });
      const after = effectiveOf(null);
      await this.audit.record(manager, { entityType: 'RolloutDefaults', entityId: caller.tenantId, action: 'Reset', before: auditView(effectiveOf(before)), after: auditView(after) });
      return after;
    });
  }
}

function effectiveOf(row: RolloutDefaultsEntity | null): EffectiveRolloutDefaults {
  return {
    source: row ? 'tenant' : 'built-in',
    strategy: row?.strategy ?? validStrategy(BUILT_IN_STRATEGY),
    gates: { ...GATE_DEFAULTS, ...(row?.gates ?? {}) },
    ordering: row?.ordering ?? 'random',
    updatedBy: row?.updatedBy ?? null,
    updatedAt: row?.updatedAt ?? null,
  };
}

function auditView(d: EffectiveRolloutDefaults) {
  return { source: d.source, strategy: d.strategy, gates: d.gates, ordering: d.ordering };
}
