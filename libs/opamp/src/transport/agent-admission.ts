import { Injectable, OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { Clock } from '@ampora/platform';
import type { ConnectionState } from '../core/connection-state';
import { OpampPorts } from '../opamp-ports';
import type { AgentAuthenticator, ClientCertificate, ClientCertificateVerifier, ConnectInput, Transport } from '../ports';
import { ListenerIdentity } from './listener-identity';
import { RefusalMemory } from './refusal-memory';
import { refusalKey, retryAfterSeconds } from './refusal-policy';

/** How a connection was admitted or refused before its first frame. */
export type Admission =
  | { ok: true; state: ConnectionState }
  | { ok: false; status: 401 | 403 | 429 | 503; retryAfter: number; reason: string; tenantId?: string };

export const STATUS_TEXT: Record<401 | 403 | 429 | 503, string> = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** The headers of a refusal before the upgrade (or of an HTTP poll): WWW-Authenticate on 401, Retry-After. */
export function refusalHeaders(status: number, retryAfter: number | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'text/plain' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  if (retryAfter) headers['retry-after'] = String(retryAfter);
  return headers;
}

/**
 * Who may connect, decided before the WebSocket upgrade or the HTTP body (decision 0120): the client
 * certificate of the TLS listener, the credential in the headers (the authenticator port), and the
 * memory of recent refusals. Both transports, on both listeners, ask here.
 */
@Injectable()
export class AgentAdmission implements OnModuleInit {
  private authenticator!: AgentAuthenticator;
  private verifier?: ClientCertificateVerifier;
  private accepting = true;
  /** What each admitted connection's refusals are remembered by (credential and source). */
  private readonly refusalKeys = new WeakMap<ConnectionState, string>();

  constructor(
    private readonly ports: OpampPorts,
    private readonly refusals: RefusalMemory,
    private readonly listener: ListenerIdentity,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.authenticator = this.ports.required('authenticator');
    this.verifier = this.ports.optional('certificateVerifier');
  }

  /** Stops taking new agents (graceful shutdown); existing sessions stay until closed. */
  stopAccepting(): void {
    this.accepting = false;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  /**
   * Admits a connection or refuses it: 503 while draining; a credential and source refused recently
   * are answered 429 without looking at the credential again; a credential refused now is answered
   * 401 (403 when known but not allowed) and remembered; every refusal carries Retry-After.
   */
  async admit(req: IncomingMessage, transport: Transport): Promise<Admission> {
    if (!this.accepting) return { ok: false, status: 503, retryAfter: 30, reason: 'draining' };
    const certificate = peerCertificate(req);
    const key = refusalKey(req.headers, certificate?.fingerprint, req.socket.remoteAddress);
    const now = this.clock.nowMs();
    const block = await this.refusals.blocked(key, now);
    if (block) return { ok: false, status: 429, retryAfter: retryAfterSeconds(block.until - now), reason: `refused ${block.strikes} time(s) recently: wait` };
    const prepared = await this.connectInput(req, transport, certificate);
    const outcome = prepared.ok ? await this.authenticator.authenticate(prepared.input) : prepared;
    if (!outcome.ok) {
      const tenantId = 'tenantId' in outcome ? (outcome.tenantId as string | undefined) : undefined;
      const strike = await this.refusals.strike(key, now);
      return { ok: false, status: outcome.forbidden ? 403 : 401, retryAfter: retryAfterSeconds(strike.until - now), reason: outcome.reason, tenantId };
    }
    const state: ConnectionState = { handle: { id: randomUUID(), transport }, credential: outcome.credential, mtls: this.listener.mtlsTarget(req, transport) };
    this.refusalKeys.set(state, key);
    return { ok: true, state };
  }

  /** A refusal on the first frame (attach): remembered, so the next attempts are refused at the upgrade. */
  async rememberRefusal(state: ConnectionState): Promise<number | undefined> {
    const key = this.refusalKeys.get(state);
    if (!key) return undefined;
    const now = this.clock.nowMs();
    const strike = await this.refusals.strike(key, now);
    return strike.strikes > 0 ? retryAfterSeconds(strike.until - now) : undefined;
  }

  private async connectInput(req: IncomingMessage, transport: Transport, certificate: ClientCertificate | undefined): Promise<{ ok: true; input: ConnectInput } | { ok: false; reason: string; forbidden?: boolean }> {
    const input: ConnectInput = { transport, headers: req.headers, remoteAddress: req.socket.remoteAddress };
    if (certificate) {
      if (!this.verifier) return { ok: false, reason: 'client certificates are not accepted: no CA is configured' };
      const verdict = await this.verifier.verify(certificate);
      if (!verdict.ok) return { ok: false, reason: `client certificate refused: ${verdict.reason}`, forbidden: verdict.reason.startsWith('revoked') };
      input.clientCertificate = certificate;
    }
    return { ok: true, input };
  }
}

/** The client certificate the peer presented on the TLS listener (not verified yet), if any. */
function peerCertificate(req: IncomingMessage): ClientCertificate | undefined {
  const tls = req.socket as TLSSocket;
  if (typeof tls.getPeerCertificate !== 'function') return undefined;
  const peer = tls.getPeerCertificate(true);
  if (!peer || !peer.raw) return undefined;
  const chain: Buffer[] = [];
  let issuer = peer.issuerCertificate;
  while (issuer && issuer.raw && issuer !== issuer.issuerCertificate && chain.length < 8) {
    chain.push(issuer.raw);
    issuer = issuer.issuerCertificate;
  }
  return { der: peer.raw, fingerprint: createHash('sha256').update(peer.raw).digest('hex'), chain };
}

/** A stable key for a connection's credential (an HTTP poll must present the one its session was bound with). */
export function credentialKeyOf(state: ConnectionState): string {
  const c = state.credential;
  return c.kind === 'bootstrap' ? `bs:${c.tokenId}` : `cert:${c.fingerprint}`;
}
