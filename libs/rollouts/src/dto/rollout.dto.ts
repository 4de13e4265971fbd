import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema, namedZodDto } from '@ampora/platform';
import { GATE_DEFAULTS } from '../domain/gates';
import { RolloutState } from '../domain/rollout-state';
import { STRATEGY_DEFAULTS } from '../domain/strategy';

const ratio = (d: number) => z.number().min(0).max(1).describe(`Trips strictly above this fraction (default ${d})`);
const seconds = (d: number, what: string) => z.number().int().min(0).max(7 * 24 * 3600).describe(`${what} (default ${d} s)`);

export const AnalysisGateSchema = z
  .object({
    gate: z.enum(['export-failure-ratio', 'drop-ratio', 'throughput-drop']).describe('export-failure-ratio: exporters\' send-failed / (sent + send-failed); drop-ratio: processors\' dropped / receivers\' accepted; throughput-drop: accepted items per second lost against the baseline'),
    threshold: z.number().min(0).max(1).describe('Trips strictly above this fraction'),
    windowSeconds: z.number().int().min(1).max(24 * 3600).describe('Seconds after each agent\'s push that count'),
    minSample: z.number().int().min(1).max(1e12).describe('Items needed for a verdict (exports, accepted items, or the baseline\'s accepted items); fewer once the window is over: inconclusive, which pauses too'),
    baseline: z.enum(['before', 'control']).optional().describe('throughput-drop: the same agents before the push (default) or the group\'s agents not pushed yet'),
    signal: z.enum(['traces', 'metrics', 'logs']).optional().describe('Only this signal\'s items (default: all)'),
  })
  .strict()
  .meta({ id: 'RolloutAnalysisGate' });

export const GatesSchema = z
  .object({
    applyFailedRatio: ratio(GATE_DEFAULTS.applyFailedRatio),
    disconnectRatio: ratio(GATE_DEFAULTS.disconnectRatio),
    disconnectWindowSeconds: seconds(GATE_DEFAULTS.disconnectWindowSeconds, 'Disconnects this soon after the push count'),
    disconnectGraceSeconds: seconds(GATE_DEFAULTS.disconnectGraceSeconds, 'A disconnect counts once it lasted this long'),
    effectiveMismatchRatio: ratio(GATE_DEFAULTS.effectiveMismatchRatio),
    effectiveMismatchTimeoutSeconds: seconds(GATE_DEFAULTS.effectiveMismatchTimeoutSeconds, 'Mismatches count this long after the push'),
    unhealthyRatio: ratio(GATE_DEFAULTS.unhealthyRatio),
    unhealthyTimeoutSeconds: seconds(GATE_DEFAULTS.unhealthyTimeoutSeconds, 'Unhealthy agents count this long after the push'),
    applyTimeoutSeconds: seconds(GATE_DEFAULTS.applyTimeoutSeconds, 'A pushed agent without APPLIED/FAILED after this long is Failed'),
    analysis: z.array(AnalysisGateSchema).max(10).optional().describe('Analysis gates over the agents\' own telemetry after the push (decision 0321); a step waits for their verdict'),
  })
  .meta({ id: 'RolloutGates' });

const canaryStep = z.object({ percent: z.number(), dwellSeconds: z.number().int() }).strict();

const StrategyInputSchema = z
  .object({
    type: z.enum(['Batch', 'Percentage', 'Canary']),
    batchSize: z.number().int().optional().describe(`Batch: agents per batch (default ${STRATEGY_DEFAULTS.batchSize})`),
    steps: z
      .array(z.union([z.number(), canaryStep]))
      .max(100)
      .optional()
      .describe('Percentage: growing percentages ending at 100 (default 5, 25, 50, 100); Canary: { percent, dwellSeconds } (default 5 %/5 min, 25 %/10 min, 50 %/30 min, 100 %)'),
  })
  .strict();
const OrderingSchema = z.enum(['random', 'hostname', 'last_seen']);

export const CreateRolloutSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    configurationId: z.uuid().optional().describe('The configuration whose version is rolled out (or `package`)'),
    version: z.number().int().min(1).optional().describe('A Published version number of the configuration'),
    package: z
      .object({ name: z.string().min(1).max(128), version: z.string().min(1).max(64) })
      .strict()
      .optional()
      .describe('Instead of a configuration: a package version to roll out (an agent upgrade, decision 0375); agents without AcceptsPackages are Skipped'),
    groupId: z.uuid(),
    strategy: StrategyInputSchema.optional().describe('Default: the tenant\'s default strategy (GET /api/rollouts/defaults), else Canary with its default steps'),
    gates: GatesSchema.partial().strict().optional().describe('Gate thresholds; unset ones take the tenant\'s defaults, else the built-in ones'),
    ordering: OrderingSchema.optional().describe('Order of the group\'s agents across steps (deterministic per group); default: the tenant\'s, else random'),
    autoAdvance: z.boolean().optional().describe('Start the next step by itself after the dwell (default: true for Canary, false otherwise)'),
    dwellSeconds: z.number().int().min(0).max(7 * 24 * 3600).default(0).describe('Batch and Percentage with autoAdvance: wait this long after a step settled'),
  })
  .strict()
  .refine((v) => (v.package ? v.configurationId === undefined && v.version === undefined : v.configurationId !== undefined && v.version !== undefined), {
    message: 'send configurationId and version, or package (not both)',
    path: ['configurationId'],
  });
