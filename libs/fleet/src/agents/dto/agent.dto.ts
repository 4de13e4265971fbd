import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { capabilityNames, DISPATCH_OUTCOMES } from '@ampora/opamp';
import { DispatchReportSchema } from '../../assignment/dto/dispatch-report.dto';
import { DiffSchema } from '../../configurations/dto/configuration.dto';
import { agentStatus } from '../domain/agent-derivations';
import { AgentEntity, StoredConfigFiles } from '../entities/agent.entity';

const labelFilter = z
  .string()
  .regex(/^[^=]+=.*$/, 'a label filter is key=value')
  .transform((s) => ({ key: s.slice(0, s.indexOf('=')), value: s.slice(s.indexOf('=') + 1) }));

export const AgentListQuerySchema = PageQuerySchema.extend({
  status: z.enum(['connected', 'stale', 'disconnected']).optional(),
  label: z
    .union([labelFilter, z.array(labelFilter)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional()
    .describe('key=value; repeat for several (all must match)'),
  text: z.string().min(1).max(200).optional().describe('Matches name, type, instance uid and labels'),
  drift: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: the assigned config differs from the effective one; false: they are equal (agents where either is unknown match neither)'),
  groupId: z.union([z.uuid(), z.literal('none')]).optional().describe('Members of this group, or none for agents in no group'),
});
export class AgentListQueryDto extends createZodDto(AgentListQuerySchema) {}

const CapabilitiesSchema = z.object({ bits: z.string().describe('hex bitmask'), names: z.array(z.string()) });

export const AgentSummarySchema = z
  .object({
    id: z.uuid(),
    instanceUid: z.string(),
    displayName: z.string(),
    agentType: z.string(),
    agentVersion: z.string(),
    status: z.enum(['connected', 'stale', 'disconnected']),
    healthy: z.boolean().nullable(),
    remoteConfigStatus: z.string().nullable(),
    drift: z.boolean().nullable().describe('Assigned config differs from the effective one (null when either is unknown)'),
    groupId: z.uuid().nullable(),
    labels: z.record(z.string(), z.unknown()),
    lastSeenAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AgentSummary' });
export class AgentPageDto extends createZodDto(pageSchema(AgentSummarySchema)) {}

const ConfigFileSchema = z.object({ name: z.string(), contentType: z.string(), body: z.string().describe('UTF-8 text of the file') });

export const AgentAssignmentSchema = z
  .object({
    source: z.enum(['direct', 'rollout', 'group']).describe('Set on the agent directly, by a rollout, or through its group'),
    versionId: z.uuid().nullable().describe('null for a raw { yaml } assignment'),
    configurationId: z.uuid().nullable(),
    version: z.number().int().nullable(),
  })
  .meta({ id: 'AgentAssignment' });
export type AgentAssignment = z.infer<typeof AgentAssignmentSchema>;

export const AgentDetailSchema = AgentSummarySchema.extend({
  tenantId: z.uuid(),
  groupPinned: z.boolean().describe('Placed by an operator or a bootstrap token (dynamic selectors do not move it)'),
  assignment: AgentAssignmentSchema.nullable(),
  identifyingAttributes: z.record(z.string(), z.unknown()),
  nonIdentifyingAttributes: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
  capabilities: CapabilitiesSchema,
  health: z.unknown().describe('Overall and per-component health as reported, or null'),
  effectiveConfig: z
    .object({
      files: z.array(ConfigFileSchema),
      hash: z.string().nullable(),
      tooLargeToAnalyse: z.boolean().describe('Over the configuration limits: kept as reported, never analysed (drift is null)'),
    })
    .nullable(),
  remoteConfig: z.object({
    status: z.string().nullable(),
    hash: z.string().nullable(),
    errorMessage: z.string().nullable(),
    failedHash: z.string().nullable().describe('A config the agent failed to apply; not offered again until the assignment changes'),
  }),
  assignedConfig: z.object({ hash: z.string(), contentHash: z.string(), assignedAt: z.string().nullable(), files: z.array(ConfigFileSchema) }).nullable(),
  identity: z.object({ kind: z.enum(['token', 'certificate']), bootstrapTokenId: z.uuid().nullable(), certificateFingerprint: z.string().nullable() }),
  connection: z.object({ connected: z.boolean(), transport: z.string().nullable(), ownerInstance: z.string().nullable(), connectedAt: z.string().nullable(), disconnectedAt: z.string().nullable() }),
  customCapabilities: z.array(z.string()),
  packageStatuses: z.unknown(),
  availableComponents: z.unknown(),
});
export class AgentDetailDto extends createZodDto(AgentDetailSchema) {}

export const AssignConfigSchema = z
  .object({
    yaml: z.string().min(1).optional().describe('A collector configuration, sent byte-for-byte as given (unversioned)'),
    configurationId: z.uuid().optional().describe('With version: a Published configuration version'),
    version: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const byVersion = v.configurationId !== undefined || v.version !== undefined;
    if (v.yaml !== undefined && byVersion) ctx.addIssue({ code: 'custom', message: 'send either yaml or configurationId and version, not both', path: ['yaml'] });
    else if (v.yaml === undefined && !byVersion) ctx.addIssue({ code: 'custom', message: 'send yaml, or configurationId and version', path: ['yaml'] });
    else if (byVersion && (v.configurationId === undefined || v.version === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'configurationId and version go together', path: [v.configurationId === undefined ? 'configurationId' : 'version'] });
    }
  })
  .describe('Either { yaml } or { configurationId, version }');
export class AssignConfigDto extends createZodDto(AssignConfigSchema) {}

export const AssignResultSchema = z.object({
  agentId: z.uuid(),
  versionId: z.uuid().nullable().describe('The assigned configuration version (null for a raw { yaml } assignment)'),
  configHash: z.string().describe('config_hash sent to the agent (hex)'),
  delivery: z
    .enum(DISPATCH_OUTCOMES)
    .describe(
      'delivered on a live WebSocket (on whichever instance holds it); queued for the next HTTP poll; no_session: sent when the agent connects; cap_mismatch: the agent does not accept remote config; unconfirmed: handed to the instance holding the agent, which did not answer in time',
    ),
});
export class AssignResultDto extends createZodDto(AssignResultSchema) {}

export const DisconnectResultSchema = z.object({ agentId: z.uuid(), delivery: z.enum(DISPATCH_OUTCOMES) });
const DeliverySchema = z.enum(DISPATCH_OUTCOMES);

export const ClearAssignmentResultSchema = z.object({
  agentId: z.uuid(),
  assignment: AgentAssignmentSchema.nullable().describe('What the agent is assigned now (its group\'s version, or nothing)'),
  configHash: z.string().nullable(),
  delivery: DeliverySchema.nullable().describe('null when there was nothing new to push'),
});
export class ClearAssignmentResultDto extends createZodDto(ClearAssignmentResultSchema) {}

export const MoveAgentSchema = z.object({ groupId: z.uuid().nullable().describe('A Static group, or null for no group') }).strict();
export class MoveAgentDto extends createZodDto(MoveAgentSchema) {}

export const MoveResultSchema = z.object({
  agentId: z.uuid(),
  groupId: z.uuid().nullable(),
  configHash: z.string().nullable().describe('The assigned config hash after the move'),
  delivery: DeliverySchema.nullable().describe('null when the assigned config did not change'),
});
export class MoveResultDto extends createZodDto(MoveResultSchema) {}

export const BulkMoveSchema = z
  .object({ agentIds: z.array(z.uuid()).min(1).max(10_000).describe('At most 10,000 agents'), groupId: z.uuid().nullable().describe('A Static group, or null for no group') })
  .strict();
export class BulkMoveDto extends createZodDto(BulkMoveSchema) {}

export class BulkMoveResultDto extends createZodDto(
  z.object({
    groupId: z.uuid().nullable(),
    moved: z.number().int(),
    alreadyThere: z.number().int(),
    movedFrom: z.record(z.string(), z.number().int()).describe('Group id (or "none") → agents that left it'),
    dispatch: DispatchReportSchema,
  }),
) {}

export const BulkForcePushSchema = z.object({ agentIds: z.array(z.uuid()).min(1).max(5_000).describe('At most 5,000 agents') }).strict();
export class BulkForcePushDto extends createZodDto(BulkForcePushSchema) {}
export const BulkDisconnectSchema = z.object({ agentIds: z.array(z.uuid()).min(1).max(10_000).describe('At most 10,000 agents') }).strict();
export class BulkDisconnectDto extends createZodDto(BulkDisconnectSchema) {}
export class BulkDispatchResultDto extends createZodDto(z.object({ agents: z.number().int(), dispatch: DispatchReportSchema })) {}

export class DriftDto extends createZodDto(
  DiffSchema.extend({
    agentId: z.uuid(),
    drift: z.boolean().nullable().describe('null when the assigned or the effective config is unknown'),
    assignedHash: z.string().nullable().describe('Content hash of the assigned config'),
    effectiveHash: z.string().nullable(),
    assignment: AgentAssignmentSchema.nullable(),
  }),
) {}

export class DisconnectResultDto extends createZodDto(DisconnectResultSchema) {}

function files(stored: StoredConfigFiles | null): Array<z.infer<typeof ConfigFileSchema>> {
  return Object.entries(stored ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, f]) => ({ name, contentType: f.contentType, body: Buffer.from(f.body, 'base64').toString('utf8') }));
}

export function drift(a: AgentEntity): boolean | null {
  if (!a.assignedContentHash || !a.effectiveConfigHash || a.effectiveConfigTooLarge) return null;
  return a.assignedContentHash !== a.effectiveConfigHash;
}

export function toAgentSummary(a: AgentEntity, staleAfterSeconds: number, now = Date.now()): z.infer<typeof AgentSummarySchema> {
  return {
    id: a.id,
    instanceUid: a.instanceUid,
    displayName: a.displayName,
    agentType: a.agentType,
    agentVersion: a.agentVersion,
    status: agentStatus(a, now, staleAfterSeconds),
    healthy: a.healthy,
    remoteConfigStatus: a.remoteConfigStatus,
    drift: drift(a),
    groupId: a.groupId,
    labels: a.labels,
    lastSeenAt: a.lastSeenAt?.toISOString() ?? null,
    createdAt: a.createdAt.toISOString(),
  };
}

export function toAgentDetail(a: AgentEntity, staleAfterSeconds: number, assignment: AgentAssignment | null = null): z.infer<typeof AgentDetailSchema> {
  const caps = BigInt(a.capabilities);
  return {
    ...toAgentSummary(a, staleAfterSeconds),
    tenantId: a.tenantId,
    groupPinned: a.groupPinned,
    assignment,
    identifyingAttributes: a.identifyingAttributes,
    nonIdentifyingAttributes: a.nonIdentifyingAttributes,
    tags: a.tags,
    capabilities: { bits: `0x${caps.toString(16)}`, names: capabilityNames(caps) },
    health: a.health ?? null,
    effectiveConfig: a.effectiveConfig ? { files: files(a.effectiveConfig), hash: a.effectiveConfigHash, tooLargeToAnalyse: a.effectiveConfigTooLarge } : null,
    remoteConfig: { status: a.remoteConfigStatus, hash: a.remoteConfigHash || null, errorMessage: a.remoteConfigError || null, failedHash: a.failedConfigHash },
    assignedConfig:
      a.assignedConfig && a.assignedConfigHash
        ? { hash: a.assignedConfigHash, contentHash: a.assignedContentHash ?? '', assignedAt: a.assignedAt?.toISOString() ?? null, files: files(a.assignedConfig) }
        : null,
    identity: { kind: a.identityKind, bootstrapTokenId: a.bootstrapTokenId, certificateFingerprint: a.certFingerprint },
    connection: {
      connected: a.connected,
      transport: a.transport,
      ownerInstance: a.ownerInstance,
      connectedAt: a.connectedAt?.toISOString() ?? null,
      disconnectedAt: a.disconnectedAt?.toISOString() ?? null,
    },
    customCapabilities: a.customCapabilities ?? [],
    packageStatuses: a.packageStatuses ?? null,
    availableComponents: a.availableComponents ?? null,
  };
}
