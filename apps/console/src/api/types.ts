/** The API's shapes the console reads (see /openapi.json); only the fields it uses. */
export type Drift = boolean | 'unknown';

export interface AgentSummary {
  id: string;
  instanceUid: string;
  displayName: string;
  agentType: string;
  agentVersion: string;
  status: 'connected' | 'stale' | 'disconnected';
  healthy: boolean | null;
  remoteConfigStatus: string | null;
  drift: Drift;
  groupId: string | null;
  labels: Record<string, unknown>;
  lastSeenAt: string | null;
  createdAt: string;
}

export interface ConfigFile {
  name: string;
  contentType: string;
  body: string;
}

export interface AgentDetail extends AgentSummary {
  assignment: { source: string; configurationId: string | null; version: number | null } | null;
  identifyingAttributes: Record<string, unknown>;
  nonIdentifyingAttributes: Record<string, unknown>;
  tags: Record<string, string>;
  capabilities: { bits: string; names: string[] };
  health: unknown;
  effectiveConfig: { files: ConfigFile[]; hash: string | null; tooLargeToAnalyse: boolean } | null;
  remoteConfig: {
    status: string | null;
    hash: string | null;
    errorMessage: string | null;
    lastFailure: { hash: string; message: string | null; at: string | null } | null;
  };
  assignedConfig: { hash: string; files: ConfigFile[] } | null;
  pushDenial: { policyName: string; reason: string; path: string; at: string } | null;
  identity: { kind: string; certificateFingerprint: string | null; certificateOffer: { status: string; serialNumber: string } | null };
  connection: { connected: boolean; transport: string | null; ownerInstance: string | null; connectedAt: string | null; disconnectedAt: string | null };
}

export interface SemanticChange {
  kind: string;
  summary: string;
  counts?: boolean;
  why?: string;
}

export interface DriftReport {
  drift: Drift;
  reason: string;
  identical: boolean;
  unified: string;
  semantic: SemanticChange[] | null;
  differences: SemanticChange[];
}

export interface ConfigHistoryEntry {
  at: string;
  kind: string;
  configHash: string;
  version: { configurationId: string; version: number } | null;
  message: string | null;
}

export interface Finding {
  severity: 'Error' | 'Warning' | 'Info';
  code: string;
  message: string;
  path: string;
  line?: number;
  column?: number;
}

export interface Configuration {
  id: string;
  name: string;
  description: string;
  source?: string;
  latestVersion?: number | null;
  publishedVersion?: number | null;
  createdAt: string;
  [key: string]: unknown;
}

export interface VersionSummary {
  id: string;
  number: number;
  status: 'Draft' | 'Published' | 'Archived';
  hash: string;
  errorCount: number;
  warningCount: number;
  createdBy: string;
  createdAt: string;
  publishedAt: string | null;
}

export interface Version extends VersionSummary {
  yaml: string;
  findings: Finding[];
}

export interface Group {
  id: string;
  name: string;
  description: string;
  kind: 'Static' | 'Dynamic';
  selector: string | null;
  priority: number;
  memberCount: number;
  assignment: { configurationId: string; version: number } | null;
}

export interface Counts {
  pending: number;
  applying: number;
  applied: number;
  failed: number;
  skipped: number;
  disconnectedSincePush: number;
  total: number;
}

export interface Rollout {
  id: string;
  name: string;
  kind: 'Rollout' | 'Rollback';
  /** What it delivers: a configuration version, or a package version (an agent upgrade, decision 0375). */
  subject: 'configuration' | 'package';
  configurationId: string | null;
  version: number | null;
  package: { name: string; version: string; versionId: string } | null;
  groupId: string;
  strategy: { type: string; steps?: unknown[]; batchSize?: number };
  gates: Record<string, number>;
  state: 'Pending' | 'InProgress' | 'Paused' | 'Completed' | 'Failed' | 'RolledBack';
  currentStep: number | null;
  stepCount: number;
  waitingFor: string | null;
  dwellUntil: string | null;
  gate: { gate: string; observed: number; threshold: number; numerator: number; denominator: number } | null;
  counts: Counts;
  autoAdvance: boolean;
  createdBy: string;
  createdAt: string;
  /** Null until it starts: a Failed rollout that never started pushed nothing and cannot be rolled back (decision 0412). */
  startedAt?: string | null;
  steps?: Array<{ index: number; agents: number; startedAt: string; settledAt: string | null; dwellUntil: string | null; counts: Counts; last: boolean }>;
  targets?: Array<{ agentId: string; displayName: string; step: number; position: number; state: string; reason: string | null; deniedByPolicy: { name: string } | null }>;
}

export interface AuditEvent {
  id: string;
  actor: string;
  actorRole: string | null;
  entityType: string;
  entityId: string;
  action: string;
  before: unknown;
  after: unknown;
  timestamp: string;
}

export interface Approval {
  id: string;
  subjectKind: string;
  subjectId: string;
  title: string;
  status: string;
  revision: number;
  requiredRole: string;
  authors: Array<{ actor: string }>;
  diff: { before: unknown; after: unknown };
  createdAt: string;
}