export class CreateRolloutDto extends createZodDto(CreateRolloutSchema) {}

export const RolloutDefaultsInputSchema = z
  .object({
    strategy: StrategyInputSchema.nullable().optional().describe('The strategy of rollouts created without one (null: the built-in Canary)'),
    gates: GatesSchema.partial().strict().nullable().optional().describe('Thresholds for rollouts that do not set them (null: the built-in ones)'),
    ordering: OrderingSchema.nullable().optional().describe('Ordering of rollouts created without one (null: random)'),
  })
  .strict();
export class RolloutDefaultsInputDto extends createZodDto(RolloutDefaultsInputSchema) {}

export const ExtendSchema = z.object({ seconds: z.number().int().min(1).max(7 * 24 * 3600) }).strict();
export class ExtendDwellDto extends createZodDto(ExtendSchema) {}

/** The body of an abort is optional: without one (or `{}`) no reason is recorded. */
export const AbortRolloutSchema = z.preprocess((v) => v ?? {}, z.object({ reason: z.string().trim().min(1).max(2000).optional().describe('Why; kept in the audit log (and on a withdrawn start approval)') }).strict());
export class AbortRolloutDto extends createZodDto(AbortRolloutSchema) {}

export const RolloutListQuerySchema = PageQuerySchema.extend({ state: z.enum(RolloutState).optional() });
export class RolloutListQueryDto extends createZodDto(RolloutListQuerySchema) {}

export const PreviewQuerySchema = z.object({
  step: z.coerce.number().int().min(0).max(10_000).optional().describe('One step (0-based); all steps when absent'),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe('Agents listed per step, at most'),
});
export class RolloutPreviewQueryDto extends createZodDto(PreviewQuerySchema) {}

export const TargetsQuerySchema = z.object({
  step: z.coerce.number().int().min(0).optional(),
  state: z.enum(['Pending', 'Applying', 'Applied', 'Failed', 'Skipped']).optional(),
  after: z.coerce.number().int().min(-1).optional().describe('Position of the last target of the previous page (nextAfter)'),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});
export class RolloutTargetsQueryDto extends createZodDto(TargetsQuerySchema) {}

export const CountsSchema = z
  .object({
    pending: z.number().int(),
    applying: z.number().int(),
    applied: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int(),
    disconnectedSincePush: z.number().int(),
    total: z.number().int(),
  })
  .meta({ id: 'RolloutCounts' });

export const TargetSchema = z
  .object({
    agentId: z.uuid(),
    displayName: z.string(),
    step: z.number().int(),
    position: z.number().int(),
    state: z.enum(['Pending', 'Applying', 'Applied', 'Failed', 'Skipped']),
    reason: z.string().nullable().describe('Why Skipped, the agent\'s error text when Failed, or what a Pending agent waits for'),
    deniedByPolicy: z
      .object({ id: z.string(), name: z.string() })
      .nullable()
      .describe('Skipped because a push-time check denied the push: the policy (reason says why; decision 0275)'),
    pushedAt: z.string().nullable(),
    appliedAt: z.string().nullable(),
    disconnectedSincePush: z.boolean(),
    healthy: z.boolean().nullable(),
    effectiveMatches: z.boolean().nullable(),
  })
  .meta({ id: 'RolloutTarget' });

export const StepSchema = z
  .object({
    index: z.number().int(),
    agents: z.number().int(),
    startedAt: z.string(),
    settledAt: z.string().nullable(),
    dwellUntil: z.string().nullable(),
    extendedSeconds: z.number().int(),
    last: z.boolean(),
    counts: CountsSchema,
  })
  .meta({ id: 'RolloutStep' });

