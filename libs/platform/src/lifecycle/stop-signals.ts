import type { Server } from 'node:http';
import type { Server as NetServer } from 'node:net';
import type { Logger } from '../logging/logger';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, however many arrive (a terminal's Ctrl-C reaches
 * every process of the group, and a supervisor may signal again): closing twice would close the
 * database pool twice under work that still needs it. The process exits with 0 when `stop` resolves,
 * 1 when it fails, and 1 with an error line when it takes longer than `timeoutMs`.
 */
export function onStopSignals(log: Logger, timeoutMs: number, stop: (signal: NodeJS.Signals | 'parent exited') => Promise<void>, options: { withParent?: boolean } = {}): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals | 'parent exited') => {
    if (stopping) {
      log.debug('Received {Signal} again; already shutting down', { Signal: signal });
      return;
    }
    stopping = true;
    const timer = setTimeout(() => {
      log.error('The shutdown did not finish within {TimeoutMs} ms; exiting', { TimeoutMs: timeoutMs });
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('The shutdown failed', {}, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
  if (options.withParent) {
    // `npm run start:server` under a supervisor: npm dies of the SIGTERM meant for us and does not
    // pass it on; we notice that our parent changed (we were re-parented) and stop the same way
    const parent = process.ppid;
    const watch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(watch);
      handle('parent exited');
    }, 250);
    watch.unref();
  }
}

/** Counts the HTTP requests in flight, so a shutdown can wait for them to finish. */
export class InFlightRequests {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  constructor(server: Server) {
    server.on('request', (_req, res) => {
      this.count += 1;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        this.count -= 1;
        if (this.count === 0) for (const w of [...this.waiters]) w();
      };
      res.once('finish', finish);
      res.once('close', finish);
    });
  }

  get size(): number {
    return this.count;
  }

  /** Resolves true when no request is in flight, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(onIdle);
        resolve(ok);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.waiters.add(onIdle);
    });
  }
}

/** The close of each server whose listener was stopped: `server.close` calls its callback only once the close happened, and a second call after that would wait forever. */
const closing = new WeakMap<NetServer, Promise<void>>();

/**
 * Stops taking connections (the open ones stay until closed) and resolves once the server has closed.
 * Called again, it answers the same close. In a graceful shutdown the server stops listening before
 * it sends its agents away (decision 0451), so that they reconnect by their own backoff rather than
 * into a refusal of an instance about to exit.
 */
export function stopTakingConnections(server: NetServer): Promise<void> {
  let closed = closing.get(server);
  if (!closed) {
    closed = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    closing.set(server, closed);
  }
  return closed;
}

/**
 * Stops the HTTP listener: no new connections, idle keep-alive connections closed, in-flight requests
 * given until `timeoutMs` to finish; whatever is still open then is cut.
 */
export async function closeHttpServer(server: Server, inFlight: InFlightRequests, timeoutMs: number): Promise<{ unfinished: number }> {
  const closed = stopTakingConnections(server);
  server.closeIdleConnections();
  const idle = await inFlight.idle(timeoutMs);
  const unfinished = idle ? 0 : inFlight.size;
  server.closeAllConnections();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
  return { unfinished };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
