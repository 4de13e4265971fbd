import { AgentCapabilities, ServerCapabilities } from '../generated/opamp_pb';

/** Agent capability bits by name (the protocol's names, without the enum prefix). */
export const AGENT_CAPABILITY_BITS: ReadonlyArray<readonly [string, bigint]> = [
  ['ReportsStatus', BigInt(AgentCapabilities.AgentCapabilities_ReportsStatus)],
  ['AcceptsRemoteConfig', BigInt(AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig)],
  ['ReportsEffectiveConfig', BigInt(AgentCapabilities.AgentCapabilities_ReportsEffectiveConfig)],
  ['AcceptsPackages', BigInt(AgentCapabilities.AgentCapabilities_AcceptsPackages)],
  ['ReportsPackageStatuses', BigInt(AgentCapabilities.AgentCapabilities_ReportsPackageStatuses)],
  ['ReportsOwnTraces', BigInt(AgentCapabilities.AgentCapabilities_ReportsOwnTraces)],
  ['ReportsOwnMetrics', BigInt(AgentCapabilities.AgentCapabilities_ReportsOwnMetrics)],
  ['ReportsOwnLogs', BigInt(AgentCapabilities.AgentCapabilities_ReportsOwnLogs)],
  ['AcceptsOpAMPConnectionSettings', BigInt(AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings)],
  ['AcceptsOtherConnectionSettings', BigInt(AgentCapabilities.AgentCapabilities_AcceptsOtherConnectionSettings)],
  ['AcceptsRestartCommand', BigInt(AgentCapabilities.AgentCapabilities_AcceptsRestartCommand)],
  ['ReportsHealth', BigInt(AgentCapabilities.AgentCapabilities_ReportsHealth)],
  ['ReportsRemoteConfig', BigInt(AgentCapabilities.AgentCapabilities_ReportsRemoteConfig)],
  ['ReportsHeartbeat', BigInt(AgentCapabilities.AgentCapabilities_ReportsHeartbeat)],
  ['ReportsAvailableComponents', BigInt(AgentCapabilities.AgentCapabilities_ReportsAvailableComponents)],
  ['ReportsConnectionSettingsStatus', BigInt(AgentCapabilities.AgentCapabilities_ReportsConnectionSettingsStatus)],
];

export const AgentCap = {
  ReportsStatus: 0x1n,
  AcceptsRemoteConfig: 0x2n,
  ReportsEffectiveConfig: 0x4n,
  AcceptsPackages: 0x8n,
  ReportsPackageStatuses: 0x10n,
  ReportsOwnTraces: 0x20n,
  ReportsOwnMetrics: 0x40n,
  ReportsOwnLogs: 0x80n,
  AcceptsOpAMPConnectionSettings: 0x100n,
  AcceptsOtherConnectionSettings: 0x200n,
  AcceptsRestartCommand: 0x400n,
  ReportsHealth: 0x800n,
  ReportsRemoteConfig: 0x1000n,
  ReportsHeartbeat: 0x2000n,
  ReportsAvailableComponents: 0x4000n,
  ReportsConnectionSettingsStatus: 0x8000n,
} as const;

export const ServerCap = {
  AcceptsStatus: BigInt(ServerCapabilities.ServerCapabilities_AcceptsStatus),
  OffersRemoteConfig: BigInt(ServerCapabilities.ServerCapabilities_OffersRemoteConfig),
  AcceptsEffectiveConfig: BigInt(ServerCapabilities.ServerCapabilities_AcceptsEffectiveConfig),
  OffersPackages: BigInt(ServerCapabilities.ServerCapabilities_OffersPackages),
  AcceptsPackagesStatus: BigInt(ServerCapabilities.ServerCapabilities_AcceptsPackagesStatus),
  OffersConnectionSettings: BigInt(ServerCapabilities.ServerCapabilities_OffersConnectionSettings),
  AcceptsConnectionSettingsRequest: BigInt(ServerCapabilities.ServerCapabilities_AcceptsConnectionSettingsRequest),
} as const;

export function hasCapability(capabilities: bigint, bit: bigint): boolean {
  return (capabilities & bit) === bit;
}

/** Capability bitmask → protocol names, lowest bit first; unknown bits as `0x...`. */
export function capabilityNames(capabilities: bigint): string[] {
  const names: string[] = [];
  let known = 0n;
  for (const [name, bit] of AGENT_CAPABILITY_BITS) {
    known |= bit;
    if (capabilities & bit) names.push(name);
  }
  let unknown = capabilities & ~known;
  for (let bit = 1n; unknown > 0n; bit <<= 1n) {
    if (unknown & bit) {
      names.push(`0x${bit.toString(16)}`);
      unknown &= ~bit;
    }
  }
  return names;
}
