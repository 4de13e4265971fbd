import { Injectable, Module, Provider, Type } from '@nestjs/common';
import type { AgentAuthenticator, AgentStateSink, ClientCertificateVerifier, ConnectionSettingsProvider, ListenerCertificateIssuer, OpampSideRoutes, OwnTelemetryOffers, PackageOffers } from './ports';

/** The OpAMP library's extension points, by name, and what each must implement. */
export interface OpampPortMap {
  /** Required: who an agent is (fleet). */
  authenticator: AgentAuthenticator;
  /** Required: where agent state goes (fleet). */
  stateSink: AgentStateSink;
  /** Optional: certificates and other connection settings offered to agents (PKI). */
  connectionSettings: ConnectionSettingsProvider;
  /** Optional: validates client certificates on the TLS listener (PKI). */
  certificateVerifier: ClientCertificateVerifier;
  /** Optional: issues the TLS listener's certificate when the operator gives none (PKI). */
  listenerCertificates: ListenerCertificateIssuer;
  /** Optional: own telemetry settings offered to agents that report their own metrics, traces or logs (fleet). */
  ownTelemetry: OwnTelemetryOffers;
  /** Optional: HTTP paths the TLS listener serves beside OpAMP (fleet's OTLP intake). */
  sideRoutes: OpampSideRoutes;
  /** Optional: packages offered to agents that accept them (fleet; issue 20 item 4). */
  packageOffers: PackageOffers;
}

export type OpampPortName = keyof OpampPortMap;

/**
 * The implementations bound to the OpAMP ports (decision 0200). Filled while the application's
 * providers are created, by the binding providers of the modules that implement the ports
 * (`bindOpampPorts` in FleetModule and PkiModule); read by the core and the transports from their
 * lifecycle hooks on. Nothing is looked up in the container: a port is what a module bound to it.
 */
@Injectable()
export class OpampPorts {
  private readonly bound: Partial<OpampPortMap> = {};

  bind<K extends OpampPortName>(port: K, implementation: OpampPortMap[K]): void {
    const current = this.bound[port];
    if (current && current !== implementation) throw new Error(`The OpAMP port "${port}" is bound twice`);
    this.bound[port] = implementation;
  }

  /** The port's implementation; throws when a required port was never bound. */
  required<K extends OpampPortName>(port: K): OpampPortMap[K] {
    const implementation = this.bound[port];
    if (!implementation) throw new Error(`OpAMP needs an implementation of the "${port}" port; no module bound one (bindOpampPorts)`);
    return implementation;
  }

  optional<K extends OpampPortName>(port: K): OpampPortMap[K] | undefined {
    return this.bound[port];
  }
}

/** Only the port holder: what a module that implements ports imports (no protocol, no sessions). */
@Module({ providers: [OpampPorts], exports: [OpampPorts] })
export class OpampPortsModule {}

let bindings = 0;

/**
 * A provider that binds this module's implementations to OpAMP ports, by class:
 * `bindOpampPorts({ authenticator: FleetAgentAuthenticator, stateSink: AgentStateWriter })` in the
 * providers of the module that implements them (which imports OpampPortsModule). Several modules may
 * bind different ports; one port is bound once.
 */
export function bindOpampPorts(implementations: { [K in OpampPortName]?: Type<OpampPortMap[K]> }): Provider {
  const entries = Object.entries(implementations) as Array<[OpampPortName, Type<unknown>]>;
  return {
    provide: Symbol(`ampora.opamp.ports#${++bindings}(${entries.map(([port]) => port).join(', ')})`),
    inject: [OpampPorts, ...entries.map(([, type]) => type)],
    useFactory: (ports: OpampPorts, ...instances: unknown[]) => {
      entries.forEach(([port], i) => ports.bind(port, instances[i] as never));
      return entries.map(([port]) => port);
    },
  };
}
