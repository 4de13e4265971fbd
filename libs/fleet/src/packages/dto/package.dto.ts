import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

const PackageTypeSchema = z.enum(['TopLevel', 'Addon']).describe('TopLevel: the agent itself (an upgrade); Addon: something it loads');

export const PackageVersionSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    type: PackageTypeSchema,
    version: z.string(),
    contentHash: z.string().describe('sha256 of the file (hex): its address in the content-addressed store'),
    sizeBytes: z.number().int(),
    signed: z.boolean(),
    signatureVerified: z.boolean().describe('The signature verified against a trusted key at upload (false when no keys are configured)'),
    createdBy: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'PackageVersion' });
export class PackageVersionDto extends createZodDto(PackageVersionSchema.extend({})) {}
export class PackageVersionListDto extends createZodDto(z.object({ items: z.array(PackageVersionSchema) })) {}

export const PackageSchema = z
  .object({ id: z.uuid(), name: z.string(), type: PackageTypeSchema, versions: z.number().int(), latestVersion: z.string().nullable(), createdAt: z.string() })
  .meta({ id: 'Package' });
export class PackageListDto extends createZodDto(z.object({ items: z.array(PackageSchema) })) {}

export class PackageNameParamDto extends createZodDto(z.object({ name: z.string().min(1).max(128) })) {}
export class PackageVersionParamDto extends createZodDto(z.object({ name: z.string().min(1).max(128), version: z.string().min(1).max(64) })) {}
export class UploadQueryDto extends createZodDto(z.object({ type: PackageTypeSchema.default('TopLevel') })) {}

export const AssignPackageSchema = z
  .object({
    agentIds: z.array(z.uuid()).max(10000).optional().describe('Agents to offer this version to'),
    groupId: z.uuid().optional().describe('Or every member of a group (as it is now)'),
  })
  .strict()
  .refine((v) => (v.agentIds?.length ?? 0) > 0 || v.groupId !== undefined, { message: 'send agentIds or groupId', path: ['agentIds'] });
export class AssignPackageDto extends createZodDto(AssignPackageSchema) {}
const OutcomeCount = z.number().int();
export class AssignPackageResultDto extends createZodDto(
  z.object({
    versionId: z.uuid(),
    agents: z.number().int().describe('Agents now assigned this version'),
    delivery: z
      .object({ delivered: OutcomeCount, queued: OutcomeCount, unchanged: OutcomeCount, no_session: OutcomeCount, cap_mismatch: OutcomeCount, unconfirmed: OutcomeCount })
      .describe('The offer pushed at once (decision 0376): delivered on a WebSocket, queued for an HTTP agent\'s next poll, no_session (offered when it connects), cap_mismatch (no AcceptsPackages), unconfirmed'),
  }),
) {}

const PackageStatusSchema = z.object({
  name: z.string(),
  state: z.enum(['Installed', 'InstallPending', 'Installing', 'Failed', 'Downloading']),
  agentHasVersion: z.string(),
  agentHasHash: z.string(),
  serverOfferedVersion: z.string(),
  serverOfferedHash: z.string(),
  error: z.string().nullable().describe('The agent\'s error message (Failed)'),
  downloadPercent: z.number().nullable(),
});

export class AgentPackagesDto extends createZodDto(
  z.object({
    agentId: z.uuid(),
    assigned: z.array(z.object({ name: z.string(), type: PackageTypeSchema, version: z.string(), versionId: z.uuid(), contentHash: z.string() })),
    statuses: z.object({ packages: z.array(PackageStatusSchema), serverProvidedAllPackagesHash: z.string(), error: z.string().nullable() }).nullable().describe('What the agent last reported (ReportsPackageStatuses)'),
  }),
) {}
