import WebSocket from 'ws';
import type { ServerProcess } from './server-process';

/**
 * The V8 inspector of a server process started with `--inspect=127.0.0.1:0` (test only): lets the
 * memory probe ask for a full garbage collection, so "the memory came back" is measured on what the
 * process still holds and not on when V8 happens to shrink its heap.
 */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
      const waiter = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id!);
      if (msg.error) waiter.reject(new Error(msg.error.message));
      else waiter.resolve(msg.result ?? {});
    });
  }

  /** Connects to the inspector whose address the process printed on stderr. */
  static async attach(server: ServerProcess, timeoutMs = 10_000): Promise<Inspector> {
    const deadline = Date.now() + timeoutMs;
    let url: string | undefined;
    while (!url) {
      url = /Debugger listening on (ws:\/\/\S+)/.exec(server.process.stderr.join(''))?.[1];
      if (url) break;
      if (Date.now() > deadline) throw new Error('the server printed no inspector address (was it started with --inspect?)');
      await new Promise((r) => setTimeout(r, 100));
    }
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new Inspector(socket);
  }

  /** A full, memory-reducing garbage collection (what V8 does on a low-memory notification). */
  async collectGarbage(): Promise<void> {
    await this.call('HeapProfiler.collectGarbage');
  }

  /** The V8 heap in use and its size, in bytes. */
  async heap(): Promise<{ used: number; total: number }> {
    const result = await this.call('Runtime.getHeapUsage');
    return { used: Number(result.usedSize), total: Number(result.totalSize) };
  }

  close(): void {
    this.socket.close();
  }

  private call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }
}
