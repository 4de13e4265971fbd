import { Inject, Injectable } from '@nestjs/common';
import { createHmac, KeyObject } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, Principal, resolveMasterKeys, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { AGENT_DISPATCHER, AgentDispatcher, DISPATCH_OUTCOMES, DispatchOutcome } from '@ampora/opamp';
import type { AgentRef, PackageOffers, PackagesOffer } from '@ampora/opamp';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import {
  allPackagesHash,
  AssignedPackage,
  AssignedPackages,
  ed25519PublicKey,
  PACKAGE_NAME,
  PACKAGE_VERSION,
  packageHash,
  PackageType,
  signedDownloadUrl,
  verifiedBy,
} from './domain/packages';
import { PackageStore } from './package-store';

export interface PackageVersionView {
  id: string;
  name: string;
  type: PackageType;
  version: string;
  contentHash: string;
  sizeBytes: number;
  signed: boolean;
  signatureVerified: boolean;
  createdBy: string;
  createdAt: string;
}

export interface PackageView {
  id: string;
  name: string;
  type: PackageType;
  versions: number;
  latestVersion: string | null;
  createdAt: string;
}

interface VersionRow {
  id: string;
  name: string;
  type: PackageType;
  version: string;
  content_hash: string;
  size_bytes: string;
  signature: Buffer | null;
  signature_verified: boolean;
  created_by: string;
  created_at: Date;
}

const VERSION_COLUMNS = `v.id, p.name, p.type, v.version, v.content_hash, v.size_bytes, v.signature, v.signature_verified, v.created_by, v.created_at`;

