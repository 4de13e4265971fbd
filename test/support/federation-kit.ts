import { connect, createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FederationListener } from '@ampora/federation';
import { eventually } from '@ampora/testing';
import { Api, apiClient, expectStatus } from './rollout-kit';
import { createToken, startTestServer, TestServer } from './test-server';

/**
 * One complete Ampora deployment for the federation suites: its own database (so its own CA and
 * signing key), master key, Redis prefix, HTTP port and federation listener port; an Admin and a
 * second Admin (four-eyes), and its federation certificate issued.
 */
export interface Deployment {
  server: TestServer;
  api: Api;
  /** A second Admin: approves what `api` requests. */
  approver: Api;
  ws: string;
  /** https://127.0.0.1:<port> of its federation listener. */
  endpoint: string;
  certificatePem: string;
  fingerprint: string;
  close(): Promise<void>;
}

export const FEDERATION_TEST_ENV = {
  AMPORA_FEDERATION_PORT: '0',
  AMPORA_FEDERATION_HOST: '127.0.0.1',
  AMPORA_FEDERATION_TIMEOUT_MS: '1500',
  AMPORA_FEDERATION_RETRIES: '1',
  AMPORA_FEDERATION_RETRY_BACKOFF_MS: '50',
  AMPORA_FEDERATION_BREAKER_FAILURES: '100',
};

export async function startDeployment(subject: string, env: Record<string, string> = {}, options: { withWorker?: boolean } = {}): Promise<Deployment> {
  const server = await startTestServer({ env: { ...FEDERATION_TEST_ENV, ...env }, withWorker: options.withWorker });
  const api = apiClient(server.url, server.adminToken);
  const approver = apiClient(server.url, await createToken(server, 'Admin'));
  const cert = (await expectStatus(api, 'POST', '/api/federation/certificates', 201, { subject })).body;
  const listener = server.app.get(FederationListener);
  const port = await eventually(() => listener.port());
  return {
    server,
    api,
    approver,
    ws: `${server.url.replace('http', 'ws')}/v1/opamp`,
    endpoint: `https://127.0.0.1:${port}`,
    certificatePem: cert.certificatePem,
    fingerprint: cert.fingerprint,
    close: () => server.close(),
  };
}

/** Registers a peer on `on` and has the second Admin approve it; returns the secrets shown once. */
export async function activePeer(on: Deployment, body: Record<string, unknown>): Promise<{ id: string; inboundSecret: string; outboundSecret: string }> {
  const created = (await expectStatus(on.api, 'POST', '/api/federation/peers', 201, body)).body;
  await expectStatus(on.approver, 'POST', `/api/approvals/${created.approvalId}/approve`, 200, {});
  return { id: created.peer.id, inboundSecret: created.inboundSecret, outboundSecret: created.outboundSecret };
}

/** Pairs two deployments both ways (A creates the secrets, B takes them swapped). */
export async function pair(a: Deployment, aName: string, b: Deployment, bName: string): Promise<{ aToB: string; bToA: string }> {
  const onA = await activePeer(a, { name: bName, endpoint: b.endpoint, remoteCertificatePem: b.certificatePem });
  await activePeer(b, { name: aName, endpoint: a.endpoint, remoteCertificatePem: a.certificatePem, inboundSecret: onA.outboundSecret, outboundSecret: onA.inboundSecret });
  return { aToB: onA.outboundSecret, bToA: onA.inboundSecret };
}

/**
 * A TCP relay in front of a listener (TLS stays end to end) that can be killed: `killOnRequest` makes it
 * drop every connection shortly after the client's first flight after the handshake, i.e. mid-request,
 * and stop listening.
 */
export class KillableRelay {
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  killOnRequest = false;
  killed = false;

  async start(target: string): Promise<string> {
    const url = new URL(target);
    this.server = createTcpServer((client) => {
      const upstream = connect(Number(url.port), url.hostname);
      this.sockets.add(client).add(upstream);
      let flights = 0;
      client.on('data', (chunk) => {
        upstream.write(chunk);
        // dies as soon as the client's second flight (the end of its handshake, the request with it or
        // right behind) has gone upstream: at once, so no answer can come back first on a fast machine
        if (this.killOnRequest && ++flights >= 2) this.kill();
      });
      upstream.on('data', (chunk) => client.write(chunk));
      for (const s of [client, upstream]) s.on('error', () => undefined).on('close', () => this.sockets.delete(s));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((res) => this.server!.listen(0, '127.0.0.1', () => res()));
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  kill(): void {
    this.killed = true;
    for (const s of this.sockets) s.destroy();
    this.server?.close();
  }
}

/** A TCP server that accepts connections and never answers (a peer that hangs). */
export async function silentServer(): Promise<{ endpoint: string; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  return {
    endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
