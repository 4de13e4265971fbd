/** The tables libs/fleet owns (checked by scripts/architecture/tables.spec.ts). */
export const FLEET_TABLES = ['agents', 'agent_config_events', 'bootstrap_tokens', 'configurations', 'configuration_versions', 'groups', 'agent_telemetry_rollups', 'agent_telemetry_keys', 'packages', 'package_versions'] as const;
