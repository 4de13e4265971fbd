import { config } from './instrument';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { closeHttpServer, closeStorage, createLogger, HealthService, InFlightRequests, LiveStreamService, onStopSignals, shutdownTelemetry, sleep, startListening, stopTakingConnections } from '@ampora/platform';
import { TokenService } from '@ampora/governance';
import { OpampTransportService, SessionLeaseKeeper } from '@ampora/opamp';
import { createServer } from './server.factory';
import { cliHint } from './cli-hint';

const log = createLogger('Ampora.Server');

async function main(): Promise<void> {
  const app = await createServer(config);
  const http = app.getHttpServer() as Server;
  const inFlight = new InFlightRequests(http);
  // Nest's listen takes no backlog: initialise, then listen with one (decision 0432)
  await app.init();
  await startListening(http, config.http);
  const port = (http.address() as AddressInfo).port;
  const url = config.http.port === 0 ? `http://localhost:${port}` : config.app.publicUrl;
  log.info('Ampora server {InstanceId} listening on port {Port} ({Url})', { InstanceId: config.app.instanceId, Port: port, Url: url, Storage: config.storage.mode });
  if (config.storage.mode === 'embedded') {
    const token = await app.get(TokenService).createFirstRunToken();
    // printed for the operator on stderr, never logged
    process.stderr.write(
      `\n  Embedded storage:  ${resolve(config.storage.dataDir)} (PostgreSQL in-process; set DATABASE_URL to use your own)\n` +
        (token
          ? `  Operator token:    ${token}\n                     shown once; stop Ampora and run \`${cliHint(config)}\` for another\n`
          : `  Operator token:    created on the first run; stop Ampora and run \`${cliHint(config)}\` for a new one\n`),
    );
  } else {
    // the CLI must open this deployment's database, not an embedded store of its own
    process.stderr.write(`\n  Operator token:    ${cliHint(config)}\n\n`);
  }
  const drainMs = config.shutdown.drainSeconds * 1000;
  const timeoutMs = config.shutdown.timeoutSeconds * 1000;
  // Graceful shutdown: readiness 503 and no new agents for the drain window (load balancers notice),
  // then the leases are given up, the listeners stop taking connections and agents are sent away
  // (1001), in-flight requests finish, the app closes (the agent state writer flushes before the
  // database closes), and the process exits.
  onStopSignals(log, drainMs + timeoutMs, async (signal) => {
    log.info('Received {Signal}; draining for {DrainSeconds} s (readiness 503, no new agents)', { Signal: signal, DrainSeconds: config.shutdown.drainSeconds });
    const transport = app.get(OpampTransportService);
    app.get(HealthService).startDraining();
    transport.stopAccepting();
    await sleep(drainMs);
    const deadline = Date.now() + timeoutMs - 2000;
    // give the leases up first, so the agents sent away are taken over at once where they reconnect
    await app.get(SessionLeaseKeeper).releaseAll();
    // and stop listening before sending them away: an agent that reconnects at once is refused the
    // connection and follows its own backoff to the next instance (or this one's successor), instead
    // of being answered 503 with Retry-After by an instance about to exit (decision 0451)
    void stopTakingConnections(http);
    transport.stopListening();
    await transport.drain(1001, 'server shutting down', Math.min(5000, Math.max(0, deadline - Date.now())));
    app.get(LiveStreamService).closeAll();
    const { unfinished } = await closeHttpServer(http, inFlight, Math.max(0, deadline - Date.now()));
    if (unfinished) log.warn('{Requests} HTTP requests were still running at the shutdown deadline; their connections were closed', { Requests: unfinished });
    await app.close();
    await closeStorage(config);
    await shutdownTelemetry();
    log.info('Ampora server {InstanceId} stopped', { InstanceId: config.app.instanceId });
  }, { withParent: config.shutdown.withParent });
}

main().catch((error: unknown) => {
  log.critical('The server failed to start', {}, error);
  process.exit(1);
});
