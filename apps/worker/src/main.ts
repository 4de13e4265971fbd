import { config } from './instrument';
import { closeStorage, createLogger, onStopSignals, shutdownTelemetry } from '@ampora/platform';
import { createWorker } from './worker.factory';
import { startWorkerHttp } from './worker-http';

const log = createLogger('Ampora.Worker');

async function main(): Promise<void> {
  const app = await createWorker(config);
  const http = config.worker.httpPort > 0 ? await startWorkerHttp(app, config) : undefined;
  log.info('Ampora worker {InstanceId} started', { InstanceId: config.app.instanceId, Port: http?.port ?? null });
  // BullMQ workers hold connections open; this also keeps a worker with nothing to consume alive
  const keepAlive = setInterval(() => undefined, 1 << 30);
  onStopSignals(log, (config.shutdown.drainSeconds + config.shutdown.timeoutSeconds) * 1000, async (signal) => {
    log.info('Received {Signal}; finishing running jobs', { Signal: signal });
    http?.draining();
    clearInterval(keepAlive);
    await app.close();
    await http?.close();
    await closeStorage(config);
    await shutdownTelemetry();
    log.info('Ampora worker {InstanceId} stopped', { InstanceId: config.app.instanceId });
  }, { withParent: config.shutdown.withParent });
}

main().catch((error: unknown) => {
  log.critical('The worker failed to start', {}, error);
  process.exit(1);
});
