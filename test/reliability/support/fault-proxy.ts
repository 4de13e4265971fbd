import net from 'node:net';

/**
 * A TCP proxy on loopback in front of a service (PostgreSQL, Redis): `stop()` cuts every connection
 * and refuses new ones, as a stopped service does, without touching the service other tests share;
 * `start()` lets connections through again.
 */
export class FaultProxy {
  private readonly sockets = new Set<net.Socket>();
  private up = true;
  private server?: net.Server;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<number> {
    this.server = net.createServer((client) => {
      if (!this.up) return client.destroy();
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  stop(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  start(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.stop();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}
