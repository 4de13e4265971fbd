import { Agents1764000001000 } from './1764000001000-agents';
import { FleetConfigurationsGroups1764000002000 } from './1764000002000-fleet-configurations-groups';
import { EffectiveConfigTooLarge1764000060000 } from './1764000060000-effective-config-too-large';
import { AgentPushDenial1764000160000 } from './1764000160000-agent-push-denial';

/** Fleet's migrations (its tables: fleet.tables.ts), in timestamp order; the apps compose every lib's list. */
export const FLEET_MIGRATIONS = [Agents1764000001000, FleetConfigurationsGroups1764000002000, EffectiveConfigTooLarge1764000060000, AgentPushDenial1764000160000];
