import { Foundation1764000000000 } from './1764000000000-foundation';
import { Agents1764000001000 } from './1764000001000-agents';
import { FleetConfigurationsGroups1764000002000 } from './1764000002000-fleet-configurations-groups';
import { Backplane1764000003000 } from './1764000003000-backplane';
import { Pki1764000004000 } from './1764000004000-pki';
import { Rollouts1764000005000 } from './1764000005000-rollouts';
import { RolloutDefaults1764000006000 } from './1764000006000-rollout-defaults';
import { WorkerHeartbeats1764000040000 } from './1764000040000-worker-heartbeats';

/** Every migration, in order. New migrations are appended here (the runtime never globs). */
export const MIGRATIONS = [Foundation1764000000000, Agents1764000001000, FleetConfigurationsGroups1764000002000, Backplane1764000003000, Pki1764000004000, Rollouts1764000005000, RolloutDefaults1764000006000, WorkerHeartbeats1764000040000];
