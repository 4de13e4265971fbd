import { Injectable } from '@nestjs/common';
import { CallFactor, PeerCallError } from './client/peer-call';
import { PeerClient } from './client/peer-client';
import { PeersService } from './peers.service';

export interface PingResult {
  peer: string;
  /** Green: TLS with the pinned thumbprint and the outbound secret accepted by the peer. */
  ok: boolean;
  /** Which factor failed (decision 0311). */
  factor?: CallFactor;
  detail?: string;
  durationMs: number;
}

/** `GET /api/federation/ping`: one call over the link, once (no retries: it reports what failed). */
@Injectable()
export class PingService {
  constructor(
    private readonly peers: PeersService,
    private readonly client: PeerClient,
  ) {}

  async ping(tenantId: string, name: string): Promise<PingResult> {
    const peer = await this.peers.activeByName(tenantId, name);
    const started = process.hrtime.bigint();
    const durationMs = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    try {
      await this.client.call(peer, '/federation/v1/ping', { retries: 0 });
      return { peer: name, ok: true, durationMs: durationMs() };
    } catch (error) {
      if (!(error instanceof PeerCallError)) throw error;
      return { peer: name, ok: false, factor: error.factor, detail: error.message, durationMs: durationMs() };
    }
  }
}
