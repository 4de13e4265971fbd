import { Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Clock } from '@ampora/platform';
import { RecentCache } from '../agents/domain/recent-cache';
import { OwnTelemetryRepository } from './own-telemetry.repository';

const PREFIX = 'ampt1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KNOWN_TTL_MS = 60_000;

/**
 * The per-agent credential of the OTLP intake (decision 0320): `Authorization: Bearer
 * ampt1.<tenant>.<agent>.<mac>`, sent to the agent in its own-metrics offer. The MAC is an HMAC of the
 * tenant and agent under a key kept in PostgreSQL, so every instance checks it without a lookup, and the
 * credential is the same on every connection (an unchanged offer restarts no Collector). A forgotten
 * agent's credential admits nothing (checked against the inventory, remembered for a minute).
 */
@Injectable()
export class OwnTelemetryCredentials {
  private key?: Promise<Buffer>;
  /** Agents found in the inventory in the last minute (stale ones drop out as new ones come). */
  private readonly known = new RecentCache<string, true>({ ttlMs: KNOWN_TTL_MS, max: 100_000 });

  constructor(
    private readonly repository: OwnTelemetryRepository,
    private readonly clock: Clock,
  ) {}

  async tokenFor(tenantId: string, agentId: string): Promise<string> {
    return `${PREFIX}.${tenantId}.${agentId}.${await this.mac(tenantId, agentId)}`;
  }

  /** The agent an Authorization header proves, or undefined. */
  async verify(header: string | undefined): Promise<{ tenantId: string; agentId: string } | undefined> {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const parts = match?.[1]!.split('.') ?? [];
    if (parts.length !== 4 || parts[0] !== PREFIX || !UUID.test(parts[1]!) || !UUID.test(parts[2]!)) return undefined;
    const [, tenantId, agentId, mac] = parts as [string, string, string, string];
    const expected = Buffer.from(await this.mac(tenantId, agentId));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const now = this.clock.nowMs();
    if (!this.known.get(agentId, now)) {
      if (!(await this.repository.agentExists(tenantId, agentId))) return undefined;
      this.known.set(agentId, true, now);
    }
    return { tenantId, agentId };
  }

  private async mac(tenantId: string, agentId: string): Promise<string> {
    this.key ??= this.repository.intakeKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return createHmac('sha256', await this.key).update(`${PREFIX}|${tenantId}|${agentId}`).digest('base64url');
  }
}
