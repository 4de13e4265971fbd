import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema, namedZodDto } from '@ampora/platform';
import { ConfigurationVersionEntity } from '../entities/configuration-version.entity';
import { ConfigurationEntity } from '../entities/configuration.entity';

const MAX_INT = 2_147_483_647;

export const CreateConfigurationSchema = z
  .object({
    name: z.string().trim().min(1).max(200).describe('Unique in your tenant, e.g. edge-collectors-prod'),
    description: z.string().max(2000).optional(),
  })
  .strict();
export class CreateConfigurationDto extends createZodDto(CreateConfigurationSchema) {}

export const UpdateConfigurationSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional().describe('A new name, unique in your tenant'),
    description: z.string().max(2000).optional(),
  })
  .strict()
  .refine((v) => v.name !== undefined || v.description !== undefined, { message: 'send name, description or both', path: ['name'] });
export class UpdateConfigurationDto extends createZodDto(UpdateConfigurationSchema) {}

export const ConfigurationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    source: z.enum(['api', 'git']),
    latestVersion: z.number().int().describe('Highest version number so far (0: no version yet)'),
    publishedVersion: z.number().int().nullable().describe('Highest Published version number'),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Configuration' });
export class ConfigurationDto extends createZodDto(ConfigurationSchema.extend({})) {}
export class ConfigurationPageDto extends createZodDto(pageSchema(ConfigurationSchema)) {}
export class ConfigurationListQueryDto extends createZodDto(PageQuerySchema) {}

export const FindingSchema = z
  .object({
    severity: z.enum(['Error', 'Warning', 'Info']),
    code: z.string().describe('Rule: YAML_SYNTAX, UNDEFINED_COMPONENT, UNUSED_COMPONENT, COMPONENT_UNAVAILABLE, LINT_RULE (a tenant lint rule), ...'),
    message: z.string(),
    path: z.string().describe('Where in the document, e.g. service.pipelines.traces.exporters[1]'),
    line: z.number().int().optional(),
    column: z.number().int().optional(),
    rule: z.object({ id: z.string(), name: z.string() }).optional().describe('The tenant lint rule of a LINT_RULE finding'),
  })
  .meta({ id: 'Finding' });

export class ValidationResultDto extends createZodDto(
  z.object({ findings: z.array(FindingSchema), errorCount: z.number().int(), warningCount: z.number().int() }),
) {}

export const VersionBodySchema = z.object({ yaml: z.string().min(1).describe('The collector configuration; kept byte-for-byte') }).strict();
export class VersionBodyDto extends createZodDto(VersionBodySchema) {}

const VersionBase = z.object({
  id: z.uuid(),
  configurationId: z.uuid(),
  number: z.number().int(),
  status: z.enum(['Draft', 'Published', 'Archived']),
  hash: z.string().describe('SHA-256 of the YAML text (compared with agents\' effective config for drift)'),
  configHash: z.string().describe('config_hash sent to agents with this version'),
  errorCount: z.number().int(),
  warningCount: z.number().int(),
  sourceRef: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  publishedAt: z.string().nullable(),
  archivedAt: z.string().nullable(),
});

export const VersionSummarySchema = VersionBase.meta({ id: 'ConfigurationVersionSummary' });
export const VersionSchema = VersionBase.extend({
  yaml: z.string(),
  findings: z.array(FindingSchema),
  updatedAt: z.string(),
  publishedBy: z.string().nullable(),
  archivedBy: z.string().nullable(),
}).meta({ id: 'ConfigurationVersion' });
export class VersionDto extends createZodDto(VersionSchema.extend({})) {}
const VersionPublishPendingSchema = z.object({ version: VersionSchema, approvalId: z.uuid().describe('Decide it at /api/approvals/{approvalId} (another person than the one who asked)') });
/** What a publish answers: the published version (200), or the pending publication (202, decision 0400). */
export const VersionPublishResultDto = namedZodDto('VersionPublishResultDto', z.union([VersionSchema, VersionPublishPendingSchema]));
export class VersionPageDto extends createZodDto(pageSchema(VersionSummarySchema)) {}
export class VersionListQueryDto extends createZodDto(PageQuerySchema) {}

export const VersionParamSchema = z.object({ id: z.uuid(), n: z.coerce.number().int().min(1).max(MAX_INT).describe('Version number') });
export class VersionParamDto extends createZodDto(VersionParamSchema) {}

