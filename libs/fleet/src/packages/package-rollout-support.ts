import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { DispatchOutcome } from '@ampora/opamp';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { AssignedPackage, packageHash, PackageStatusView, packageStatusesView, PackageType } from './domain/packages';
import { assignedEntry, PackagePushOutcomes, PackagesService } from './packages.service';

/** A package version as a rollout needs it (decision 0375). */
export interface RolloutPackage {
  id: string;
  name: string;
  version: string;
  type: PackageType;
  contentHash: string;
  /** PackageAvailable.hash of this version's offer (hex): what the agent reports as agent_has_hash / server_offered_hash. */
  offerHash: string;
}

/** What the inventory says of an agent a package rollout's target watches. */
export interface PackageAgentState {
  id: string;
  groupId: string | null;
  /** The agent's reported status of the package (undefined: it reported none for it). */
  status: PackageStatusView | undefined;
  /** The version of the package the agent is assigned now (null: none). */
  assignedVersionId: string | null;
  healthy: boolean | null;
  connected: boolean;
  disconnectedAt: Date | null;
}

/** One agent's package assignment to put back: the version it had before, or none. */
export interface PackageRestore {
  agentId: string;
  previousVersionId: string | null;
}

interface VersionRow {
  id: string;
  name: string;
  type: PackageType;
  version: string;
  content_hash: string;
  signature: Buffer | null;
}

/**
 * Fleet's face for package rollouts (agent upgrades rolled out like configurations, decision 0375):
 * the package version, assigning it to a step's agents (recording what each had before), putting the
 * previous version back, the agents' reported statuses of the package, and pushing the offers. The
 * rollout engine never names fleet's tables. Set-based: one or two statements per call.
 */
@Injectable()
export class PackageRolloutSupport {
  constructor(
    private readonly dataSource: DataSource,
    private readonly packages: PackagesService,
  ) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  /** A version of a package of the tenant (404 problems otherwise). */
  async packageVersion(tenantId: string, name: string, version: string, manager?: EntityManager): Promise<RolloutPackage> {
    const [row]: VersionRow[] = await this.manager(manager).query(
      `SELECT v.id, p.name, p.type, v.version, v.content_hash, v.signature FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE p.tenant_id = $1 AND p.name = $2 AND v.version = $3`,
      [tenantId, name, version],
    );
    if (!row) throw new FleetException(FleetErrorCode.PACKAGE_VERSION_NOT_FOUND, `Package ${name} has no version ${version}`);
    return rolloutPackage(row);
  }

  /** A version by id, or null when it is gone. */
  async packageVersionById(versionId: string, manager?: EntityManager): Promise<RolloutPackage | null> {
    const [row]: VersionRow[] = await this.manager(manager).query(`SELECT v.id, p.name, p.type, v.version, v.content_hash, v.signature FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE v.id = $1`, [versionId]);
    return row ? rolloutPackage(row) : null;
  }

  /**
   * Assigns the version to the agents (locked by the caller), in the caller's transaction; returns
   * what each had of the package before (its version id, or null), the rollback's memory.
   */
  async assignPackage(manager: EntityManager, tenantId: string, agentIds: string[], versionId: string): Promise<Map<string, string | null>> {
    if (agentIds.length === 0) return new Map();
    const [row]: VersionRow[] = await manager.query(`SELECT v.id, p.name, p.type, v.version, v.content_hash, v.signature FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE v.id = $1 AND v.tenant_id = $2`, [versionId, tenantId]);
    if (!row) throw new FleetException(FleetErrorCode.PACKAGE_VERSION_NOT_FOUND, `Package version ${versionId} is gone`);
    const before: Array<{ id: string; previous: string | null }> = await manager.query(
      `SELECT id, assigned_packages -> $2::text ->> 'versionId' AS previous FROM agents WHERE tenant_id = $1 AND id = ANY($3::uuid[])`,
      [tenantId, row.name, agentIds],
    );
    const entry = assignedEntry({ id: row.id, version: row.version, type: row.type, contentHash: row.content_hash, signature: row.signature });
    await manager.query(
      `UPDATE agents SET assigned_packages = coalesce(assigned_packages, '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb) WHERE tenant_id = $1 AND id = ANY($4::uuid[])`,
      [tenantId, row.name, JSON.stringify(entry), agentIds],
    );
    return new Map(before.map((b) => [b.id, b.previous]));
  }

