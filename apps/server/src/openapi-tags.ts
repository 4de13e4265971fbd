import { OpenApiTag } from '@ampora/platform';

/** Every tag of the API, in the order the interactive docs show them. */
export const OPENAPI_TAGS: OpenApiTag[] = [
  { name: 'agents', description: 'The agent inventory: status, health, effective and assigned configuration' },
  { name: 'configurations', description: 'Collector configurations and their versions: Draft, Published (immutable), Archived; findings and diffs' },
  { name: 'groups', description: 'Static and Dynamic (selector) groups of agents, and the configuration version each assigns' },
  { name: 'rollouts', description: 'Staged delivery of a Published version to a group: strategies, health gates, pause, resume, advance, abort and rollback' },
  { name: 'gitops', description: 'Configurations imported from Git repositories: sources (Admin), sweeps, sync runs, the inbound webhook' },
  { name: 'federation', description: 'Peer Ampora deployments (Admin): federation certificates, peers (four-eyes), ping; the federated fleet view is GET /api/agents?includeFederation=true' },
  { name: 'bootstrap-tokens', description: 'Tokens agents enrol with over OpAMP (Operator)' },
  { name: 'pki', description: 'Ampora\'s CA: signing keys (Admin), agent certificates and revocation (Operator), trust bundle, CRL and OCSP (anonymous)' },
  { name: 'tokens', description: 'Personal access tokens for the REST API (Admin)' },
  { name: 'audit', description: 'The append-only audit log of every change' },
  { name: 'policies', description: 'Custom policies checked at every push (Draft, PendingApproval, Active, Disabled), the tenant\'s policy mode and built-ins, and dry runs' },
  { name: 'approvals', description: 'Four-eyes approvals: pending changes, their diff, approve and reject (never by an author)' },
  { name: 'auth', description: 'Who the caller is: tenant, role and audit actor (Viewer)' },
  { name: 'live', description: 'Live updates of your tenant as Server-Sent Events (Viewer)' },
  { name: 'health', description: 'Liveness and readiness probes (anonymous)' },
  { name: 'telemetry', description: 'Prometheus metrics of this instance (anonymous)' },
];
