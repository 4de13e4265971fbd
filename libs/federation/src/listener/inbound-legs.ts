import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Principal, RequestContext } from '@ampora/platform';
import { TenantService } from '@ampora/governance';
import { PeerEntity } from '../entities/peer.entity';
import { LocalLegs } from '../rollouts/local-legs';
import type { InboundAnswer } from './inbound-reads';

const LegSpecSchema = z
  .object({
    federatedRolloutId: z.uuid(),
    name: z.string().min(1).max(200),
    configurationName: z.string().min(1).max(200),
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
    groupName: z.string().min(1).max(200),
    plan: z.record(z.string(), z.unknown()),
    by: z.string().min(1).max(200),
  })
  .strict();
const ActionSchema = z.object({ by: z.string().min(1).max(200) }).strict();
const ACTIONS = new Set(['pause', 'resume', 'advance', 'abort', 'rollback']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function problem(status: number, code: string, detail: string): InboundAnswer {
  return { status, body: { type: 'about:blank', title: code, status, code, detail } };
}

/**
 * The legs of a peer's federated rollouts, run here (decision 0370): `POST /federation/v1/rollouts`
 * opens one as an ordinary rollout of this deployment, `GET /federation/v1/rollouts/{id}` reports it,
 * `POST /federation/v1/rollouts/{id}/{pause|resume|advance|abort|rollback}` controls it. The peer acts
 * as an Operator of the tenant its peer row belongs to, named `peer:<peer>/<originating actor>` in
 * this deployment's audit trail; this deployment's policies, gates and approvals apply as to anyone.
 */
@Injectable()
export class InboundLegs {
  constructor(
    private readonly legs: LocalLegs,
    private readonly tenants: TenantService,
  ) {}

  handles(path: string): boolean {
    return path === '/federation/v1/rollouts' || path.startsWith('/federation/v1/rollouts/');
  }

  async handle(req: { method: string; path: string; body: unknown; peer: PeerEntity }): Promise<InboundAnswer> {
    const parts = req.path.split('/').filter(Boolean);
    const [, , , id, action] = parts;
    if (id !== undefined && !UUID.test(id)) return problem(404, 'FEDERATION_NOT_FOUND', 'No such leg');
    if (req.method === 'POST' && parts.length === 3) {
      const spec = LegSpecSchema.safeParse(req.body);
      if (!spec.success) return problem(400, 'FEDERATION_BAD_REQUEST', spec.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const p = await this.principal(req.peer, spec.data.by);
      return { status: 201, body: await RequestContext.run({ principal: p, tenantId: p.tenantId }, () => this.legs.open(p, spec.data)) };
    }
    if (id !== undefined && !(await this.legs.isLeg(req.peer.tenantId, id))) return problem(404, 'FEDERATION_NOT_FOUND', 'No such leg');
    if (req.method === 'GET' && parts.length === 4) return { status: 200, body: await this.legs.view(req.peer.tenantId, id!) };
    if (req.method === 'POST' && parts.length === 5 && ACTIONS.has(action!)) {
      const body = ActionSchema.safeParse(req.body);
      if (!body.success) return problem(400, 'FEDERATION_BAD_REQUEST', 'by is required');
      const p = await this.principal(req.peer, body.data.by);
      return { status: 200, body: await RequestContext.run({ principal: p, tenantId: p.tenantId }, () => this.legs.act(p, id!, action as 'pause')) };
    }
    return problem(404, 'FEDERATION_NOT_FOUND', 'No such federation resource');
  }

  private async principal(peer: PeerEntity, by: string): Promise<Principal> {
    const tenant = await this.tenants.findById(peer.tenantId);
    return { kind: 'system', tenantId: peer.tenantId, tenantName: tenant?.name ?? '', role: 'Operator', actor: `peer:${peer.name}/${by}`.slice(0, 200) };
  }
}
