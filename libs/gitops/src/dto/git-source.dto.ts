import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PageQuerySchema, pageSchema, namedZodDto } from '@ampora/platform';
import { MAX_GROUP_ASSIGNMENTS } from '../domain/group-assignment';
import { DEFAULT_BRANCH, DEFAULT_PATH_GLOB, POLL_INTERVAL_SECONDS } from '../domain/source-rules';
import type { GitFileEntity } from '../entities/git-file.entity';
import type { GitSourceEntity } from '../entities/git-source.entity';
import type { GitSyncRunEntity } from '../entities/git-sync-run.entity';

const CredentialKindSchema = z.enum(['None', 'Pat', 'SshKey']);
const pollInterval = z.number().int().min(POLL_INTERVAL_SECONDS.min).max(POLL_INTERVAL_SECONDS.max);
const GroupAssignmentsSchema = z
  .array(z.object({ pathPrefix: z.string().max(500).describe('Paths starting with this (longest prefix wins; empty: every path)'), groupId: z.uuid() }).strict())
  .max(MAX_GROUP_ASSIGNMENTS);

export const CreateGitSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(200).describe('Unique in your tenant'),
    repositoryUrl: z.string().trim().min(1).max(2000).describe('https://…, ssh://…, user@host:path, or file:///path for a repository on the server'),
    branch: z.string().trim().min(1).max(250).default(DEFAULT_BRANCH).describe('The tracked branch (main by default)'),
    pathGlob: z.string().trim().min(1).max(500).default(DEFAULT_PATH_GLOB).describe('Which files are configurations (**/*.yaml by default)'),
    credentialKind: CredentialKindSchema.default('None').describe('None (public or local), Pat (HTTPS token, `token` or `user:token`), SshKey (OpenSSH private key)'),
    credential: z.string().min(1).max(16384).optional().describe('The PAT or private key; sealed at once and never returned'),
    pollIntervalSeconds: pollInterval.default(POLL_INTERVAL_SECONDS.default).describe('15 s to 1 h, 60 s by default'),
    autoPublish: z.boolean().default(false).describe('Publish each imported version without Error findings (off by default)'),
    groupAssignments: GroupAssignmentsSchema.default([]).describe('With autoPublish: a newly published version rolls out to the group of its path (tenant\'s default strategy)'),
  })
  .strict();
export class CreateGitSourceDto extends createZodDto(CreateGitSourceSchema) {}
type CreateGitSourceBody = z.infer<typeof CreateGitSourceSchema>;
/** A source to create (autoPublish and groupAssignments may be left out: off, none). */
export type CreateGitSourceInput = Omit<CreateGitSourceBody, 'autoPublish' | 'groupAssignments'> & Partial<Pick<CreateGitSourceBody, 'autoPublish' | 'groupAssignments'>>;

export const UpdateGitSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    repositoryUrl: z.string().trim().min(1).max(2000).optional(),
    branch: z.string().trim().min(1).max(250).optional(),
    pathGlob: z.string().trim().min(1).max(500).optional(),
    credentialKind: CredentialKindSchema.optional(),
    credential: z.string().min(1).max(16384).optional().describe('A new credential (replaces the sealed one)'),
    pollIntervalSeconds: pollInterval.optional(),
    autoPublish: z.boolean().optional(),
    groupAssignments: GroupAssignmentsSchema.optional(),
  })
  .strict();
export class UpdateGitSourceDto extends createZodDto(UpdateGitSourceSchema) {}
export type UpdateGitSourceInput = z.infer<typeof UpdateGitSourceSchema>;

export const GitSourceSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    repositoryUrl: z.string(),
    branch: z.string(),
    pathGlob: z.string(),
    credentialKind: CredentialKindSchema,
    hasCredential: z.boolean().describe('Whether a credential is stored (it is never returned)'),
    pollIntervalSeconds: z.number().int(),
    status: z.enum(['Active', 'Paused']),
    lastSyncedSha: z.string().nullable(),
    lastSyncedAt: z.string().nullable(),
    hasWebhookToken: z.boolean(),
    autoPublish: z.boolean(),
    groupAssignments: z.array(z.object({ pathPrefix: z.string(), groupId: z.uuid() })),
    webhookUrl: z.string().describe('Where a Git host posts to trigger a sweep (with header X-Ampora-Webhook-Token)'),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'GitSource' });
