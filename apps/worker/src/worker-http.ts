import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { INestApplicationContext } from '@nestjs/common';
import { AmporaConfig, createLogger, HealthService, JobRegistry, prometheusExporter } from '@ampora/platform';

export interface WorkerHttp {
  port: number;
  /** Readiness answers 503 from now on (the worker is stopping). */
  draining(): void;
  close(): Promise<void>;
}

const log = createLogger('Ampora.Worker.Http');

/**
 * The worker's small HTTP face on AMPORA_WORKER_HTTP_PORT, for orchestrators and Prometheus:
 * `GET /health/live`, `GET /health/ready` (the server's checks — database, Redis when the queues or
 * the backplane use it, backplane — plus `consumers`: every queue's consumer is running) and
 * `GET /metrics`. Nothing else: the worker serves no API. A 503 names the failing check(s) in
 * `checks` (decision 0230).
 */
export async function startWorkerHttp(app: INestApplicationContext, config: AmporaConfig): Promise<WorkerHttp | undefined> {
  const health = app.get(HealthService);
  health.register('consumers', () => consumersRunning(app.get(JobRegistry)));
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { status: 'method not allowed' });
    if (path === '/health/live') return json(res, 200, { status: 'ok' });
    if (path === '/health/ready') {
      void health.readiness().then(
        (report) => json(res, report.status === 'ok' ? 200 : 503, report),
        () => json(res, 503, { status: 'unavailable', checks: {} }),
      );
      return;
    }
    if (path === '/metrics') return prometheusExporter().getMetricsRequestHandler(req, res);
    json(res, 404, { status: 'not found' });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.worker.httpPort, config.http.host, () => resolve());
    });
  } catch (error) {
    // the jobs matter more than the probes: keep working, and say so loudly (liveness probes fail)
    log.error('The worker could not listen on port {Port} (AMPORA_WORKER_HTTP_PORT); it runs jobs without /health and /metrics', { Port: config.worker.httpPort }, error);
    return undefined;
  }
  const port = (server.address() as AddressInfo).port;
  log.info('Worker health and metrics on port {Port}', { Port: port });
  return {
    port,
    draining: () => health.startDraining(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Fails naming the queues whose consumer is not running (none declared is a failure too). */
export async function consumersRunning(registry: JobRegistry): Promise<void> {
  const states = registry.consumerStates();
  if (states.length === 0) throw new Error('no job consumer is registered');
  const stopped = states.filter((s) => !s.running).map((s) => s.queue);
  if (stopped.length > 0) throw new Error(`job consumers not running: ${stopped.join(', ')}`);
}