function versionView(r: VersionRow): PackageVersionView {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    version: r.version,
    contentHash: r.content_hash,
    sizeBytes: Number(r.size_bytes),
    signed: Boolean(r.signature?.length),
    signatureVerified: r.signature_verified,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

/** Package pushes in flight at once (decision 0376). */
const PUSH_CONCURRENCY = 32;

export type PackagePushOutcomes = Record<DispatchOutcome, number>;

/** The entry an agent's `assigned_packages` holds for a version. */
export function assignedEntry(v: { id: string; version: string; type: PackageType; contentHash: string; signature: Buffer | null }): AssignedPackage {
  return { versionId: v.id, version: v.version, type: v.type, contentHash: v.contentHash, signature: v.signature?.toString('base64') ?? '' };
}

const isUnique = (e: unknown): boolean => ((e as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (e as { code?: string }).code) === '23505';

/**
 * Packages (issue 20 item 4, decisions 0331–0333): uploaded files kept in the content-addressed store,
 * their versions and signatures, which agents are assigned which version, and the offers OpAMP sends
 * (the `packageOffers` port): PackagesAvailable with a short-lived signed download URL per file.
 */
@Injectable()
export class PackagesService implements PackageOffers {
  private readonly log = createLogger('Ampora.Fleet.Packages');
  private readonly trusted: KeyObject[];
  private readonly urlKey: Buffer;
  /** When each agent's assignment was last read for an offer (the port is called on every frame). */
  private readonly checkedAt = new Map<string, number>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PackageStore,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
  ) {
    this.trusted = config.fleet.packages.trustedKeys.map(ed25519PublicKey);
    this.urlKey = createHmac('sha256', resolveMasterKeys(config).current).update('ampora-package-download-urls').digest();
  }

  get maxBytes(): number {
    return this.config.fleet.packages.maxBytes;
  }

  get downloadKey(): Buffer {
    return this.urlKey;
  }

  /**
   * Stores one version of a package: the file in the store, the version with its signature. With
   * trusted keys configured, the signature must verify against one of them (422 otherwise).
   */
  async upload(caller: Principal, input: { name: string; version: string; type: PackageType; content: Buffer; signature?: Buffer }): Promise<PackageVersionView> {
    if (!PACKAGE_NAME.test(input.name)) throw new FleetException(FleetErrorCode.PACKAGE_INVALID, `"${input.name}" is not a package name (letters, digits, . _ -; up to 128)`);
    if (!PACKAGE_VERSION.test(input.version)) throw new FleetException(FleetErrorCode.PACKAGE_INVALID, `"${input.version}" is not a package version (letters, digits, . + _ -; up to 64)`);
    if (input.content.length === 0) throw new FleetException(FleetErrorCode.PACKAGE_INVALID, 'The package is empty');
    const packages = this.config.fleet.packages;
    if (!input.signature?.length && packages.requireSignature) throw new FleetException(FleetErrorCode.PACKAGE_SIGNATURE_REQUIRED, 'A package must be signed (ed25519 signature of the file, base64, in the Ampora-Package-Signature header)');
    let verified = false;
    if (input.signature?.length && this.trusted.length) {
      if (verifiedBy(input.content, input.signature, this.trusted) < 0) throw new FleetException(FleetErrorCode.PACKAGE_SIGNATURE_INVALID, 'The signature does not verify against any trusted package key (AMPORA_PACKAGES_TRUSTED_KEYS)');
      verified = true;
    }
    const contentHash = await this.store.put(input.content);
    try {
      return await this.tx.run(async ({ manager }) => {
        await manager.query(`INSERT INTO packages (tenant_id, name, type, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, name) DO NOTHING`, [caller.tenantId, input.name, input.type, caller.actor]);
        const [pkg] = (await manager.query(`SELECT id, type FROM packages WHERE tenant_id = $1 AND name = $2 FOR UPDATE`, [caller.tenantId, input.name])) as Array<{ id: string; type: PackageType }>;
        if (pkg!.type !== input.type) throw new FleetException(FleetErrorCode.PACKAGE_TYPE_MISMATCH, `Package ${input.name} is ${pkg!.type}, not ${input.type}`);
        const [row] = (await manager.query(
          `INSERT INTO package_versions (package_id, tenant_id, version, content_hash, size_bytes, signature, signature_verified, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
          [pkg!.id, caller.tenantId, input.version, contentHash, input.content.length, input.signature?.length ? input.signature : null, verified, caller.actor],
        )) as Array<{ id: string }>;
        const view = versionView((await manager.query(`SELECT ${VERSION_COLUMNS} FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE v.id = $1`, [row!.id]))[0]);
        await this.audit.record(manager, { entityType: 'PackageVersion', entityId: view.id, action: 'Uploaded', after: view });
        return view;
      });
    } catch (error) {
      if (isUnique(error)) throw new FleetException(FleetErrorCode.PACKAGE_VERSION_EXISTS, `Package ${input.name} already has version ${input.version}`);
      throw error;
    }
  }

  async list(tenantId: string): Promise<PackageView[]> {
    const rows: Array<{ id: string; name: string; type: PackageType; created_at: Date; versions: string; latest: string | null }> = await this.dataSource.query(
      `SELECT p.id, p.name, p.type, p.created_at, count(v.id) AS versions,
              (SELECT v2.version FROM package_versions v2 WHERE v2.package_id = p.id ORDER BY v2.created_at DESC, v2.id DESC LIMIT 1) AS latest
       FROM packages p LEFT JOIN package_versions v ON v.package_id = p.id WHERE p.tenant_id = $1 GROUP BY p.id ORDER BY p.name`,
      [tenantId],
    );
    return rows.map((r) => ({ id: r.id, name: r.name, type: r.type, versions: Number(r.versions), latestVersion: r.latest, createdAt: new Date(r.created_at).toISOString() }));
  }

  async versions(tenantId: string, name: string): Promise<PackageVersionView[]> {
    const rows: VersionRow[] = await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS} FROM packages p LEFT JOIN package_versions v ON v.package_id = p.id WHERE p.tenant_id = $1 AND p.name = $2 ORDER BY v.created_at DESC, v.id DESC`,
      [tenantId, name],
    );
    if (rows.length === 0) throw new FleetException(FleetErrorCode.PACKAGE_NOT_FOUND, `Package ${name} was not found`);
    return rows.filter((r) => r.id !== null).map(versionView);
  }

  async version(tenantId: string, name: string, version: string): Promise<PackageVersionView & { signature: Buffer | null }> {
    const [row]: VersionRow[] = await this.dataSource.query(`SELECT ${VERSION_COLUMNS} FROM package_versions v JOIN packages p ON p.id = v.package_id WHERE p.tenant_id = $1 AND p.name = $2 AND v.version = $3`, [tenantId, name, version]);
    if (!row) throw new FleetException(FleetErrorCode.PACKAGE_VERSION_NOT_FOUND, `Package ${name} has no version ${version}`);
    return { ...versionView(row), signature: row.signature };
  }

  /**
   * Assigns a version to agents (by id, or every member of a group); after the commit the agents'
   * sessions are asked to offer it now (decision 0376: through the dispatcher, on whichever instance
   * holds each one); an agent without a session gets it when it connects.
   */
  async assign(caller: Principal, name: string, version: string, target: { agentIds?: string[]; groupId?: string }): Promise<{ versionId: string; agents: number; delivery: PackagePushOutcomes }> {
    const v = await this.version(caller.tenantId, name, version);
    const entry = assignedEntry(v);
    const assigned = await this.tx.run(async ({ manager }) => {
      const rows: Array<{ id: string }> = await manager.query(
        `UPDATE agents SET assigned_packages = coalesce(assigned_packages, '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb)
         WHERE tenant_id = $1 AND (id = ANY($4::uuid[]) OR ($5::uuid IS NOT NULL AND group_id = $5::uuid)) RETURNING id`,
        [caller.tenantId, name, JSON.stringify(entry), target.agentIds ?? [], target.groupId ?? null],
      );
      const ids = (Array.isArray(rows[0]) ? (rows[0] as Array<{ id: string }>) : rows).map((r) => r.id);
      await this.audit.record(manager, { entityType: 'PackageVersion', entityId: v.id, action: 'Assigned', after: { name, version, agents: ids.length, groupId: target.groupId ?? null }, additional: { agentIds: ids.slice(0, 1000) } });
      for (const id of ids) this.checkedAt.delete(id);
      return { versionId: v.id, ids };
    });
    const delivery = await this.pushOffers(caller.tenantId, assigned.ids);
    this.log.info('Package {Name} {Version} assigned to {Agents} agents; offered now to {Delivered}', { Name: name, Version: version, Agents: assigned.ids.length, Delivered: delivery.delivered + delivery.queued });
    return { versionId: assigned.versionId, agents: assigned.ids.length, delivery };
  }

  /**
   * Asks the sessions of these agents to offer their packages now (after a commit that changed their
   * assignment), a bounded number at a time; the outcomes counted. A failed push is `unconfirmed`:
   * the agent still gets the offer with its next frames after the recheck, or when it reconnects.
   */
  async pushOffers(tenantId: string, agentIds: string[]): Promise<PackagePushOutcomes> {
    const outcomes = Object.fromEntries(DISPATCH_OUTCOMES.map((o) => [o, 0])) as PackagePushOutcomes;
    for (let i = 0; i < agentIds.length; i += PUSH_CONCURRENCY) {
      const chunk = agentIds.slice(i, i + PUSH_CONCURRENCY);
      const results = await Promise.all(chunk.map((agentId) => this.pushOffer(tenantId, agentId)));
      for (const o of results) outcomes[o] += 1;
    }
    return outcomes;
  }

  /** One agent's packages push (see pushOffers). */
  pushOffer(tenantId: string, agentId: string): Promise<DispatchOutcome> {
    this.checkedAt.delete(agentId);
    return this.dispatcher.pushPackages({ agentId, tenantId }).catch((error: unknown) => {
      this.log.warn('Offering packages to agent {AgentId} now failed; it gets them with a later frame', { AgentId: agentId }, error);
      return 'unconfirmed' as const;
    });
  }

  /** The packages an agent is assigned (name → version) and what it reported. */
  async ofAgent(tenantId: string, agentId: string): Promise<{ assigned: AssignedPackages; statuses: unknown } | undefined> {
    const [row]: Array<{ assigned_packages: AssignedPackages | null; package_statuses: unknown }> = await this.dataSource.query(`SELECT assigned_packages, package_statuses FROM agents WHERE tenant_id = $1 AND id = $2`, [tenantId, agentId]);
    return row ? { assigned: row.assigned_packages ?? {}, statuses: row.package_statuses } : undefined;
  }

  /**
   * The `packageOffers` port: reads the agent's assignment at most every AMPORA_PACKAGES_RECHECK_SECONDS
   * (always on a connection's first frame, and on a push: `fresh`, decision 0376).
   */
  async offerFor(agent: AgentRef, offeredHash: string | undefined, options: { fresh?: boolean } = {}): Promise<PackagesOffer | undefined> {
    const now = this.clock.nowMs();
    const last = this.checkedAt.get(agent.agentId);
    if (!options.fresh && offeredHash !== undefined && last !== undefined && now - last < this.config.fleet.packages.recheckSeconds * 1000) return undefined;
    this.checkedAt.set(agent.agentId, now);
    const [row]: Array<{ assigned_packages: AssignedPackages | null }> = await this.dataSource.query(`SELECT assigned_packages FROM agents WHERE id = $1`, [agent.agentId]);
    const assigned = row?.assigned_packages ?? {};
    if (Object.keys(assigned).length === 0) return undefined;
    const all = allPackagesHash(assigned);
    if (all.toString('hex') === offeredHash) return undefined;
    const { downloadBaseUrl, urlTtlSeconds } = this.config.fleet.packages;
    const expires = now + urlTtlSeconds * 1000;
    return {
      allPackagesHash: all,
      packages: Object.fromEntries(
        Object.entries(assigned).map(([name, p]) => [
          name,
          { type: p.type, version: p.version, downloadUrl: signedDownloadUrl(downloadBaseUrl, this.urlKey, p.contentHash, expires), contentHash: Buffer.from(p.contentHash, 'hex'), signature: Buffer.from(p.signature, 'base64'), hash: packageHash(name, p) },
        ]),
      ),
    };
  }

  /** Forgets an agent's offer bookkeeping (disconnected). */
  forget(agentId: string): void {
    this.checkedAt.delete(agentId);
  }

  logDownload(contentHash: string, outcome: string): void {
    this.log.info('Package download {ContentHash}: {Outcome}', { ContentHash: contentHash, Outcome: outcome });
  }
}
