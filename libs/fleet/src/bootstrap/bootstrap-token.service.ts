import { Injectable } from '@nestjs/common';
import { Clock, createLogger, hashToken, LiveBus, mintToken, Page, PageQuery, Principal, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { GroupRepository } from '../groups/group.repository';
import { BootstrapTokenRepository } from './bootstrap-token.repository';
import { BOOTSTRAP_TTL_MINUTES, toBootstrapTokenResponse } from './dto/bootstrap-token.dto';
import { bootstrapTokenExpiry } from './domain/token-expiry';
import { BootstrapTokenEntity } from './entities/bootstrap-token.entity';

/** Issues, lists and revokes the tokens agents enrol with (`amp-bs.<secret>.<check>`, stored hashed). */
@Injectable()
export class BootstrapTokenService {
  private readonly log = createLogger('Ampora.Fleet.Bootstrap.BootstrapTokenService');

  constructor(
    private readonly clock: Clock,
    private readonly tokens: BootstrapTokenRepository,
    private readonly groups: GroupRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
  ) {}

  async issue(
    caller: Principal,
    input: { label: string; ttlMinutes?: number; groupId?: string; labels?: Record<string, string> },
  ): Promise<{ token: BootstrapTokenEntity; plaintext: string }> {
    const plaintext = mintToken('amp-bs');
    const ttl = input.ttlMinutes ?? BOOTSTRAP_TTL_MINUTES.default;
    const token = await this.tx.run(async ({ manager }) => {
      if (input.groupId) {
        const group = await this.groups.lock(manager, caller.tenantId, input.groupId, 'share');
        if (!group || group.deletedAt) throw new FleetException(FleetErrorCode.GROUP_NOT_FOUND, `Group ${input.groupId} was not found`);
      }
      const row = await this.tokens.insert(manager, {
        tenantId: caller.tenantId,
        label: input.label,
        tokenHash: hashToken(plaintext),
        groupId: input.groupId ?? null,
        labels: input.labels ?? {},
        createdBy: caller.actor,
        expiresAt: bootstrapTokenExpiry(this.clock.nowMs(), ttl),
      });
      await this.audit.record(manager, { entityType: 'BootstrapToken', entityId: row.id, action: 'Created', after: toBootstrapTokenResponse(row, this.clock.nowMs()) });
      return row;
    });
    this.log.info('Issued bootstrap token {TokenId} ({Label}), valid until {ExpiresAt}', { TokenId: token.id, Label: token.label, ExpiresAt: token.expiresAt.toISOString() });
    return { token, plaintext };
  }

  list(tenantId: string, page: PageQuery): Promise<Page<BootstrapTokenEntity>> {
    return this.tokens.list(tenantId, page);
  }

  async revoke(caller: Principal, id: string): Promise<void> {
    await this.tx.run(async ({ manager, afterCommit }) => {
      const row = await this.tokens.findInTenant(caller.tenantId, id, manager);
      if (!row) throw new FleetException(FleetErrorCode.BOOTSTRAP_TOKEN_NOT_FOUND, `Bootstrap token ${id} was not found`);
      if (row.revokedAt) throw new FleetException(FleetErrorCode.BOOTSTRAP_TOKEN_ALREADY_REVOKED, `Bootstrap token ${id} is already revoked`);
      const before = toBootstrapTokenResponse(row, this.clock.nowMs());
      row.revokedAt = this.clock.now();
      await this.tokens.markRevoked(manager, id, row.revokedAt);
      await this.audit.record(manager, { entityType: 'BootstrapToken', entityId: id, action: 'Revoked', before, after: toBootstrapTokenResponse(row, this.clock.nowMs()) });
      afterCommit(() => this.bus.publish<FleetEvent>({ type: FleetEvents.BootstrapTokenRevoked, tenantId: caller.tenantId, entityId: id, payload: { tokenId: id } }));
    });
    this.log.info('Revoked bootstrap token {TokenId}', { TokenId: id });
  }
}
