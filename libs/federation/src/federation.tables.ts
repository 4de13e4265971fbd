/** The tables libs/federation owns (checked by scripts/architecture/tables.spec.ts). */
export const FEDERATION_TABLES = ['federation_credentials', 'federation_peers', 'federated_rollouts', 'federation_handovers'] as const;
