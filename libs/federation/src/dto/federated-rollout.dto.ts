import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { totalCounts } from '../domain/federated-rollout';
import type { FederatedRolloutEntity } from '../entities/federated-rollout.entity';

const GROUP_NAME = z.string().trim().min(1).max(200);

export const CreateFederatedRolloutSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    configurationId: z.uuid().describe('A configuration of this deployment; every target must have the version with the same content hash Published (matched by the configuration\'s name)'),
    version: z.number().int().min(1).describe('Its Published version number here'),
    groupName: GROUP_NAME.describe('The group each target rolls out to, by name (a target can override it)'),
    targets: z
      .array(
        z
          .object({
            peer: z.string().min(1).max(63).optional().describe('An Active peer\'s name; left out: this deployment'),
            groupName: GROUP_NAME.optional().describe('This target\'s group (default: groupName)'),
          })
          .strict(),
      )
      .min(1)
      .max(20)
      .describe('The deployments that run a leg, each with its own rollout'),
    coordination: z.enum(['Independent', 'Synchronized']).default('Independent').describe('Independent: each leg advances on its own clock; Synchronized: every leg waits for the slowest before the next step'),
    strategy: z.record(z.string(), z.unknown()).optional().describe('As POST /api/rollouts takes it, applied by every leg (default: each target\'s tenant default)'),
    gates: z.record(z.string(), z.unknown()).optional().describe('As POST /api/rollouts takes them (default: each target\'s)'),
    ordering: z.enum(['random', 'hostname', 'last_seen']).optional(),
    autoAdvance: z.boolean().optional().describe('Independent only (Synchronized legs are advanced together by the coordinator)'),
    dwellSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional(),
  })
  .strict();
export class CreateFederatedRolloutDto extends createZodDto(CreateFederatedRolloutSchema) {}

const CountsSchema = z.object({ pending: z.number(), applying: z.number(), applied: z.number(), failed: z.number(), skipped: z.number(), total: z.number() });

const LegSchema = z.object({
  deployment: z.string().describe('`local` (this deployment) or the peer\'s name'),
  groupName: z.string(),
  rolloutId: z.string().nullable().describe('The leg\'s rollout on its deployment'),
  state: z.enum(['Held', 'Pending', 'InProgress', 'Paused', 'Completed', 'Failed', 'RolledBack']),
  reason: z.string().nullable().describe('Held: why the target refused the leg (retried on every tick); Paused: the gate'),
  currentStep: z.number().nullable(),
  stepCount: z.number(),
  waitingFor: z.string().nullable(),
  counts: CountsSchema,
  gate: z.object({ gate: z.string(), observed: z.number(), threshold: z.number(), step: z.number() }).nullable(),
  rollbackState: z.string().nullable().describe('The state of the leg\'s rollback, once rolled back'),
  seenAt: z.string().nullable(),
  unreachable: z.string().nullable().describe('Why the last call to the deployment failed (the leg shows what was last seen)'),
});

export const FederatedRolloutSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    configurationName: z.string(),
    version: z.number(),
    contentHash: z.string(),
    coordination: z.enum(['Independent', 'Synchronized']),
    state: z.enum(['InProgress', 'Paused', 'Completed', 'Failed', 'RolledBack']),
    reason: z.string().nullable(),
    counts: CountsSchema.describe('Every leg\'s counts summed'),
    legs: z.array(LegSchema),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  });
export class FederatedRolloutDto extends createZodDto(FederatedRolloutSchema) {}

export function toFederatedRolloutResponse(r: FederatedRolloutEntity): z.infer<typeof FederatedRolloutSchema> {
  return {
    id: r.id,
    name: r.name,
    configurationName: r.configurationName,
    version: r.versionNumber,
    contentHash: r.contentHash,
    coordination: r.coordination,
    state: r.state,
    reason: r.reason,
    counts: totalCounts(r.legs),
    legs: r.legs.map(({ peer, ...l }) => ({ deployment: peer ?? 'local', ...l })),
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}
