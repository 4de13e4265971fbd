import { Agents1764000001000 } from './1764000001000-agents';
import { FleetConfigurationsGroups1764000002000 } from './1764000002000-fleet-configurations-groups';
import { EffectiveConfigTooLarge1764000060000 } from './1764000060000-effective-config-too-large';
import { AgentPushDenial1764000160000 } from './1764000160000-agent-push-denial';
import { AgentTelemetry1764000320000 } from './1764000320000-agent-telemetry';
import { Packages1764000330000 } from './1764000330000-packages';
import { AgentsRowLevelSecurity1764000422000 } from './1764000422000-agents-row-level-security';
import { AgentHandover1764000432000 } from './1764000432000-agent-handover';
import { FleetRowLevelSecurity1764000510000 } from './1764000510000-fleet-row-level-security';
import { AgentsHotUpdates1764000540000 } from './1764000540000-agents-hot-updates';

/** Fleet's migrations (its tables: fleet.tables.ts), in timestamp order; the apps compose every lib's list. */
export const FLEET_MIGRATIONS = [Agents1764000001000, FleetConfigurationsGroups1764000002000, EffectiveConfigTooLarge1764000060000, AgentPushDenial1764000160000, AgentTelemetry1764000320000, Packages1764000330000, AgentsRowLevelSecurity1764000422000, AgentHandover1764000432000, FleetRowLevelSecurity1764000510000, AgentsHotUpdates1764000540000];
