/** The tables libs/gitops owns (checked by scripts/architecture/tables.spec.ts). */
export const GITOPS_TABLES = ['gitops_sources', 'gitops_sync_runs', 'gitops_files', 'gitops_source_edits'] as const;
