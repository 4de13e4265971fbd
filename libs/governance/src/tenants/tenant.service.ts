import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Clock, PlatformException, TenantLabels, TimerHandle, TransactionRunner } from '@ampora/platform';
import { AuditService } from '../audit/audit.service';
import { GovernanceErrorCode, GovernanceException } from '../governance.errors';
import { TenantEntity } from './entities/tenant.entity';
import { TenantRepository } from './tenant.repository';

export const DEFAULT_TENANT = 'default';
const TENANT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface TenantInfo {
  id: string;
  name: string;
  displayName: string;
  createdAt: Date;
}

/** How often every process re-reads the tenant list (tenants made elsewhere get their names here). */
const REFRESH_MS = 60_000;

/** Tenants: created by operators through the CLI; every tenant-owned row carries a tenant id. */
@Injectable()
export class TenantService implements OnModuleInit, OnModuleDestroy {
  private readonly byName = new Map<string, TenantInfo>();
  private refresher?: TimerHandle;

  constructor(
    private readonly tenants: TenantRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    // tenants created by the CLI or another instance get their names (metric labels) within a minute
    this.refresher = this.clock.setInterval(() => void this.refresh().catch(() => undefined), REFRESH_MS).unref();
  }

  onModuleDestroy(): void {
    this.refresher?.cancel();
  }

  private async refresh(): Promise<void> {
    for (const t of await this.tenants.findAll()) this.remember(t);
  }

  async findByName(name: string): Promise<TenantInfo | undefined> {
    const cached = this.byName.get(name);
    if (cached) return cached;
    const row = await this.tenants.findByName(name);
    return row ? this.remember(row) : undefined;
  }

  async getByName(name: string): Promise<TenantInfo> {
    const tenant = await this.findByName(name);
    if (!tenant) throw new GovernanceException(GovernanceErrorCode.TENANT_NOT_FOUND, `Tenant ${name} does not exist`);
    return tenant;
  }

  async findById(id: string): Promise<TenantInfo | undefined> {
    for (const t of this.byName.values()) if (t.id === id) return t;
    const row = await this.tenants.findById(id);
    return row ? this.remember(row) : undefined;
  }

  async list(): Promise<TenantInfo[]> {
    return (await this.tenants.findAll()).map((t) => this.remember(t));
  }

  async create(name: string, displayName?: string): Promise<TenantInfo> {
    if (!TENANT_NAME.test(name)) {
      throw PlatformException.validation([{ field: 'name', message: 'must be DNS-safe: lower-case letters, digits and dashes, at most 63 characters' }]);
    }
    if (await this.tenants.findByName(name)) {
      throw new GovernanceException(GovernanceErrorCode.TENANT_EXISTS, `Tenant ${name} already exists`);
    }
    const tenant = await this.tx.run(async ({ manager }) => {
      const row = await this.tenants.insert(manager, name, displayName ?? name);
      await this.audit.record(manager, {
        tenantId: row.id,
        entityType: 'Tenant',
        entityId: row.id,
        action: 'Created',
        after: { name: row.name, displayName: row.displayName },
      });
      return row;
    });
    return this.remember(tenant);
  }

  private remember(row: TenantEntity): TenantInfo {
    const info: TenantInfo = { id: row.id, name: row.name, displayName: row.displayName, createdAt: row.createdAt };
    this.byName.set(info.name, info);
    TenantLabels.set(info.id, info.name);
    return info;
  }
}
