import { Foundation1764000000000 } from './1764000000000-foundation';
import { AuditEventArchive1764000150000 } from './1764000150000-audit-event-archive';
import { ApprovalRequests1764000151000 } from './1764000151000-approval-requests';
import { Policies1764000152000 } from './1764000152000-policies';
import { LintRules1764000300000 } from './1764000300000-lint-rules';
import { ApprovalRules1764000420000 } from './1764000420000-approval-rules';
import { RowLevelSecurity1764000421000 } from './1764000421000-row-level-security';
import { AuditViewSecurityInvoker1764000515000 } from './1764000515000-audit-view-security-invoker';

/** Governance's migrations (its tables: governance.tables.ts), in timestamp order; the apps compose every lib's list. */
export const GOVERNANCE_MIGRATIONS = [Foundation1764000000000, AuditEventArchive1764000150000, ApprovalRequests1764000151000, Policies1764000152000, LintRules1764000300000, ApprovalRules1764000420000, RowLevelSecurity1764000421000, AuditViewSecurityInvoker1764000515000];
