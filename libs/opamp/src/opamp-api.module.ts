import { Module } from '@nestjs/common';
import { DispatchReceiver } from './dispatch/dispatch-receiver';
import { OpampModule } from './opamp.module';
import { SessionLeaseKeeper } from './ownership/session-lease-keeper';
import { OpampTransportService } from './transport/opamp-transport.service';
import { RefusalMemory } from './transport/refusal-memory';

/**
 * The agent-facing side (server only): the endpoint `/v1/opamp` (WebSocket + HTTP, and the TLS
 * listener), the leases on the sessions it holds, and the delivery of pushes other instances forward.
 */
@Module({
  imports: [OpampModule],
  providers: [OpampTransportService, SessionLeaseKeeper, DispatchReceiver, RefusalMemory],
  exports: [OpampTransportService, SessionLeaseKeeper],
})
export class OpampApiModule {}
