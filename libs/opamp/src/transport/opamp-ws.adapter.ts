import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { OPAMP_FRAME } from './opamp.gateway';

/**
 * Nest's WsAdapter for the OpAMP gateway: every WebSocket message is one binary OpAMP frame (no JSON
 * envelope), handed as it came to the gateway's OPAMP_FRAME handler; errors of single sockets (an
 * oversized frame, a peer gone) are the gateway's to count and log, not error lines of the adapter.
 * Set on the server application: `app.useWebSocketAdapter(new OpampWsAdapter(app))`.
 */
export class OpampWsAdapter extends WsAdapter {
  constructor(app: INestApplicationContext) {
    super(app, { messageParser: (data: unknown) => ({ event: OPAMP_FRAME, data }) });
  }

  override bindErrorHandler(server: { on(event: 'error', listener: (error: Error) => void): void }): typeof server {
    server.on('error', (error) => this.logger.error(error));
    return server;
  }
}
