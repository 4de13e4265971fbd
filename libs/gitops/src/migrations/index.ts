import { Gitops1764000140000 } from './1764000140000-gitops';
import { GitopsAutoPublish1764000141000 } from './1764000141000-gitops-auto-publish';
import { GitopsSourceEdits1764000500000 } from './1764000500000-gitops-source-edits';
import { GitopsRowLevelSecurity1764000513000 } from './1764000513000-gitops-row-level-security';

/** GitOps' migrations (its tables: gitops.tables.ts), in timestamp order; the apps compose every lib's list. */
export const GITOPS_MIGRATIONS = [Gitops1764000140000, GitopsAutoPublish1764000141000, GitopsSourceEdits1764000500000, GitopsRowLevelSecurity1764000513000];