export const CompareQuerySchema = z.object({
  from: z.coerce.number().int().min(1).max(MAX_INT).describe('Version number'),
  to: z.coerce.number().int().min(1).max(MAX_INT).describe('Version number'),
});
export class CompareQueryDto extends createZodDto(CompareQuerySchema) {}

export const SemanticChangeSchema = z
  .object({
    kind: z.enum([
      'component_added',
      'component_removed',
      'component_changed',
      'pipeline_added',
      'pipeline_removed',
      'pipeline_component_added',
      'pipeline_component_removed',
      'pipeline_order_changed',
      'extension_enabled',
      'extension_disabled',
      'setting_changed',
    ]),
    summary: z.string().describe('e.g. "exporter otlp/2 added to the metrics pipeline"'),
    section: z.enum(['receivers', 'processors', 'exporters', 'connectors', 'extensions']).optional(),
    component: z.string().optional(),
    pipeline: z.string().optional(),
    role: z.enum(['receivers', 'processors', 'exporters']).optional(),
    keys: z.array(z.object({ key: z.string(), change: z.enum(['added', 'removed', 'changed']) })).optional(),
  })
  .meta({ id: 'SemanticChange' });

export const DiffSchema = z.object({
  identical: z.boolean(),
  unified: z.string().describe('Unified diff of the texts (empty when identical)'),
  semantic: z.array(SemanticChangeSchema).nullable().describe('By component and pipeline; null when either side is not a valid configuration'),
});

export class CompareResultDto extends createZodDto(
  DiffSchema.extend({
    configurationId: z.uuid(),
    from: z.object({ number: z.number().int(), hash: z.string(), status: z.string() }),
    to: z.object({ number: z.number().int(), hash: z.string(), status: z.string() }),
  }),
) {}

export const CheckConfigurationSchema = z
  .object({
    yaml: z.string().min(1).describe('The proposed collector configuration'),
    configurationId: z.uuid().optional().describe('Diff against a version of this configuration'),
    version: z.number().int().min(1).max(MAX_INT).optional().describe('That version (default: the latest)'),
  })
  .strict();
export class CheckConfigurationDto extends createZodDto(CheckConfigurationSchema) {}
export class CheckResultDto extends createZodDto(
  z.object({
    findings: z.array(FindingSchema),
    errorCount: z.number().int(),
    warningCount: z.number().int(),
    against: z.object({ number: z.number().int(), hash: z.string(), status: z.string() }).nullable().describe('The stored version diffed against (null: no configuration or no version yet)'),
    diff: DiffSchema.nullable(),
  }),
) {}

export const FindingsQuerySchema = z.object({
  agentId: z.uuid().optional().describe('Also check against the components this agent reported it has'),
  groupId: z.uuid().optional().describe('Validate against a group: every component the version uses must exist on each of its agents (COMPONENT_UNAVAILABLE findings otherwise)'),
});
export class FindingsQueryDto extends createZodDto(FindingsQuerySchema) {}
export class FindingsDto extends createZodDto(z.object({ versionId: z.uuid(), agentId: z.uuid().nullable(), groupId: z.uuid().nullable(), findings: z.array(FindingSchema) })) {}

export function toConfigurationResponse(c: ConfigurationEntity, publishedVersion: number | null): z.infer<typeof ConfigurationSchema> {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    source: c.source,
    latestVersion: c.latestVersion,
    publishedVersion,
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

export function toVersionSummary(v: ConfigurationVersionEntity): z.infer<typeof VersionSummarySchema> {
  return {
    id: v.id,
    configurationId: v.configurationId,
    number: v.number,
    status: v.status,
    hash: v.contentHash,
    configHash: v.configHash,
    errorCount: v.errorCount,
    warningCount: v.warningCount,
    sourceRef: v.sourceRef,
    createdBy: v.createdBy,
    createdAt: v.createdAt.toISOString(),
    publishedAt: v.publishedAt?.toISOString() ?? null,
    archivedAt: v.archivedAt?.toISOString() ?? null,
  };
}

export function toVersionResponse(v: ConfigurationVersionEntity): z.infer<typeof VersionSchema> {
  return {
    ...toVersionSummary(v),
    yaml: v.yaml,
    findings: v.findings,
    updatedAt: v.updatedAt.toISOString(),
    publishedBy: v.publishedBy,
    archivedBy: v.archivedBy,
  };
}
