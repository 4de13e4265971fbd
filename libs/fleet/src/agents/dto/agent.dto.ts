import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema, namedZodDto } from '@ampora/platform';
import { capabilityNames, CertificateOfferStatus, DISPATCH_OUTCOMES } from '@ampora/opamp';
import { DispatchReportSchema } from '../../assignment/dto/dispatch-report.dto';
import { DiffSchema, SemanticChangeSchema } from '../../configurations/dto/configuration.dto';
import { DRIFT_MEMO } from '../agent-drift';
import { agentStatus } from '../domain/agent-derivations';
import { availableComponentsView } from '../domain/available-components';
import { AgentEntity, StoredConfigFiles } from '../entities/agent.entity';

const labelFilter = z
  .string()
  .regex(/^[^=]+=/, 'a label filter is key=value (for example ?label=env=prod): a label key, then =, then the value to match')
  .transform((s) => ({ key: s.slice(0, s.indexOf('=')), value: s.slice(s.indexOf('=') + 1) }));

const tagFilter = z
  .string()
  .regex(/^[^=]+=.*$/, 'a tag filter is key=value, e.g. tag=team=payments')
  .transform((s) => ({ key: s.slice(0, s.indexOf('=')), value: s.slice(s.indexOf('=') + 1) }));

export const AgentListQuerySchema = PageQuerySchema.extend({
  status: z.enum(['connected', 'stale', 'disconnected']).optional(),
  health: z.enum(['healthy', 'unhealthy', 'unknown']).optional().describe('Reported health; unknown: never reported'),
  label: z
    .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(labelFilter, { error: 'a label filter is key=value; repeat label= for several' }))
    .optional()
    .describe('key=value; repeat for several (all must match)'),
  tag: z
    .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(tagFilter, { error: 'a tag filter is key=value; repeat tag= for several' }))
    .optional()
    .describe('Operator tag key=value; repeat for several (all must match)'),
  text: z.string().min(1).max(200).optional().describe('Matches name, type, instance uid and labels'),
  drift: z
    .enum(['true', 'false', 'unknown'])
    .transform((v): boolean | 'unknown' => (v === 'unknown' ? v : v === 'true'))
    .optional()
    .describe('true: the agent runs something other than its assigned config (the drift view\'s meaning); false: it runs it; unknown: either side is missing'),
  groupId: z.union([z.uuid(), z.literal('none')]).optional().describe('Members of this group, or none for agents in no group'),
  includeFederation: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: merge in the agents of every healthy federation peer (ids peer:<name>/<id>), with each peer\'s status in `federation`'),
});
export class AgentListQueryDto extends createZodDto(AgentListQuerySchema) {}

export const DriftVerdictSchema = z
  .union([z.boolean(), z.literal('unknown')])
  .describe('true: what the agent runs is not what it was assigned (see GET /api/agents/{id}/drift for why); false: it runs the assigned config; "unknown": the assigned or the effective config is missing')
  .meta({ id: 'DriftVerdict' });

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
    drift: DriftVerdictSchema,
    groupId: z.uuid().nullable(),
    labels: z.record(z.string(), z.unknown()),
    lastSeenAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AgentSummary' });
const PeerListStatusSchema = z
  .object({
    peer: z.string(),
    status: z.enum(['ok', 'slow', 'down']),
    reason: z.string().optional().describe('Why the peer is down (or slow)'),
    durationMs: z.number(),
    items: z.number().int().describe('Agents of this peer in this page'),
  })
  .meta({ id: 'FederationPeerListStatus' });
const ListedAgentSchema = AgentSummarySchema.extend({
  id: z.string().describe('The agent id; a federation peer\'s agent is peer:<name>/<id>'),
  peer: z.string().nullable().optional().describe('The federation peer the agent is on (includeFederation=true); null for a local agent'),
});
export class AgentPageDto extends createZodDto(
  pageSchema(ListedAgentSchema).extend({
    federation: z.object({ included: z.literal(true), peers: z.array(PeerListStatusSchema) }).optional().describe('With includeFederation=true: how each peer answered'),
  }),
) {}

export class AgentCountsDto extends createZodDto(
  z
    .object({
      total: z.number().int(),
      connected: z.number().int(),
      stale: z.number().int().describe('Connected, but no heartbeat within the window'),
      disconnected: z.number().int(),
      healthy: z.number().int(),
      unhealthy: z.number().int(),
      healthUnknown: z.number().int().describe('Never reported health'),
    }),
) {}

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

const VersionRefSchema = z.object({ versionId: z.uuid(), configurationId: z.uuid(), version: z.number().int() }).meta({ id: 'ConfigVersionRef' });