  /**
   * Puts back what the agents had of the package before a rollout assigned `rolloutVersionId`: the
   * previous version, or no assignment of the package when there was none. Only agents still assigned
   * the rollout's version are changed (an operator may have assigned another meanwhile). Returns them.
   */
  async restorePackages(manager: EntityManager, tenantId: string, name: string, rolloutVersionId: string, restores: PackageRestore[]): Promise<string[]> {
    if (restores.length === 0) return [];
    const previousIds = [...new Set(restores.map((r) => r.previousVersionId).filter((id): id is string => id !== null))];
    const rows: VersionRow[] = previousIds.length
      ? await manager.query(`SELECT v.id, p.name, p.type, v.version, v.content_hash, v.signature FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE v.id = ANY($1::uuid[]) AND v.tenant_id = $2`, [previousIds, tenantId])
      : [];
    const entries = new Map(rows.map((r) => [r.id, assignedEntry({ id: r.id, version: r.version, type: r.type, contentHash: r.content_hash, signature: r.signature })]));
    const values = restores.map((r) => ({ agentId: r.agentId, entry: r.previousVersionId ? (entries.get(r.previousVersionId) ?? null) : null }));
    const changed: Array<{ id: string }> = await manager.query(
      `UPDATE agents a SET assigned_packages = CASE WHEN v.entry IS NULL THEN a.assigned_packages - $2::text ELSE a.assigned_packages || jsonb_build_object($2::text, v.entry) END
       FROM unnest($4::uuid[], $5::jsonb[]) AS v(agent_id, entry)
       WHERE a.id = v.agent_id AND a.tenant_id = $1 AND a.assigned_packages -> $2::text ->> 'versionId' = $3
       RETURNING a.id`,
      [tenantId, name, rolloutVersionId, values.map((v) => v.agentId), values.map((v) => (v.entry ? JSON.stringify(v.entry) : null))],
    );
    return (Array.isArray(changed[0]) ? (changed[0] as Array<{ id: string }>) : changed).map((r) => r.id);
  }

  /** The agents' reported statuses of the package `name`, with what the gates read (an agent that no longer exists is left out). */
  async packageStates(agentIds: string[], name: string, tenantId?: string): Promise<Map<string, PackageAgentState>> {
    if (agentIds.length === 0) return new Map();
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT id, group_id, package_statuses, assigned_packages -> $2::text ->> 'versionId' AS assigned_version_id, healthy, connected, disconnected_at
       FROM agents WHERE id = ANY($1::uuid[])${tenantId ? ' AND tenant_id = $3' : ''}`,
      tenantId ? [agentIds, name, tenantId] : [agentIds, name],
    );
    return new Map(
      rows.map((r) => [
        r.id as string,
        {
          id: r.id,
          groupId: r.group_id ?? null,
          status: packageStatusesView(r.package_statuses)?.packages.find((p) => p.name === name),
          assignedVersionId: r.assigned_version_id ?? null,
          healthy: r.healthy ?? null,
          connected: Boolean(r.connected),
          disconnectedAt: r.disconnected_at ? new Date(r.disconnected_at) : null,
        },
      ]),
    );
  }

  /** Offers the agents their packages now, one outcome per agent (see PackagesService.pushOffers). */
  async pushPackages(tenantId: string, agentIds: string[]): Promise<Map<string, DispatchOutcome>> {
    const out = new Map<string, DispatchOutcome>();
    const outcomes = await Promise.all(agentIds.map(async (agentId) => [agentId, await this.packages.pushOffer(tenantId, agentId)] as const));
    for (const [agentId, o] of outcomes) out.set(agentId, o);
    return out;
  }

  /** Offers the agents their packages now, counted (after a commit that changed their assignment). */
  pushPackagesCounted(tenantId: string, agentIds: string[]): Promise<PackagePushOutcomes> {
    return this.packages.pushOffers(tenantId, agentIds);
  }
}

function rolloutPackage(r: VersionRow): RolloutPackage {
  const entry: AssignedPackage = assignedEntry({ id: r.id, version: r.version, type: r.type, contentHash: r.content_hash, signature: r.signature });
  return { id: r.id, name: r.name, version: r.version, type: r.type, contentHash: r.content_hash, offerHash: packageHash(r.name, entry).toString('hex') };
}
