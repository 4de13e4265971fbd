import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthService } from '@ampora/platform';
import { OpampCore } from '../core/opamp-core.service';
import { SessionLeaseKeeper } from '../ownership/session-lease-keeper';
import type { MtlsTarget, Transport } from '../ports';
import { AgentAdmission } from './agent-admission';
import { ListenerIdentity } from './listener-identity';
import { OpampGateway } from './opamp.gateway';
import { OpampHttpEndpoint } from './opamp-http.endpoint';
import { OpampTlsListener } from './opamp-tls.listener';

/**
 * The OpAMP endpoint as the process's lifecycle sees it: both transports (OpampGateway for
 * WebSocket, OpampHttpEndpoint for HTTP) on both listeners (the main port and OpampTlsListener),
 * stopped together. The server's main drains through here (see onStopSignals).
 */
@Injectable()
export class OpampTransportService implements OnModuleDestroy {
  constructor(
    private readonly core: OpampCore,
    private readonly admission: AgentAdmission,
    private readonly gateway: OpampGateway,
    private readonly http: OpampHttpEndpoint,
    private readonly tls: OpampTlsListener,
    private readonly leases: SessionLeaseKeeper,
    private readonly health: HealthService,
    private readonly listener: ListenerIdentity,
  ) {}

  /**
   * Where agents with a certificate connect to this deployment (the TLS listener under a configured
   * name, or AMPORA_OPAMP_MTLS_URL) and the certificates that verify it; undefined without a TLS
   * listener. A peer hands agents over to it (federation, decision 0371).
   */
  mtlsTarget(transport: Transport = 'ws'): MtlsTarget | undefined {
    return this.listener.targetFor(undefined, transport);
  }

  /** The TLS listener's port (useful when configured as 0). */
  get tlsPort(): number | undefined {
    return this.tls.port;
  }

  /** Stops taking new agents (graceful shutdown); existing sessions stay until closed. */
  stopAccepting(): void {
    this.admission.stopAccepting();
  }

  /** The mTLS listener takes no more connections (graceful shutdown, decision 0451); the open ones stay until closed. */
  stopListening(): void {
    this.tls.stopAccepting();
  }

  /** Closes every WebSocket so agents reconnect (elsewhere), and waits (bounded) for the closes. */
  drain(code = 1012, reason = 'server restarting', waitMs = 1000): Promise<void> {
    return this.gateway.drain(code, reason, waitMs);
  }

  /**
   * Graceful shutdown: readiness goes down, no new agents, the leases are released, and every
   * WebSocket is closed with 1001 (going away) so its agent reconnects to another instance at once
   * and takes its lease there without waiting for it to expire. The server's main closes the
   * sessions itself after its drain window (see onStopSignals); this is what is left by then.
   */
  async onModuleDestroy(): Promise<void> {
    this.admission.stopAccepting();
    this.health.startDraining();
    this.http.onModuleDestroy();
    await this.leases.releaseAll();
    await this.drain(1001, 'server shutting down');
    // record every agent as disconnected before the state writer's final flush
    this.core.endAll();
    this.gateway.stop();
    await this.tls.close();
  }
}

export { acceptsGzip, PROTOBUF } from './opamp-http.endpoint';
