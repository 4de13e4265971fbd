import { Module } from '@nestjs/common';
import { DispatchReceiver } from './dispatch/dispatch-receiver';
import { OpampModule } from './opamp.module';
import { SessionLeaseKeeper } from './ownership/session-lease-keeper';
import { AgentAdmission } from './transport/agent-admission';
import { ListenerIdentity } from './transport/listener-identity';
import { OpampGateway } from './transport/opamp.gateway';
import { OpampHttpEndpoint } from './transport/opamp-http.endpoint';
import { OpampTlsListener } from './transport/opamp-tls.listener';
import { OpampTransportService } from './transport/opamp-transport.service';
import { RefusalMemory } from './transport/refusal-memory';
import { TenantSessionCap } from './transport/tenant-session-cap';

/**
 * The agent-facing side (server only): the endpoint `/v1/opamp` (the WebSocket gateway, HTTP polling,
 * and the TLS listener that serves both), the leases on the sessions it holds, and the delivery of
 * pushes other instances forward. Needs the application's WebSocket adapter: OpampWsAdapter.
 */
@Module({
  imports: [OpampModule],
  providers: [
    OpampGateway,
    OpampHttpEndpoint,
    OpampTlsListener,
    AgentAdmission,
    ListenerIdentity,
    RefusalMemory,
    TenantSessionCap,
    OpampTransportService,
    SessionLeaseKeeper,
    DispatchReceiver,
  ],
  exports: [OpampTransportService, SessionLeaseKeeper],
})
export class OpampApiModule {}
