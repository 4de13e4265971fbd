import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, startListening, stopTakingConnections, TimerHandle } from '@ampora/platform';
import { OpampPorts } from '../opamp-ports';
import type { ListenerCertificateIssuer } from '../ports';
import { certificateCovers, hostOf, listenerTrust } from './listener-trust';
import { ListenerIdentity } from './listener-identity';
import { OpampGateway } from './opamp.gateway';
import { OpampHttpEndpoint } from './opamp-http.endpoint';

/**
 * The OpAMP TLS listener (AMPORA_OPAMP_TLS_PORT): its own HTTPS server that asks for client
 * certificates and serves `/v1/opamp` only, WebSocket upgrades going to OpampGateway and polls to
 * OpampHttpEndpoint. Its certificate is the operator's (AMPORA_OPAMP_TLS_CERT_FILE) or, without one,
 * issued by Ampora's CA (the listenerCertificates port) and renewed in memory at half its life.
 */
@Injectable()
export class OpampTlsListener implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.OpAmp.Transport');
  private server?: HttpsServer;
  private renewal?: TimerHandle;

  constructor(
    private readonly gateway: OpampGateway,
    private readonly http: OpampHttpEndpoint,
    private readonly identity: ListenerIdentity,
    private readonly ports: OpampPorts,
    private readonly adapterHost: HttpAdapterHost,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** Starts once every module is ready: its certificate may come from Ampora's CA. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.adapterHost.httpAdapter) return;
    await this.start();
  }

  /** The listener's port (useful when configured as 0). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  /** Stops taking connections (the open ones stay until closed); `close` waits for them. */
  stopAccepting(): void {
    if (this.server) void stopTakingConnections(this.server);
  }

  async close(): Promise<void> {
    this.renewal?.cancel();
    if (this.server) await stopTakingConnections(this.server);
  }

  private async start(): Promise<void> {
    const { tlsPort, tlsCertFile, tlsKeyFile, tlsCaFile } = this.config.opamp;
    const caFile = tlsCaFile ? readFileSync(tlsCaFile, 'utf8') : undefined;
    if (tlsPort === undefined) {
      // no listener here (another process serves mTLS): the operator's CA file alone is the trust to offer
      this.identity.trustPem = caFile;
      return;
    }
    let material: { cert: string; key: string };
    if (tlsCertFile && tlsKeyFile) {
      material = { cert: readFileSync(tlsCertFile, 'utf8'), key: readFileSync(tlsKeyFile, 'utf8') };
      const trust = listenerTrust(material.cert, caFile);
      if ('problem' in trust) {
        this.log.warn('No certificate offers: agents could not verify the TLS listener they would be sent to ({Problem})', { Problem: trust.problem });
      } else this.identity.trustPem = trust.trustPem;
    } else {
      const issued = await this.issueCertificate();
      if (!issued) return;
      material = issued;
    }
    this.identity.leaf = new X509Certificate(material.cert);
    const mtlsHost = this.config.opamp.mtlsUrl ? hostOf(new URL(this.config.opamp.mtlsUrl).host) : undefined;
    if (mtlsHost && !certificateCovers(this.identity.leaf, mtlsHost)) {
      this.log.warn('The TLS listener\'s certificate is not valid for {Host} (AMPORA_OPAMP_MTLS_URL): agents sent there will refuse it', { Host: mtlsHost });
    }
    const server = createHttpsServer({ cert: material.cert, key: material.key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => {
      if (!this.isOpampPath(req)) {
        const side = this.ports.optional('sideRoutes');
        if (side?.handles((req.url ?? '').split('?')[0]!)) return side.handle(req, res);
        res.writeHead(404).end();
        return;
      }
      void this.http.handle(req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (!this.isOpampPath(req)) return void socket.destroy();
      this.gateway.acceptUpgrade(req, socket, head);
    });
    server.on('tlsClientError', (err) => this.log.debug('TLS handshake failed: {Error}', { Error: err.message }));
    this.server = server;
    await startListening(server, { port: tlsPort, host: this.config.http.host, backlog: this.config.http.backlog });
    this.identity.port = this.port;
    this.log.info('OpAMP TLS listener on port {Port} asks for client certificates', { Port: this.port });
  }

  private isOpampPath(req: IncomingMessage): boolean {
    return (req.url ?? '').split('?')[0] === this.config.opamp.path;
  }

  /**
   * No certificate from the operator: Ampora's CA issues the listener's server certificate (for
   * AMPORA_OPAMP_TLS_HOSTNAMES), renewed in memory at half its life (decision 0120). Offers then carry
   * that CA, which is all an agent needs to verify the listener.
   */
  private async issueCertificate(): Promise<{ cert: string; key: string } | undefined> {
    const issuer = this.ports.optional('listenerCertificates');
    if (!issuer) {
      this.log.error('AMPORA_OPAMP_TLS_PORT is set without AMPORA_OPAMP_TLS_CERT_FILE and no CA can issue one: the TLS listener is off');
      return undefined;
    }
    try {
      const issued = await issuer.issueListenerCertificate(this.config.opamp.tlsHostnames);
      this.identity.trustPem = issued.caPem;
      this.scheduleRenewal(issuer, this.halfLife(issued.notAfter));
      this.log.info('Ampora\'s CA issued the TLS listener\'s certificate for {Hostnames}, until {NotAfter}', { Hostnames: this.config.opamp.tlsHostnames.join(', '), NotAfter: issued.notAfter.toISOString() });
      return { cert: issued.certPem, key: issued.keyPem };
    } catch (error) {
      this.log.error('Ampora\'s CA could not issue the TLS listener\'s certificate: the TLS listener is off', {}, error);
      return undefined;
    }
  }

  private async renewCertificate(issuer: ListenerCertificateIssuer): Promise<void> {
    try {
      const issued = await issuer.issueListenerCertificate(this.config.opamp.tlsHostnames);
      this.server?.setSecureContext({ cert: issued.certPem, key: issued.keyPem, minVersion: 'TLSv1.2' });
      this.identity.leaf = new X509Certificate(issued.certPem);
      this.identity.trustPem = issued.caPem;
      this.scheduleRenewal(issuer, this.halfLife(issued.notAfter));
    } catch (error) {
      this.log.error('Could not renew the TLS listener\'s certificate; trying again in an hour', {}, error);
      this.scheduleRenewal(issuer, 3_600_000);
    }
  }

  private halfLife(notAfter: Date): number {
    return Math.min(2 ** 31 - 1, Math.max(60_000, (notAfter.getTime() - this.clock.nowMs()) / 2));
  }

  private scheduleRenewal(issuer: ListenerCertificateIssuer, inMs: number): void {
    this.renewal = this.clock.setTimeout(() => void this.renewCertificate(issuer), inMs).unref();
  }
}
