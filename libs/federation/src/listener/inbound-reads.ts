import { Injectable } from '@nestjs/common';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from '@ampora/platform';
import { AgentListFilter, FleetReads } from '@ampora/fleet';
import { PeerEntity } from '../entities/peer.entity';

export interface InboundRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  peer: PeerEntity;
}

export type InboundAnswer = { status: number; body: unknown };

const STATUSES = new Set(['connected', 'stale', 'disconnected']);

function pageOf(query: URLSearchParams): { limit: number; cursor?: string } | undefined {
  const limit = query.get('limit') === null ? DEFAULT_PAGE_SIZE : Number(query.get('limit'));
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) return undefined;
  const cursor = query.get('cursor') ?? undefined;
  return { limit, ...(cursor ? { cursor } : {}) };
}

function keyValues(values: string[]): Array<{ key: string; value: string }> | undefined {
  const out = values.flatMap((v) => {
    const eq = v.indexOf('=');
    return eq > 0 ? [{ key: v.slice(0, eq), value: v.slice(eq + 1) }] : [];
  });
  return out.length ? out : undefined;
}

function problem(status: number, code: string, detail: string): InboundAnswer {
  return { status, body: { type: 'about:blank', title: code, status, code, detail } };
}

/**
 * The read surface a peer sees (decision 0312), always in the tenant its peer row belongs to: ping,
 * agents (list and detail), groups, and whether a configuration has a version with a content hash.
 * Read-only; nothing here is audited (spec §7.1: remote calls never write the local audit log).
 */
@Injectable()
export class InboundReads {
  constructor(private readonly reads: FleetReads) {}

  async handle(req: InboundRequest): Promise<InboundAnswer> {
    if (req.method !== 'GET') return problem(405, 'FEDERATION_METHOD_NOT_ALLOWED', 'The federation read surface is read-only');
    const tenantId = req.peer.tenantId;
    const parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'federation' || parts[1] !== 'v1') return problem(404, 'FEDERATION_NOT_FOUND', 'No such federation resource');
    const [, , resource, id, sub, hash] = parts;
    if (resource === 'ping' && parts.length === 3) return { status: 200, body: { ok: true, peer: req.peer.name } };
    if (resource === 'agents' && parts.length === 3) {
      const page = pageOf(req.query);
      if (!page) return problem(400, 'FEDERATION_BAD_REQUEST', `limit must be 1 to ${MAX_PAGE_SIZE}`);
      const status = req.query.get('status') ?? undefined;
      if (status !== undefined && !STATUSES.has(status)) return problem(400, 'FEDERATION_BAD_REQUEST', 'status must be connected, stale or disconnected');
      const filter: AgentListFilter = {
        status: status as AgentListFilter['status'],
        text: req.query.get('text') ?? undefined,
        labels: keyValues(req.query.getAll('label')),
        tags: keyValues(req.query.getAll('tag')),
      };
      return { status: 200, body: await this.reads.agentSummaries(tenantId, filter, page) };
    }
    if (resource === 'agents' && parts.length === 4 && id) return { status: 200, body: await this.reads.agentDetail(tenantId, id) };
    if (resource === 'groups' && parts.length === 3) {
      const page = pageOf(req.query);
      if (!page) return problem(400, 'FEDERATION_BAD_REQUEST', `limit must be 1 to ${MAX_PAGE_SIZE}`);
      return { status: 200, body: await this.reads.groupList(tenantId, page) };
    }
    if (resource === 'configurations' && parts.length === 6 && id && sub === 'versions' && hash) {
      const version = await this.reads.versionByHash(tenantId, id, hash);
      return version ? { status: 200, body: version } : problem(404, 'FEDERATION_VERSION_NOT_FOUND', `No version of ${id} has content hash ${hash}`);
    }
    return problem(404, 'FEDERATION_NOT_FOUND', 'No such federation resource');
  }
}
