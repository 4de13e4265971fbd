import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '@ampora/platform';
import { capabilityNames, DISPATCH_OUTCOMES } from '@ampora/opamp';
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

export const AgentDetailSchema = AgentSummarySchema.extend({
  tenantId: z.uuid(),
  identifyingAttributes: z.record(z.string(), z.unknown()),
  nonIdentifyingAttributes: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
  capabilities: CapabilitiesSchema,
  health: z.unknown().describe('Overall and per-component health as reported, or null'),
  effectiveConfig: z.object({ files: z.array(ConfigFileSchema), hash: z.string().nullable() }).nullable(),
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
  .object({ yaml: z.string().min(1).describe('The collector configuration, sent byte-for-byte as given') })
  .strict();
export class AssignConfigDto extends createZodDto(AssignConfigSchema) {}

export const AssignResultSchema = z.object({
  agentId: z.uuid(),
  configHash: z.string().describe('config_hash sent to the agent (hex)'),
  delivery: z
    .enum(DISPATCH_OUTCOMES)
    .describe(
      'delivered on a live WebSocket (on whichever instance holds it); queued for the next HTTP poll; no_session: sent when the agent connects; cap_mismatch: the agent does not accept remote config; unconfirmed: handed to the instance holding the agent, which did not answer in time',
    ),
});
export class AssignResultDto extends createZodDto(AssignResultSchema) {}

export const DisconnectResultSchema = z.object({ agentId: z.uuid(), delivery: z.enum(DISPATCH_OUTCOMES) });
export class DisconnectResultDto extends createZodDto(DisconnectResultSchema) {}

function files(stored: StoredConfigFiles | null): Array<z.infer<typeof ConfigFileSchema>> {
  return Object.entries(stored ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, f]) => ({ name, contentType: f.contentType, body: Buffer.from(f.body, 'base64').toString('utf8') }));
}

export function drift(a: AgentEntity): boolean | null {
  if (!a.assignedContentHash || !a.effectiveConfigHash) return null;
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

export function toAgentDetail(a: AgentEntity, staleAfterSeconds: number): z.infer<typeof AgentDetailSchema> {
  const caps = BigInt(a.capabilities);
  return {
    ...toAgentSummary(a, staleAfterSeconds),
    tenantId: a.tenantId,
    identifyingAttributes: a.identifyingAttributes,
    nonIdentifyingAttributes: a.nonIdentifyingAttributes,
    tags: a.tags,
    capabilities: { bits: `0x${caps.toString(16)}`, names: capabilityNames(caps) },
    health: a.health ?? null,
    effectiveConfig: a.effectiveConfig ? { files: files(a.effectiveConfig), hash: a.effectiveConfigHash } : null,
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
