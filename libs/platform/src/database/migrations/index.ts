import { Backplane1764000003000 } from './1764000003000-backplane';
import { ConfigOutcomes1764000010000 } from './1764000010000-config-outcomes';
import { CertificateOffers1764000020000 } from './1764000020000-certificate-offers';
import { WorkerHeartbeats1764000040000 } from './1764000040000-worker-heartbeats';
import { AgentOperations1764000050000 } from './1764000050000-agent-operations';

/**
 * Platform's migrations. Each lib owns the migrations of its tables (libs/<lib>/src/migrations,
 * exported as <LIB>_MIGRATIONS) and the apps compose the full list (apps/composition); TypeORM orders
 * them by timestamp and knows applied ones by class name, so moving a file between libs changes nothing
 * for an existing database. The migrations kept here are the ones already applied that touch tables of
 * several libs (they cannot be split now; scripts/architecture/tables.spec.ts lists which tables):
 * - Backplane: dispatch_envelopes (platform) and agent_session_ownership (opamp);
 * - ConfigOutcomes: agents, agent_config_events (fleet) and rollout_targets (rollouts);
 * - CertificateOffers: pki_certificates (pki), backfilled from agents (fleet);
 * - AgentOperations: api_tokens (governance) and agents (fleet).
 * New migrations go to the lib that owns their tables (its migrations/index.ts), never here.
 */
export const PLATFORM_MIGRATIONS = [Backplane1764000003000, ConfigOutcomes1764000010000, CertificateOffers1764000020000, WorkerHeartbeats1764000040000, AgentOperations1764000050000];
