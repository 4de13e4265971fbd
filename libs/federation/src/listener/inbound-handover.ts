import { Injectable } from '@nestjs/common';
import { OpampTransportService } from '@ampora/opamp';
import { PeerEntity } from '../entities/peer.entity';
import { HandoverService } from '../handover/handover.service';
import type { InboundAnswer } from './inbound-reads';

function problem(status: number, code: string, detail: string): InboundAnswer {
  return { status, body: { type: 'about:blank', title: code, status, code, detail } };
}

/**
 * The handover routes of the peer listener (decision 0371): `GET /federation/v1/handover-target`
 * (where agents with a certificate connect here, and what verifies that listener) and
 * `POST /federation/v1/handovers` (redeem a token: `{ "token": "amp-ho...." }`).
 */
@Injectable()
export class InboundHandover {
  constructor(
    private readonly handovers: HandoverService,
    private readonly transport: OpampTransportService,
  ) {}

  handles(path: string): boolean {
    return path === '/federation/v1/handover-target' || path === '/federation/v1/handovers';
  }

  async handle(req: { method: string; path: string; body: unknown; peer: PeerEntity; callerCertificateDer: Buffer }): Promise<InboundAnswer> {
    if (req.path === '/federation/v1/handover-target' && req.method === 'GET') {
      const target = this.transport.mtlsTarget('ws');
      if (!target) return problem(409, 'FEDERATION_HANDOVER_NOT_POSSIBLE', 'This deployment has no TLS listener agents with certificates could be sent to');
      return { status: 200, body: { endpoint: target.endpoint, trustBundlePem: target.serverCaPem } };
    }
    if (req.path === '/federation/v1/handovers' && req.method === 'POST') {
      const token = (req.body as { token?: unknown } | undefined)?.token;
      if (typeof token !== 'string' || token.length > 64 * 1024) return problem(400, 'FEDERATION_BAD_REQUEST', 'token is required');
      return { status: 201, body: await this.handovers.redeem(req.peer, req.callerCertificateDer, token) };
    }
    return problem(405, 'FEDERATION_METHOD_NOT_ALLOWED', 'Not allowed on this resource');
  }
}
