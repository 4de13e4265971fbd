import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, decodeCursor, encodeCursor, Page, PageQuery, Principal } from '@ampora/platform';
import { AgentListFilter, AgentSummaryWithCursor, FederatedAgentList, FederatedAgentPage, PeerListStatus } from '@ampora/fleet';
import { PeerClient } from './client/peer-client';
import { PeerCallError } from './client/peer-call';
import { decodeMergedCursor, encodeMergedCursor, LOCAL, mergePages, SourcePage } from './domain/merged-pages';
import { PeerEntity } from './entities/peer.entity';
import { FederationErrorCode, FederationException } from './federation.errors';
import { PeersService } from './peers.service';

/** Merged cursors are signed like every cursor of the API (decision 0141), in a scope of their own. */
const CURSOR_SCOPE = 'federation.agents';

function positionsOf(cursor: string): string {
  try {
    return String(decodeCursor(CURSOR_SCOPE, cursor)[0]);
  } catch {
    throw new FederationException(FederationErrorCode.FEDERATION_INVALID_CURSOR, 'The cursor is not one of the federated agent list; pass nextCursor from the previous page');
  }
}

/** The query a peer is asked for its agents: the page and the filters that mean the same there (not a local group id). */
function peerQuery(filter: AgentListFilter, page: PageQuery): string {
  const q = new URLSearchParams({ limit: String(page.limit) });
  if (page.cursor) q.set('cursor', page.cursor);
  if (filter.status) q.set('status', filter.status);
  if (filter.text) q.set('text', filter.text);
  for (const l of filter.labels ?? []) q.append('label', `${l.key}=${l.value}`);
  for (const t of filter.tags ?? []) q.append('tag', `${t.key}=${t.value}`);
  return q.toString();
}

/**
 * The federated fleet view (decision 0313), bound to fleet's `federatedAgents` port: this deployment's
 * agents merged with every Active peer's whose circuit is closed, all asked at once, each within the
 * federation timeout, so a dead peer costs at most that and is reported `down` with the reason.
 * A group or drift filter is this deployment's own: peers are then not asked.
 */
@Injectable()
export class FederatedFleetView implements FederatedAgentList {
  constructor(
    private readonly peers: PeersService,
    private readonly client: PeerClient,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async list(p: Principal, filter: AgentListFilter, page: PageQuery, local: (page: PageQuery) => Promise<Page<AgentSummaryWithCursor>>): Promise<FederatedAgentPage> {
    const from = decodeMergedCursor(page.cursor === undefined ? undefined : positionsOf(page.cursor));
    if (!from) throw new FederationException(FederationErrorCode.FEDERATION_INVALID_CURSOR, 'The cursor is not one of the federated agent list; pass nextCursor from the previous page');
    const localOnly = filter.groupId !== undefined || filter.drift !== undefined;
    const peers = localOnly ? [] : await this.peers.activePeers(p.tenantId);
    const statuses: PeerListStatus[] = [];
    const pages: Array<SourcePage<AgentSummaryWithCursor>> = [];
    const localPage = from[LOCAL]?.done ? undefined : local({ limit: page.limit, cursor: from[LOCAL]?.cursor });
    const remote = peers.map(async (peer): Promise<void> => {
      const position = from[peer.name];
      if (position?.done) return;
      const status = await this.peerPage(peer, filter, { limit: page.limit, cursor: position?.cursor }, pages);
      statuses.push(status);
    });
    const [localAnswer] = await Promise.all([localPage, ...remote]);
    if (localAnswer) pages.push({ source: LOCAL, items: localAnswer.items, nextCursor: localAnswer.nextCursor });
    const merged = mergePages(from, pages, page.limit);
    for (const s of statuses) s.items = merged.items.filter((i) => i.source === s.peer).length;
    statuses.sort((a, b) => a.peer.localeCompare(b.peer));
    return {
      items: merged.items.map(({ source, item }) => {
        const { cursor: _cursor, ...summary } = item;
        return source === LOCAL ? { ...summary, peer: null } : { ...summary, id: `peer:${source}/${item.id}`, peer: source };
      }),
      nextCursor: merged.next ? encodeCursor(CURSOR_SCOPE, encodeMergedCursor(merged.next), '') : null,
      federation: { included: true, peers: statuses },
    };
  }

  private async peerPage(peer: PeerEntity, filter: AgentListFilter, page: PageQuery, pages: Array<SourcePage<AgentSummaryWithCursor>>): Promise<PeerListStatus> {
    const started = process.hrtime.bigint();
    const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
    if (!this.client.healthy(peer)) return { peer: peer.name, status: 'down', reason: 'circuit open after repeated failures', durationMs: 0, items: 0 };
    try {
      const answer = await this.client.call<Page<AgentSummaryWithCursor>>(peer, `/federation/v1/agents?${peerQuery(filter, page)}`);
      pages.push({ source: peer.name, items: answer.body.items, nextCursor: answer.body.nextCursor });
      const durationMs = elapsed();
      return durationMs > this.config.federation.slowMs ? { peer: peer.name, status: 'slow', reason: `answered in ${durationMs} ms`, durationMs, items: 0 } : { peer: peer.name, status: 'ok', durationMs, items: 0 };
    } catch (error) {
      const reason = error instanceof PeerCallError ? `${error.factor}: ${error.message}` : 'the call failed';
      return { peer: peer.name, status: 'down', reason, durationMs: elapsed(), items: 0 };
    }
  }
}
