import { Injectable } from '@nestjs/common';
import { AgentRepository } from '../agents/agent.repository';
import { AgentEntity } from '../agents/entities/agent.entity';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { compileSelector, selectorContext } from './domain/selector';

/** A preview stops after this long and says it is incomplete. */
export const PREVIEW_BUDGET_MS = 10_000;
const PAGE = 2000;

export interface PreviewResult {
  evaluated: number;
  matched: number;
  failedClosed: { missing: number; type: number; deadline: number };
  complete: boolean;
  agents: AgentEntity[];
}

/** Who a selector would match, among every agent of the tenant (grouped or not). */
@Injectable()
export class GroupPreviewService {
  constructor(private readonly agents: AgentRepository) {}

  async preview(tenantId: string, selector: string, limit: number): Promise<PreviewResult> {
    const compiled = compileSelector(selector);
    if (!compiled.ok) throw new FleetException(FleetErrorCode.INVALID_SELECTOR, `The selector is not valid: ${compiled.error.message}`, { selectorError: compiled.error });
    const deadline = performance.now() + PREVIEW_BUDGET_MS;
    const result: PreviewResult = { evaluated: 0, matched: 0, failedClosed: { missing: 0, type: 0, deadline: 0 }, complete: true, agents: [] };
    const sample: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await this.agents.selectorPage(tenantId, after, PAGE, false);
      for (const agent of page) {
        const r = compiled.expression.evaluate(selectorContext(agent.labels, agent.tags));
        result.evaluated += 1;
        if (r.matched) {
          result.matched += 1;
          if (sample.length < limit) sample.push(agent.id);
        } else if (r.error && (r.error.kind === 'missing' || r.error.kind === 'type' || r.error.kind === 'deadline')) {
          result.failedClosed[r.error.kind] += 1;
        }
      }
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
      if (performance.now() > deadline) {
        result.complete = false;
        break;
      }
    }
    const rows = await this.agents.findManyInTenant(tenantId, sample);
    const byId = new Map(rows.map((a) => [a.id, a]));
    result.agents = sample.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
    return result;
  }
}
