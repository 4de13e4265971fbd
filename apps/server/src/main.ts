import { config } from './instrument';
import type { AddressInfo } from 'node:net';
import { createLogger, shutdownTelemetry } from '@ampora/platform';
import { createServer } from './server.factory';

const log = createLogger('Ampora.Server');

async function main(): Promise<void> {
  const app = await createServer(config);
  await app.listen(config.http.port, config.http.host);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  log.info('Ampora server {InstanceId} listening on port {Port} ({Url})', {
    InstanceId: config.app.instanceId,
    Port: port,
    Url: config.http.port === 0 ? `http://localhost:${port}` : config.app.publicUrl,
  });
  const stop = async (signal: string) => {
    log.info('Received {Signal}; shutting down', { Signal: signal });
    await app.close();
    await shutdownTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  log.critical('The server failed to start', {}, error);
  process.exit(1);
});
