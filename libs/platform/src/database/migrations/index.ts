import { Foundation1764000000000 } from './1764000000000-foundation';
import { Agents1764000001000 } from './1764000001000-agents';
import { FleetConfigurationsGroups1764000002000 } from './1764000002000-fleet-configurations-groups';
import { Backplane1764000003000 } from './1764000003000-backplane';
import { Pki1764000004000 } from './1764000004000-pki';
import { Rollouts1764000005000 } from './1764000005000-rollouts';
import { RolloutDefaults1764000006000 } from './1764000006000-rollout-defaults';
import { ConfigOutcomes1764000010000 } from './1764000010000-config-outcomes';
import { CertificateOffers1764000020000 } from './1764000020000-certificate-offers';
import { WorkerHeartbeats1764000040000 } from './1764000040000-worker-heartbeats';
import { AgentOperations1764000050000 } from './1764000050000-agent-operations';
import { EffectiveConfigTooLarge1764000060000 } from './1764000060000-effective-config-too-large';
import { AuditEventArchive1764000150000 } from './1764000150000-audit-event-archive';
import { ApprovalRequests1764000151000 } from './1764000151000-approval-requests';
import { Policies1764000152000 } from './1764000152000-policies';

/** Every migration, in order. New migrations are appended here (the runtime never globs). */
export const MIGRATIONS = [Foundation1764000000000, Agents1764000001000, FleetConfigurationsGroups1764000002000, Backplane1764000003000, Pki1764000004000, Rollouts1764000005000, RolloutDefaults1764000006000, ConfigOutcomes1764000010000, CertificateOffers1764000020000, WorkerHeartbeats1764000040000, AgentOperations1764000050000, EffectiveConfigTooLarge1764000060000, AuditEventArchive1764000150000, ApprovalRequests1764000151000, Policies1764000152000];