export type GitSourceResponse = z.infer<typeof GitSourceSchema>;
export class GitSourceDto extends createZodDto(GitSourceSchema.extend({})) {}
const GitSourceEditPendingSchema = z.object({
  source: GitSourceSchema.describe('Created: the source as it will be (GET answers 404 until approved); edited: the source unchanged'),
  approvalId: z.uuid().describe('Decide it at /api/approvals/{approvalId} (another person than the one who asked)'),
});
/** What creating or editing a source answers: the source, or (decision 0403) the pending change (202). */
export const GitSourceEditResultDto = namedZodDto('GitSourceEditResultDto', z.union([GitSourceSchema, GitSourceEditPendingSchema]));
export class GitSourcePageDto extends createZodDto(pageSchema(GitSourceSchema)) {}
export class GitSourceListQueryDto extends createZodDto(PageQuerySchema) {}

const WebhookTokenSchema = z
  .object({ sourceId: z.uuid(), token: z.string().describe('Send as X-Ampora-Webhook-Token; shown only in this answer'), webhookUrl: z.string() })
  .meta({ id: 'GitWebhookToken' });
export class WebhookTokenDto extends createZodDto(WebhookTokenSchema.extend({})) {}

const SyncRequestedSchema = z.object({ sourceId: z.uuid(), jobId: z.string().nullable().describe('The sweep job (the waiting one when the request joined it)') }).meta({ id: 'GitSyncRequested' });
export class SyncRequestedDto extends createZodDto(SyncRequestedSchema.extend({})) {}

const WebhookAcceptedSchema = z.object({ sourceId: z.uuid(), accepted: z.boolean().describe('false when the source is paused (nothing is swept)') }).meta({ id: 'GitWebhookAccepted' });
export class WebhookAcceptedDto extends createZodDto(WebhookAcceptedSchema.extend({})) {}

export const GitSyncRunSchema = z
  .object({
    id: z.uuid(),
    sourceId: z.uuid(),
    trigger: z.enum(['schedule', 'webhook', 'manual']),
    outcome: z.enum(['success', 'partial', 'failed']),
    startedAt: z.string(),
    finishedAt: z.string(),
    tipSha: z.string().nullable(),
    filesSeen: z.number().int(),
    filesImported: z.number().int(),
    filesUnchanged: z.number().int(),
    filesOrphaned: z.number().int(),
    errors: z.array(z.object({ path: z.string(), error: z.string() })),
    failure: z.string().nullable(),
  })
  .meta({ id: 'GitSyncRun' });
export class GitSyncRunPageDto extends createZodDto(pageSchema(GitSyncRunSchema)) {}
export class GitSyncRunListQueryDto extends createZodDto(PageQuerySchema) {}

export const GitFileSchema = z
  .object({
    path: z.string(),
    blobSha: z.string(),
    configurationId: z.uuid(),
    configurationName: z.string(),
    commitSha: z.string(),
    status: z.enum(['tracked', 'orphaned']).describe('orphaned: deleted from Git; the configuration stays, never deleted or pushed by GitOps'),
    updatedAt: z.string(),
  })
  .meta({ id: 'GitFile' });
export class GitFileListDto extends createZodDto(z.object({ items: z.array(GitFileSchema) })) {}

export function webhookPath(sourceId: string): string {
  return `/api/git/webhook/${sourceId}`;
}

export function toGitSourceResponse(s: GitSourceEntity, publicUrl: string): GitSourceResponse {
  return {
    id: s.id,
    name: s.name,
    repositoryUrl: s.repositoryUrl,
    branch: s.branch,
    pathGlob: s.pathGlob,
    credentialKind: s.credentialKind,
    hasCredential: s.credentialSealed !== null,
    pollIntervalSeconds: s.pollIntervalSeconds,
    status: s.status,
    lastSyncedSha: s.lastSyncedSha,
    lastSyncedAt: s.lastSyncedAt?.toISOString() ?? null,
    hasWebhookToken: s.webhookTokenHash !== null,
    autoPublish: s.autoPublish,
    groupAssignments: s.groupAssignments,
    webhookUrl: `${publicUrl}${webhookPath(s.id)}`,
    createdBy: s.createdBy,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

export function toGitSyncRunResponse(r: GitSyncRunEntity): z.infer<typeof GitSyncRunSchema> {
  return {
    id: r.id,
    sourceId: r.sourceId,
    trigger: r.trigger,
    outcome: r.outcome,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt.toISOString(),
    tipSha: r.tipSha,
    filesSeen: r.filesSeen,
    filesImported: r.filesImported,
    filesUnchanged: r.filesUnchanged,
    filesOrphaned: r.filesOrphaned,
    errors: r.errors,
    failure: r.failure,
  };
}

export function toGitFileResponse(f: GitFileEntity): z.infer<typeof GitFileSchema> {
  return { path: f.path, blobSha: f.blobSha, configurationId: f.configurationId, configurationName: f.configurationName, commitSha: f.commitSha, status: f.status, updatedAt: f.updatedAt.toISOString() };
}
