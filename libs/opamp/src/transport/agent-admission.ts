import { Injectable, OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AbuseLimiter, AbuseSubject, Clock, Throttle } from '@ampora/platform';
import { credentialKey } from '../core/agent-session';
import type { ConnectionState } from '../core/connection-state';
import { OpampPorts } from '../opamp-ports';
import type { AgentAuthenticator, ClientCertificate, ClientCertificateVerifier, ConnectInput, Transport } from '../ports';
import { ListenerIdentity } from './listener-identity';
import { RefusalMemory } from './refusal-memory';
import { refusalKey, retryAfterSeconds } from './refusal-policy';
import { TenantSessionCap } from './tenant-session-cap';

/** How a connection was admitted or refused before its first frame. */
export type Admission =
  | { ok: true; state: ConnectionState }
  | { ok: false; status: 401 | 403 | 429 | 503; retryAfter: number; reason: string; tenantId?: string; limited?: boolean };

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
    private readonly limiter: AbuseLimiter,
    private readonly seats: TenantSessionCap,
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
   * are answered 429 without looking at the credential again, and so is a source (or tenant) over an
   * abuse limit (decision 0290); a credential refused now is answered 401 (403 when known but not
   * allowed) and remembered; a tenant at its session cap is answered 429. Every refusal carries
   * Retry-After.
   */
  async admit(req: IncomingMessage, transport: Transport): Promise<Admission> {
    if (!this.accepting) return { ok: false, status: 503, retryAfter: 30, reason: 'draining' };
    const certificate = peerCertificate(req);
    const source = req.socket.remoteAddress;
    const key = refusalKey(req.headers, certificate?.fingerprint, source);
    const now = this.clock.nowMs();
    const block = await this.refusals.blocked(key, now);
    if (block) return { ok: false, status: 429, retryAfter: retryAfterSeconds(block.until - now), reason: `refused ${block.strikes} time(s) recently: wait` };
    // a bearer credential on /v1/opamp is a bootstrap token: presenting one is an enrolment attempt
    const enrols = !certificate;
    const subject: AbuseSubject = { ip: source, credential: key };
    const held = this.limiter.throttled('auth_failure', subject) ?? (enrols ? this.limiter.throttled('enrolment', subject) : undefined);
    if (held) return limitedBy(held);
    const prepared = await this.connectInput(req, transport, certificate);
    const outcome = prepared.ok ? await this.authenticator.authenticate(prepared.input) : prepared;
    if (!outcome.ok) {
      const tenantId = 'tenantId' in outcome ? (outcome.tenantId as string | undefined) : undefined;
      const strike = await this.refusals.strike(key, now);
      const over = (await this.limiter.count('auth_failure', { ip: source, tenantId })) ?? (enrols ? await this.limiter.count('enrolment', { ip: source, tenantId }) : undefined);
      if (over) return limitedBy(over, tenantId);
      return { ok: false, status: outcome.forbidden ? 403 : 401, retryAfter: retryAfterSeconds(strike.until - now), reason: outcome.reason, tenantId };
    }
    const credential = outcome.credential;
    if (credential.kind === 'bootstrap' && !credential.boundAgentId) {
      const over = this.limiter.throttled('enrolment', { tenantId: credential.tenantId }) ?? (await this.limiter.count('enrolment', { ip: source, tenantId: credential.tenantId }));
      if (over) return limitedBy(over, credential.tenantId);
    }
    const seat = await this.seats.reserve(credential.tenantId, credentialKey(credential));
    if (seat) return { ok: false, status: 429, retryAfter: seat.retryAfter, reason: `the tenant has ${seat.cap} sessions (AMPORA_LIMITS_SESSIONS_PER_TENANT)`, tenantId: credential.tenantId, limited: true };
    this.limiter.vouch(key);
    const state: ConnectionState = { handle: { id: randomUUID(), transport }, credential, mtls: this.listener.mtlsTarget(req, transport) };
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

/** The refusal of an attempt over an abuse limit (decision 0290). */
function limitedBy(throttle: Throttle, tenantId?: string): Admission {
  const who = throttle.scope === 'ip' ? 'this address' : 'this tenant';
  const what = throttle.limit === 'enrolment' ? 'enrolment attempts' : 'refused credentials';
  return { ok: false, status: 429, retryAfter: throttle.retryAfter, reason: `too many ${what} from ${who}`, tenantId, limited: true };
}
