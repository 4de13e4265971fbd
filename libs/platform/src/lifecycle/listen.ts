import type { Server } from 'node:net';

/**
 * Listens on `port` and `host` and resolves once listening (rejects with the listen error). With a
 * `backlog` (decision 0432): the connections the kernel completes and holds until the process accepts
 * them. Node's default, 511, overflowed when thousands of agents reconnected at once after a restart;
 * the kernel then drops their SYNs and the clients retry only after 1, 3, 7, 15 s. The kernel caps it
 * at `net.core.somaxconn`.
 */
export function startListening(server: Server, options: { port: number; host: string; backlog?: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, backlog: options.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
