import { Module } from '@nestjs/common';
import { OpampModule } from './opamp.module';
import { OpampTransportService } from './transport/opamp-transport.service';

/** The agent-facing endpoint `/v1/opamp` (WebSocket + HTTP, and the TLS listener). Server only. */
@Module({ imports: [OpampModule], providers: [OpampTransportService], exports: [OpampTransportService] })
export class OpampApiModule {}
