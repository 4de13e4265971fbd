import { Injectable, Module, Provider, Type } from '@nestjs/common';
import type { Page, PageQuery, Principal } from '@ampora/platform';
import type { AgentListFilter } from '../agents/agents.service';
import type { AgentSummaryWithCursor } from './fleet-reads.service';

/** How one peer answered a federated list (decision 0313): ok, slow (answered past the slow mark), down (with why). */
export interface PeerListStatus {
  peer: string;
  status: 'ok' | 'slow' | 'down';
  reason?: string;
  durationMs: number;
  /** Items of this peer in the page. */
  items: number;
}

/** A merged agent: local agents keep their id; a peer's are `peer:<name>/<id>` with `peer` set. */
export type FederatedAgentSummary = Omit<AgentSummaryWithCursor, 'cursor'> & { peer: string | null };

export interface FederatedAgentPage {
  items: FederatedAgentSummary[];
  nextCursor: string | null;
  federation: { included: true; peers: PeerListStatus[] };
}

/**
 * The agent list merged with the agents of a later lib's peers (`GET /api/agents?includeFederation=true`).
 * `local` lists this deployment's agents from a cursor the implementation keeps in its own.
 */
export interface FederatedAgentList {
  list(principal: Principal, filter: AgentListFilter, page: PageQuery, local: (page: PageQuery) => Promise<Page<AgentSummaryWithCursor>>): Promise<FederatedAgentPage>;
}

export interface FleetPortMap {
  /** Optional: the federated fleet view (federation). */
  federatedAgents: FederatedAgentList;
}
export type FleetPortName = keyof FleetPortMap;

/**
 * Fleet's extension points, bound from the libs after it (federation is later in the lib order and
 * fleet must not import it), like OpAMP's ports (decision 0200): the implementing module binds with
 * bindFleetPorts; fleet reads an optional port when it is asked for.
 */
@Injectable()
export class FleetPorts {
  private readonly bound: Partial<FleetPortMap> = {};

  bind<K extends FleetPortName>(port: K, implementation: FleetPortMap[K]): void {
    const current = this.bound[port];
    if (current && current !== implementation) throw new Error(`The fleet port "${port}" is bound twice`);
    this.bound[port] = implementation;
  }

  optional<K extends FleetPortName>(port: K): FleetPortMap[K] | undefined {
    return this.bound[port];
  }
}

/** Only the port holder: what a module that implements fleet's ports imports. */
@Module({ providers: [FleetPorts], exports: [FleetPorts] })
export class FleetPortsModule {}

let bindings = 0;

/** A provider binding this module's implementations to fleet's ports (in the implementing module, which imports FleetPortsModule). */
export function bindFleetPorts(implementations: { [K in FleetPortName]?: Type<FleetPortMap[K]> }): Provider {
  const entries = Object.entries(implementations) as Array<[FleetPortName, Type<unknown>]>;
  return {
    provide: Symbol(`ampora.fleet.ports#${++bindings}(${entries.map(([port]) => port).join(', ')})`),
    inject: [FleetPorts, ...entries.map(([, type]) => type)],
    useFactory: (ports: FleetPorts, ...instances: unknown[]) => {
      entries.forEach(([port], i) => ports.bind(port, instances[i] as never));
      return entries.map(([port]) => port);
    },
  };
}