export const AvailableComponentsSchema = z
  .object({
    hash: z.string().describe('hex'),
    components: z.array(z.string()).describe('The top-level entries (for a Collector its kinds: receivers, processors, ...)'),
    subComponents: z.record(z.string(), z.array(z.string())).describe('kind → the names of its components'),
    byKind: z
      .record(
        z.string(),
        z.array(
          z.object({
            name: z.string().describe('The component type, e.g. otlp'),
            module: z.string().nullable().describe('The Go module that provides it (code.namespace), without the version'),
            version: z.string().nullable().describe('The module version, when reported'),
            metadata: z.record(z.string(), z.unknown()),
            subComponents: z.array(z.string()).describe('Names of components nested under it, if any'),
          }),
        ),
      )
      .describe('kind → its components with module and version'),
    tree: z.record(z.string(), z.unknown()).describe('Everything reported, at every nesting level: name → { metadata, subComponents }'),
  })
  .meta({ id: 'AvailableComponents' });

export const CertificateOfferSchema = z
  .object({
    status: z.enum(['pending', 'used', 'unusable', 'superseded']).describe('pending: sent, not used yet; used: the agent connected with it; unusable: not used within AMPORA_PKI_OFFER_TIMEOUT_SECONDS (not repeated with the same endpoint and trust); superseded: replaced by a later offer'),
    certificateId: z.uuid(),
    serialNumber: z.string(),
    fingerprint: z.string(),
    endpoint: z.string().nullable().describe('Where the offer sent the agent (destination_endpoint)'),
    offeredAt: z.string(),
    usedAt: z.string().nullable(),
    unusableAt: z.string().nullable().describe('When it was found unusable, or when it will be if still pending'),
  })
  .meta({ id: 'CertificateOffer' });
export type CertificateOfferView = z.infer<typeof CertificateOfferSchema>;

export function toCertificateOfferView(o: CertificateOfferStatus): CertificateOfferView {
  return {
    status: o.status,
    certificateId: o.certificateId,
    serialNumber: o.serialNumber,
    fingerprint: o.fingerprint,
    endpoint: o.endpoint,
    offeredAt: o.offeredAt.toISOString(),
    usedAt: o.usedAt?.toISOString() ?? null,
    unusableAt: o.unusableAt?.toISOString() ?? null,
  };
}

