import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { X509Certificate } from 'node:crypto';
import { AMPORA_CONFIG, AmporaConfig } from '@ampora/platform';
import type { MtlsTarget, Transport } from '../ports';
import { certificateCovers, hostOf } from './listener-trust';
import { mtlsEndpoint } from './mtls-endpoint';

/**
 * What the TLS listener is (its certificate, the PEM certificates that verify it, its port), kept by
 * OpampTlsListener and read at admission to tell where a certificate offered on a connection sends
 * its agent.
 */
@Injectable()
export class ListenerIdentity {
  /** The listener's own certificate. */
  leaf?: X509Certificate;
  /** The PEM certificates that verify it (sent with certificate offers). */
  trustPem?: string;
  /** The port it listens on, once listening. */
  port?: number;

  constructor(@Inject(AMPORA_CONFIG) private readonly config: AmporaConfig) {}

  /**
   * Where a certificate offered on this connection sends the agent (decision 0121): AMPORA_OPAMP_MTLS_URL,
   * or else the TLS listener under a name its certificate is valid for (the name the agent used to
   * reach us, then AMPORA_OPAMP_TLS_HOSTNAMES, then AMPORA_PUBLIC_URL's host), in the scheme of the
   * agent's transport. Undefined when no such place exists or agents could not verify it.
   */
  mtlsTarget(req: IncomingMessage, transport: Transport): MtlsTarget | undefined {
    return this.targetFor(req.headers.host, transport);
  }

  /** The same place for a caller that did not reach us through the listener (no Host header: the configured names only). */
  targetFor(hostHeader: string | undefined, transport: Transport): MtlsTarget | undefined {
    const trust = this.trustPem;
    if (!trust) return undefined;
    const configured = mtlsEndpoint(this.config.opamp.mtlsUrl, transport);
    if (configured) return { endpoint: configured, serverCaPem: trust };
    const leaf = this.leaf;
    const port = this.port;
    if (!leaf || !port) return undefined;
    const candidates = [hostOf(hostHeader), ...this.config.opamp.tlsHostnames, hostOf(new URL(this.config.app.publicUrl).host)];
    const host = candidates.find((h): h is string => Boolean(h) && certificateCovers(leaf, h!));
    if (!host) return undefined;
    const shown = host.includes(':') ? `[${host}]` : host;
    return { endpoint: `${transport === 'http' ? 'https' : 'wss'}://${shown}:${port}${this.config.opamp.path}`, serverCaPem: trust };
  }
}
