import { config } from './instrument';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { closeStorage, createLogger, shutdownTelemetry, TokenService } from '@ampora/platform';
import { createServer } from './server.factory';

const log = createLogger('Ampora.Server');

async function main(): Promise<void> {
  const app = await createServer(config);
  await app.listen(config.http.port, config.http.host);
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const url = config.http.port === 0 ? `http://localhost:${port}` : config.app.publicUrl;
  log.info('Ampora server {InstanceId} listening on port {Port} ({Url})', { InstanceId: config.app.instanceId, Port: port, Url: url, Storage: config.storage.mode });
  if (config.storage.mode === 'embedded') {
    const token = await app.get(TokenService).createFirstRunToken();
    // printed for the operator on stderr, never logged
    process.stderr.write(
      `\n  Embedded storage:  ${resolve(config.storage.dataDir)} (PostgreSQL in-process; set DATABASE_URL to use your own)\n` +
        (token
          ? `  Operator token:    ${token}\n                     shown once; stop Ampora and run \`npm run cli -- tokens create --tenant default --role Admin --name <n>\` for another\n`
          : `  Operator token:    created on the first run; stop Ampora and run \`npm run cli -- tokens create ...\` for a new one\n`),
    );
  }
  const stop = async (signal: string) => {
    log.info('Received {Signal}; shutting down', { Signal: signal });
    await app.close();
    await closeStorage(config);
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