export const AgentDetailSchema = AgentSummarySchema.extend({
  tenantId: z.uuid(),
  groupPinned: z.boolean().describe('Placed by an operator or a bootstrap token (dynamic selectors do not move it)'),
  assignment: AgentAssignmentSchema.nullable(),
  identifyingAttributes: z.record(z.string(), z.unknown()),
  nonIdentifyingAttributes: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()).describe('Operator tags (set with PATCH /api/agents/{id}; seeded from the bootstrap token\'s labels); selectors see them as tag.<key>'),
  capabilities: CapabilitiesSchema,
  health: z.unknown().describe('Overall and per-component health as reported, or null'),
  effectiveConfig: z
    .object({
      files: z.array(ConfigFileSchema),
      hash: z.string().nullable(),
      tooLargeToAnalyse: z.boolean().describe('Over the configuration limits: kept as reported, never analysed (drift is "unknown")'),
    })
    .nullable(),
  remoteConfig: z.object({
    status: z.string().nullable(),
    hash: z.string().nullable(),
    errorMessage: z.string().nullable(),
    failedHash: z.string().nullable().describe('A config the agent failed to apply; not offered again until the assignment changes'),
    reportedAt: z.string().nullable().describe('When the agent last reported a remote config status'),
    lastFailure: z
      .object({
        hash: z.string(),
        version: VersionRefSchema.nullable().describe('The configuration version with that hash, when it is one'),
        message: z.string().nullable(),
        at: z.string().nullable(),
      })
      .nullable()
      .describe('The last config the agent reported FAILED for; stays after later APPLIED statuses of other hashes'),
  }),
  assignedConfig: z.object({ hash: z.string(), contentHash: z.string(), assignedAt: z.string().nullable(), files: z.array(ConfigFileSchema) }).nullable(),
  handover: z
    .object({
      movedToPeer: z.string().nullable().describe('MovedToPeer: handed over to this peer, where it lives now (refused here)'),
      movedAt: z.string().nullable(),
      originPeer: z.string().nullable().describe('Handed over from this peer'),
      originAgentId: z.string().nullable().describe('Its id on the origin peer (its history is there)'),
    })
    .nullable()
    .describe('A cross-deployment handover (decision 0371), or null'),
  pushDenial: z
    .object({
      check: z.string(),
      policyId: z.string(),
      policyName: z.string(),
      reason: z.string(),
      path: z.string().describe('rollout-step, assignment, group-assignment, force-push, …'),
      versionId: z.string().nullable(),
      rolloutId: z.string().nullable(),
      at: z.string(),
    })
    .nullable()
    .describe('The last push a push-time check (a policy in required mode) denied for this agent; cleared when a later push is allowed (decision 0275)'),
  identity: z.object({
    kind: z.enum(['token', 'certificate']),
    bootstrapTokenId: z.uuid().nullable(),
    certificateFingerprint: z.string().nullable(),
    certificateOffer: CertificateOfferSchema.nullable().describe('The latest certificate offered to the agent over OpAMP and what became of it'),
  }),
  connection: z.object({ connected: z.boolean(), transport: z.string().nullable(), ownerInstance: z.string().nullable(), connectedAt: z.string().nullable(), disconnectedAt: z.string().nullable() }),
  connectionSettings: z
    .object({
      status: z.enum(['UNSET', 'APPLIED', 'APPLYING', 'FAILED']).describe('What the agent did with the connection settings offered last'),
      hash: z.string().nullable().describe('The hash of that offer (hex): compare with the hash an endpoint change or rotation answered'),
      errorMessage: z.string().nullable(),
    })
    .nullable()
    .describe('The agent\'s last ConnectionSettingsStatus (decision 0382); null when it never sent one'),
  customCapabilities: z.array(z.string()),
  packageStatuses: z.unknown(),
  availableComponents: AvailableComponentsSchema.nullable(),
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
export const BulkAssignSchema = z
  .object({
    agentIds: z.array(z.uuid()).min(1).max(5_000).describe('At most 5,000 agents'),
    configurationId: z.uuid(),
    version: z.number().int().min(1).describe('A Published version of the configuration'),
  })
  .strict();
export class BulkAssignDto extends createZodDto(BulkAssignSchema) {}
export class BulkAssignResultDto extends createZodDto(
  z.object({
    versionId: z.uuid(),
    configHash: z.string(),
    agents: z.number().int(),
    changed: z.number().int().describe('Agents whose assigned config changed (the others already had it)'),
    dispatch: DispatchReportSchema,
  }),
) {}
export const BulkDisconnectSchema = z.object({ agentIds: z.array(z.uuid()).min(1).max(10_000).describe('At most 10,000 agents') }).strict();
export class BulkDisconnectDto extends createZodDto(BulkDisconnectSchema) {}
const BulkDispatchResultSchema = z.object({ agents: z.number().int(), dispatch: DispatchReportSchema });
export class BulkDispatchResultDto extends createZodDto(BulkDispatchResultSchema) {}
const BulkForcePushPendingSchema = z.object({ agents: z.number().int(), approvalId: z.uuid().describe('Decide it at /api/approvals/{approvalId} (another person than the one who asked)') });
/** What a bulk force-push answers: the paced dispatch, or (decision 0402) the pending request. */
export const BulkForcePushResultDto = namedZodDto('BulkForcePushResultDto', z.union([BulkDispatchResultSchema, BulkForcePushPendingSchema]));

export const DriftDifferenceSchema = SemanticChangeSchema.extend({
  kind: z.enum([...SemanticChangeSchema.shape.kind.options, 'remote_config_hash']),
  counts: z.boolean().describe('Whether this difference makes the agent drift'),
  why: z.string(),
}).meta({ id: 'DriftDifference' });

export class DriftDto extends createZodDto(
  DiffSchema.extend({
    agentId: z.uuid(),
    drift: DriftVerdictSchema,
    reason: z.string().describe('Why drift is what it is'),
    differences: z.array(DriftDifferenceSchema).describe('Every difference between the assigned and the effective config (and the reported hash), each marked counts/why'),
    assignedConfigHash: z.string().nullable().describe('config_hash of the assigned config'),
    reportedHash: z.string().nullable().describe('last_remote_config_hash the agent reported'),
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


export function toAgentSummary(a: AgentEntity, staleAfterSeconds: number, now: number): z.infer<typeof AgentSummarySchema> {
  return {
    id: a.id,
    instanceUid: a.instanceUid,
    displayName: a.displayName,
    agentType: a.agentType,
    agentVersion: a.agentVersion,
    status: agentStatus(a, now, staleAfterSeconds),
    healthy: a.healthy,
    remoteConfigStatus: a.remoteConfigStatus,
    drift: DRIFT_MEMO.verdict(a),
    groupId: a.groupId,
    labels: a.labels,
    lastSeenAt: a.lastSeenAt?.toISOString() ?? null,
    createdAt: a.createdAt.toISOString(),
  };
}

export type VersionRef = z.infer<typeof VersionRefSchema>;

export function toAgentDetail(
  a: AgentEntity,
  staleAfterSeconds: number,
  now: number,
  assignment: AgentAssignment | null = null,
  failedVersion: VersionRef | null = null,
  certificateOffer: CertificateOfferView | null = null,
): z.infer<typeof AgentDetailSchema> {
  const caps = BigInt(a.capabilities);
  return {
    ...toAgentSummary(a, staleAfterSeconds, now),
    tenantId: a.tenantId,
    groupPinned: a.groupPinned,
    assignment,
    identifyingAttributes: a.identifyingAttributes,
    nonIdentifyingAttributes: a.nonIdentifyingAttributes,
    tags: a.tags,
    capabilities: { bits: `0x${caps.toString(16)}`, names: capabilityNames(caps) },
    health: a.health ?? null,
    effectiveConfig: a.effectiveConfig ? { files: files(a.effectiveConfig), hash: a.effectiveConfigHash, tooLargeToAnalyse: a.effectiveConfigTooLarge } : null,
    remoteConfig: {
      status: a.remoteConfigStatus,
      hash: a.remoteConfigHash || null,
      errorMessage: a.remoteConfigError || null,
      failedHash: a.failedConfigHash,
      reportedAt: a.remoteConfigAt?.toISOString() ?? null,
      lastFailure: a.lastFailureHash ? { hash: a.lastFailureHash, version: failedVersion, message: a.lastFailureMessage || null, at: a.lastFailureAt?.toISOString() ?? null } : null,
    },
    assignedConfig:
      a.assignedConfig && a.assignedConfigHash
        ? { hash: a.assignedConfigHash, contentHash: a.assignedContentHash ?? '', assignedAt: a.assignedAt?.toISOString() ?? null, files: files(a.assignedConfig) }
        : null,
    pushDenial: a.pushDenial ?? null,
    handover: a.movedToPeer || a.originPeer ? { movedToPeer: a.movedToPeer, movedAt: a.movedAt?.toISOString() ?? null, originPeer: a.originPeer, originAgentId: a.originAgentId } : null,
    identity: { kind: a.identityKind, bootstrapTokenId: a.bootstrapTokenId, certificateFingerprint: a.certFingerprint, certificateOffer },
    connection: {
      connected: a.connected,
      transport: a.transport,
      ownerInstance: a.ownerInstance,
      connectedAt: a.connectedAt?.toISOString() ?? null,
      disconnectedAt: a.disconnectedAt?.toISOString() ?? null,
    },
    connectionSettings: connectionSettingsView(a.connectionSettingsStatus),
    customCapabilities: a.customCapabilities ?? [],
    packageStatuses: a.packageStatuses ?? null,
    availableComponents: availableComponentsView(a.availableComponents),
  };
}

const CONNECTION_SETTINGS_STATUSES = ['UNSET', 'APPLIED', 'APPLYING', 'FAILED'] as const;

/** The stored ConnectionSettingsStatus (`status` the enum's number as text) as the API shows it. */
function connectionSettingsView(stored: unknown): z.infer<typeof AgentDetailSchema>['connectionSettings'] {
  if (!stored || typeof stored !== 'object') return null;
  const s = stored as { status?: unknown; hash?: unknown; errorMessage?: unknown };
  const status = CONNECTION_SETTINGS_STATUSES[Number(s.status)] ?? 'UNSET';
  return { status, hash: typeof s.hash === 'string' && s.hash ? s.hash : null, errorMessage: typeof s.errorMessage === 'string' && s.errorMessage ? s.errorMessage : null };
}

/** The hashes the drift view names. */
export function driftHashes(a: AgentEntity) {
  return { agentId: a.id, assignedHash: a.assignedContentHash, effectiveHash: a.effectiveConfigHash, assignedConfigHash: a.assignedConfigHash, reportedHash: a.remoteConfigHash || null };
}

export class ConfigHistoryQueryDto extends createZodDto(PageQuerySchema) {}

export const ConfigHistoryEntrySchema = z
  .object({
    at: z.string(),
    kind: z.enum(['PUSHED', 'APPLYING', 'APPLIED', 'FAILED', 'UNSET']).describe('PUSHED: Ampora sent the config; otherwise the status the agent reported for it'),
    configHash: z.string().describe('config_hash (hex)'),
    version: VersionRefSchema.nullable().describe('The configuration version with that hash, when it is one'),
    message: z.string().nullable().describe("The agent's error message (FAILED)"),
  })
  .meta({ id: 'ConfigHistoryEntry' });
export class ConfigHistoryPageDto extends createZodDto(pageSchema(ConfigHistoryEntrySchema)) {}
