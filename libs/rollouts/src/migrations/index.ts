import { Rollouts1764000005000 } from './1764000005000-rollouts';
import { RolloutDefaults1764000006000 } from './1764000006000-rollout-defaults';
import { TargetPolicyDenial1764000161000 } from './1764000161000-target-policy-denial';
import { PackageRollouts1764000440000 } from './1764000440000-package-rollouts';
import { RolloutsRowLevelSecurity1764000512000 } from './1764000512000-rollouts-row-level-security';
import { RolloutTargetsHotUpdates1764000550000 } from './1764000550000-rollout-targets-hot-updates';

/** Rollouts' migrations (its tables: rollouts.tables.ts), in timestamp order; the apps compose every lib's list. */
export const ROLLOUTS_MIGRATIONS = [Rollouts1764000005000, RolloutDefaults1764000006000, TargetPolicyDenial1764000161000, PackageRollouts1764000440000, RolloutsRowLevelSecurity1764000512000, RolloutTargetsHotUpdates1764000550000];
