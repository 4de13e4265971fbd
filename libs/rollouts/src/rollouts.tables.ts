/** The tables libs/rollouts owns (checked by scripts/architecture/tables.spec.ts). */
export const ROLLOUTS_TABLES = ['rollouts', 'rollout_targets', 'rollout_defaults'] as const;
