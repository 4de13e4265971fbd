import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { Principal } from '../context/request-context';
import { hashToken, isWellFormedToken, mintToken } from '../crypto/token-format';
import { TransactionRunner } from '../database/transaction-runner';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
import { createLogger } from '../logging/logger';
import { Page, PageQuery } from '../pagination/pagination';
import { ApiTokenRepository } from './api-token.repository';
import { ApiTokenEntity } from './entities/api-token.entity';
import { Role } from './role';
import { DEFAULT_TENANT, TenantService } from './tenant.service';

export interface CreatedToken {
  token: ApiTokenEntity;
  /** The plaintext token, shown this once. */
  plaintext: string;
}

/** Personal access tokens: minted, stored as hashes, verified on every API call. */
@Injectable()
export class TokenService implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.Platform.Auth.TokenService');

  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly tenants: TenantService,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  /** Registers AMPORA_BOOTSTRAP_ADMIN_TOKEN as an Admin PAT of the default tenant when unknown. */
  async onApplicationBootstrap(): Promise<void> {
    const plaintext = this.config.auth.bootstrapAdminToken;
    if (!plaintext) return;
    const tenant = await this.tenants.getByName(DEFAULT_TENANT);
    const tokenHash = hashToken(plaintext);
    const inserted = await this.tokens.insertIfAbsent({
      tenantId: tenant.id,
      name: `bootstrap-admin-${tokenHash.slice(0, 8)}`,
      role: Role.Admin,
      tokenHash,
      createdBy: 'system',
    });
    if (inserted) this.log.info('Registered the bootstrap admin token for tenant {Tenant}', { Tenant: tenant.name });
  }

  /**
   * First run of an embedded deployment: when the default tenant has no usable Admin token, creates
   * one and returns it (shown once); undefined otherwise.
   */
  async createFirstRunToken(): Promise<string | undefined> {
    const tenant = await this.tenants.getByName(DEFAULT_TENANT);
    if (await this.tokens.hasUsable(tenant.id, Role.Admin)) return undefined;
    const { plaintext } = await this.createInTenant(tenant.id, 'cli', { name: `first-run-admin-${Date.now().toString(36)}`, role: Role.Admin });
    return plaintext;
  }

  /** Resolves a bearer PAT to its principal, or undefined when it is unknown, revoked, expired or garbled. */
  async authenticate(plaintext: string): Promise<Principal | undefined> {
    if (!isWellFormedToken(plaintext, 'amp-pat')) return undefined;
    const row = await this.tokens.findByHash(hashToken(plaintext));
    const now = new Date();
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return undefined;
    const tenant = await this.tenants.findById(row.tenantId);
    if (!tenant) return undefined;
    void this.tokens.touch(row.id, now).catch((error) => this.log.warn('Could not record token use', {}, error));
    return { kind: 'pat', tenantId: tenant.id, tenantName: tenant.name, role: row.role, actor: row.name, tokenId: row.id };
  }

  list(tenantId: string, page: PageQuery): Promise<Page<ApiTokenEntity>> {
    return this.tokens.list(tenantId, page);
  }

  /** Creates a token in the caller's tenant. */
  async create(caller: Principal, input: { name: string; role: Role; expiresAt?: Date }): Promise<CreatedToken> {
    return this.createInTenant(caller.tenantId, caller.actor, input);
  }

  /** Creates a token in a tenant named on the command line (the CLI acts as `system`). */
  async createForTenantName(tenantName: string, input: { name: string; role: Role; expiresAt?: Date }): Promise<CreatedToken> {
    const tenant = await this.tenants.getByName(tenantName);
    return this.createInTenant(tenant.id, 'cli', input);
  }

  private async createInTenant(tenantId: string, createdBy: string, input: { name: string; role: Role; expiresAt?: Date }): Promise<CreatedToken> {
    if (input.expiresAt && input.expiresAt <= new Date()) {
      throw PlatformException.validation([{ field: 'expiresAt', message: 'must be in the future' }]);
    }
    const plaintext = mintToken('amp-pat');
    // names are unique per tenant (the name is the audit actor): a clash is a 409, checked here and
    // by the unique index (ux_api_tokens_tenant_name) when two requests race
    const token = await this.tx.run(async ({ manager }) => {
      if (await this.tokens.nameTaken(manager, tenantId, input.name)) throw tokenNameTaken(input.name);
      const row = await this.tokens.insert(manager, {
        tenantId,
        name: input.name,
        role: input.role,
        tokenHash: hashToken(plaintext),
        createdBy,
        expiresAt: input.expiresAt ?? null,
      });
      await this.audit.record(manager, {
        tenantId,
        entityType: 'Token',
        entityId: row.id,
        action: 'Created',
        after: describe(row),
        ...(createdBy === 'cli' ? { actor: 'cli', actorRole: null } : {}),
      });
      return row;
    }).catch((error: unknown) => {
      const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
      const d = e.driverError ?? e;
      throw d.code === '23505' && d.constraint === 'ux_api_tokens_tenant_name' ? tokenNameTaken(input.name) : error;
    });
    this.log.info('Created token {TokenName} ({TokenId}) with role {Role}', { TokenName: token.name, TokenId: token.id, Role: token.role });
    return { token, plaintext };
  }

  async revoke(caller: Principal, id: string): Promise<void> {
    await this.tx.run(async ({ manager }) => {
      const row = await this.tokens.findInTenant(caller.tenantId, id, manager);
      if (!row) throw new PlatformException(PlatformErrorCode.TOKEN_NOT_FOUND, `Token ${id} was not found`);
      if (row.revokedAt) throw new PlatformException(PlatformErrorCode.CONFLICT, `Token ${id} is already revoked`);
      const at = new Date();
      await this.tokens.markRevoked(manager, id, at);
      await this.audit.record(manager, {
        entityType: 'Token',
        entityId: id,
        action: 'Revoked',
        before: describe(row),
        after: { ...describe(row), revokedAt: at.toISOString() },
      });
    });
    this.log.info('Revoked token {TokenId}', { TokenId: id });
  }
}

function describe(row: ApiTokenEntity): Record<string, unknown> {
  return {
    name: row.name,
    role: row.role,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

function tokenNameTaken(name: string): PlatformException {
  return new PlatformException(PlatformErrorCode.TOKEN_NAME_TAKEN, `A token named ${JSON.stringify(name)} already exists in this tenant (token names are the audit actor; revoked tokens keep theirs)`, { name });
}
