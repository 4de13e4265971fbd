import { config } from './instrument';
import { closeStorage, createLogger, shutdownTelemetry } from '@ampora/platform';
import { createWorker } from './worker.factory';

const log = createLogger('Ampora.Worker');

async function main(): Promise<void> {
  const app = await createWorker(config);
  log.info('Ampora worker {InstanceId} started', { InstanceId: config.app.instanceId });
  // BullMQ workers hold connections open; this also keeps a worker with nothing to consume alive
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = async (signal: string) => {
    log.info('Received {Signal}; finishing running jobs', { Signal: signal });
    clearInterval(keepAlive);
    await app.close();
    await closeStorage(config);
    await shutdownTelemetry();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  log.critical('The worker failed to start', {}, error);
  process.exit(1);
});
