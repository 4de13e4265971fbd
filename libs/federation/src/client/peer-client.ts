import { performance } from 'node:perf_hooks';
import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, injectTraceContext, Metrics, SpanKind, TenantLabels, withSpan } from '@ampora/platform';
import { CircuitBreaker } from '../domain/circuit-breaker';
import { PeerEntity } from '../entities/peer.entity';
import { FederationIdentityService } from '../federation-identity.service';
import { PeersService } from '../peers.service';
import { PeerCallError, rawPeerCall } from './peer-call';

/** Headers of the federation protocol (decision 0312). */
export const FEDERATION_SECRET_HEADER = 'ampora-federation-secret';
export const FEDERATION_TENANT_HEADER = 'ampora-federation-tenant';

export interface PeerAnswer<T> {
  status: number;
  body: T;
  durationMs: number;
}

export interface CallOptions {
  /** The whole budget, retries included (the configured timeout by default). */
  budgetMs?: number;
  /** Retries of a failed connection or 5xx inside the budget (the configured count by default; 0 for writes). */
  retries?: number;
  method?: 'GET' | 'POST';
  body?: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Outbound calls to a tenant's peers: pinned mTLS (rawPeerCall), the outbound secret, the caller's
 * tenant name as the peer knows it, a time budget with retries and back-off inside it, and a circuit
 * breaker per peer. Every call is a `federation.outbound_call` span (W3C traceparent sent) and counts
 * in `ampora_federation_calls_total` / `ampora_federation_call_duration_seconds`.
 */
@Injectable()
export class PeerClient {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly identity: FederationIdentityService,
    private readonly peers: PeersService,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  breakerOf(peer: PeerEntity): CircuitBreaker {
    let breaker = this.breakers.get(peer.id);
    if (!breaker) {
      breaker = new CircuitBreaker({ failures: this.config.federation.breakerFailures, openMs: this.config.federation.breakerOpenSeconds * 1000 });
      this.breakers.set(peer.id, breaker);
    }
    return breaker;
  }

  /** Whether the peer's circuit lets calls through now (the federated views skip a peer whose circuit is open). */
  healthy(peer: PeerEntity): boolean {
    return this.breakerOf(peer).state(this.clock.nowMs()) !== 'open';
  }

  async call<T>(peer: PeerEntity, path: string, options: CallOptions = {}): Promise<PeerAnswer<T>> {
    const settings = this.config.federation;
    const budget = options.budgetMs ?? settings.timeoutMs;
    const labels = { tenant: TenantLabels.of(peer.tenantId), peer: peer.name, direction: 'outbound' };
    const started = process.hrtime.bigint();
    const url = new URL(`${peer.endpoint}${path}`);
    let outcome = 'ok';
    try {
      return await withSpan('federation.outbound_call', { kind: SpanKind.CLIENT, attributes: { 'peer.name': peer.name, endpoint: peer.endpoint } }, async (span) => {
        const breaker = this.breakerOf(peer);
        if (!breaker.allow(this.clock.nowMs())) {
          span.setAttribute('http.status_code', 0);
          throw new PeerCallError('circuit', `the circuit of peer ${peer.name} is open after repeated failures`);
        }
        try {
          const identity = await this.identity.current();
          if (!identity) throw new PeerCallError('tls', 'this deployment has no federation certificate in date to present');
          const headers = { [FEDERATION_SECRET_HEADER]: this.peers.outboundSecretOf(peer), [FEDERATION_TENANT_HEADER]: peer.remoteTenant, ...injectTraceContext() } as Record<string, string>;
          const body = options.body === undefined ? undefined : JSON.stringify(options.body);
          const deadline = performance.now() + budget;
          const retries = options.retries ?? (options.method === 'POST' ? 0 : settings.retries);
          for (let attempt = 0; ; attempt++) {
            try {
              const answer = await rawPeerCall({ url, certPem: identity.certPem, keyPem: identity.keyPem, pinnedThumbprint: peer.pinnedThumbprint, headers, timeoutMs: Math.max(1, deadline - performance.now()), method: options.method, body });
              span.setAttribute('http.status_code', answer.status);
              const failure = failureOf(answer);
              if (failure) throw failure;
              breaker.success();
              return { status: answer.status, body: answer.body as T, durationMs: Number(process.hrtime.bigint() - started) / 1e6 };
            } catch (error) {
              const backoff = settings.retryBackoffMs * 2 ** attempt;
              if (!(error instanceof PeerCallError) || !error.retryable || attempt >= retries || performance.now() + backoff >= deadline) throw error;
              await sleep(backoff);
            }
          }
        } catch (error) {
          // a peer that answered 4xx is reachable: only transport failures and 5xx count against its circuit
          if (error instanceof PeerCallError && (error.factor !== 'http' || (error.status ?? 0) >= 500)) breaker.failure(this.clock.nowMs());
          if (error instanceof PeerCallError && error.factor !== 'circuit' && error.status === undefined) span.setAttribute('http.status_code', 0);
          throw error;
        }
      });
    } catch (error) {
      outcome = error instanceof PeerCallError ? error.factor : 'error';
      throw error;
    } finally {
      Metrics.add('ampora_federation_calls_total', 1, { ...labels, outcome });
      Metrics.record('ampora_federation_call_duration_seconds', Number(process.hrtime.bigint() - started) / 1e9, labels);
    }
  }
}

/** The failure an answer is, or undefined for a 2xx: a 401 names the factor the peer refused. */
function failureOf(answer: { status: number; body: unknown }): PeerCallError | undefined {
  if (answer.status >= 200 && answer.status < 300) return undefined;
  const code = typeof answer.body === 'object' && answer.body !== null ? String((answer.body as { code?: unknown }).code ?? '') : '';
  const detail = typeof answer.body === 'object' && answer.body !== null ? String((answer.body as { detail?: unknown }).detail ?? '') : String(answer.body ?? '');
  if (code === 'FEDERATION_SECRET_MISMATCH') return new PeerCallError('secret', 'the peer refused the outbound secret', answer.status, code);
  if (code === 'FEDERATION_UNKNOWN_CLIENT') return new PeerCallError('thumbprint', 'the peer does not pin this deployment\'s federation certificate', answer.status, code);
  return new PeerCallError('http', `the peer answered ${answer.status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`, answer.status, code || undefined);
}