export const GateRecordSchema = z
  .object({
    gate: z.enum(['apply-failed-ratio', 'unhealthy-ratio', 'effective-mismatch-ratio', 'disconnect-ratio', 'export-failure-ratio', 'drop-ratio', 'throughput-drop']),
    observed: z.number(),
    threshold: z.number(),
    numerator: z.number().int(),
    denominator: z.number().int(),
    agents: z.array(z.uuid()).describe('Agents the gate counted (the first 100)'),
    step: z.number().int(),
    at: z.string(),
    verdict: z.enum(['breach', 'inconclusive']).optional().describe('Analysis gates: inconclusive = too little data once the window was over'),
    baseline: z.number().nullable().optional().describe('Analysis gates: the same measure before the push, or the control\'s accepted items per second'),
    baselineKind: z.enum(['before', 'control']).optional(),
    sample: z.number().optional(),
    minSample: z.number().optional(),
    windowSeconds: z.number().int().optional(),
  })
  .meta({ id: 'RolloutGateBreach' });

const StrategySchema = z.union([
  z.object({ type: z.literal('Batch'), batchSize: z.number().int() }),
  z.object({ type: z.literal('Percentage'), steps: z.array(z.number()) }),
  z.object({ type: z.literal('Canary'), steps: z.array(canaryStep) }),
]);

export class RolloutDefaultsDto extends createZodDto(
  z.object({
    source: z.enum(['tenant', 'built-in']).describe('`built-in` until an Admin sets the tenant\'s defaults'),
    strategy: StrategySchema.describe('What a rollout created without a strategy gets'),
    gates: GatesSchema.describe('What a rollout gets for the thresholds it does not set'),
    ordering: OrderingSchema,
    updatedBy: z.string().nullable(),
    updatedAt: z.string().nullable(),
  }),
) {}

export const RolloutSummarySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(['Rollout', 'Rollback']),
  rollbackOf: z.uuid().nullable().describe('A rollback: the rollout it undoes'),
  rollbackId: z.uuid().nullable().describe('The rollback that undid this rollout'),
  subject: z.enum(['configuration', 'package']).describe('What the rollout delivers: a configuration version, or a package version (an agent upgrade)'),
  configurationId: z.uuid().nullable().describe('null for a package rollout'),
  versionId: z.uuid().nullable(),
  version: z.number().int().nullable(),
  package: z.object({ name: z.string(), version: z.string(), versionId: z.uuid() }).nullable().describe('A package rollout\'s package version'),
  groupId: z.uuid(),
  strategy: StrategySchema,
  gates: GatesSchema,
  ordering: z.enum(['random', 'hostname', 'last_seen']),
  autoAdvance: z.boolean(),
  dwellSeconds: z.number().int(),
  state: z.enum(RolloutState),
  currentStep: z.number().int().nullable().describe('0-based; null before the first step'),
  stepCount: z.number().int().describe('Steps of the strategy (for Batch: from the group\'s size now)'),
  waitingFor: z.enum(['push', 'apply', 'dwell', 'advance']).nullable().describe('What an InProgress rollout waits for'),
  dwellUntil: z.string().nullable(),
  gate: GateRecordSchema.nullable().describe('The last gate breach'),
  counts: CountsSchema,
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

export const RolloutSchema = RolloutSummarySchema.extend({
  steps: z.array(StepSchema),
  targets: z.array(TargetSchema).describe('Per-agent progress, in rollout order (the first 1,000; GET .../targets pages through all)'),
  targetsTruncated: z.boolean(),
  warnings: z
    .array(z.string())
    .optional()
    .describe('On start and resume: `no_worker` when no worker is alive (see GET /api/status); the worker drives rollouts, so this one waits until a worker runs'),
});
export class RolloutDto extends createZodDto(RolloutSchema) {}

/** 202 of a start a tenant approval rule holds (decision 0365): the rollout, still Pending, and the approval request to decide. */
export const RolloutStartPendingSchema = z
  .object({ rollout: RolloutSchema, approvalId: z.uuid().describe('Decide it at /api/approvals/{approvalId} (another person than the one who asked)') });
/** What a start answers: the started rollout (200), or the pending start (202). */
export const RolloutStartResultDto = namedZodDto('RolloutStartResultDto', z.union([RolloutSchema, RolloutStartPendingSchema]));
export class RolloutPageDto extends createZodDto(pageSchema(RolloutSummarySchema)) {}

export class RolloutTargetPageDto extends createZodDto(
  z.object({ items: z.array(TargetSchema), nextAfter: z.number().int().nullable().describe('Pass as ?after= for the next page; null on the last page') }),
) {}

export class RolloutPreviewResultDto extends createZodDto(
  z.object({
    rolloutId: z.uuid(),
    groupSize: z.number().int(),
    steps: z.array(
      z.object({
        index: z.number().int(),
        planned: z.boolean().describe('true: computed from the group now; false: the step already started and these are its agents'),
        cumulative: z.number().int().describe('Agents covered once this step is done'),
        count: z.number().int(),
        agents: z.array(z.object({ id: z.uuid(), displayName: z.string(), willSkip: z.boolean().describe('Without AcceptsRemoteConfig: will be Skipped') })),
        last: z.boolean(),
      }),
    ),
  }),
) {}
