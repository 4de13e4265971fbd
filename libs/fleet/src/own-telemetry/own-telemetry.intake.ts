import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AMPORA_CONFIG, AmporaConfig, createLogger, Metrics, RequestContext, TenantLabels } from '@ampora/platform';
import { OpampSideRoutes, readBody } from '@ampora/opamp';
import { componentSamples } from './domain/collector-metrics';
import { decodeMetricsRequest, encodeMetricsResponse, OtlpEncoding } from './domain/otlp-metrics.codec';
import { OwnTelemetryCredentials } from './own-telemetry.credentials';
import { OwnTelemetryStore } from './own-telemetry.store';

export const OTLP_METRICS_PATH = '/v1/metrics';

type Outcome = 'accepted' | 'unauthorized' | 'malformed' | 'unsupported' | 'oversize';

/**
 * Ampora's OTLP/HTTP intake of agents' own metrics (decision 0320): `POST /v1/metrics` on the OpAMP
 * listeners (the main port, mounted on Express, and the TLS listener, which hands the path over as an
 * OpAMP side route), `application/x-protobuf` or `application/json`, gzip or deflate allowed,
 * authenticated by the agent's intake credential from its own-metrics offer.
 */
@Injectable()
export class OwnTelemetryIntake implements OpampSideRoutes, OnModuleInit {
  private readonly log = createLogger('Ampora.Fleet.OwnTelemetry');

  constructor(
    private readonly credentials: OwnTelemetryCredentials,
    private readonly store: OwnTelemetryStore,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** Mounted during module init: before Nest registers its not-found handler. */
  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return; // the worker, the CLI
    const express = adapter.getInstance() as { use: (path: string, fn: (req: IncomingMessage, res: ServerResponse & { locals: Record<string, unknown> }, next: () => void) => void) => void };
    express.use(OTLP_METRICS_PATH, (req, res, next) => {
      if (req.url !== '/' && !req.url?.startsWith('/?')) return next();
      res.locals.route = OTLP_METRICS_PATH;
      this.handle(req, res);
    });
  }

  handles(path: string): boolean {
    return path === OTLP_METRICS_PATH;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.receive(req, res).catch((error: unknown) => {
      this.log.error('OTLP intake request failed', {}, error);
      if (!res.headersSent) res.writeHead(500).end();
    });
  }

  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      req.resume();
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const encoding: OtlpEncoding | undefined = type === 'application/x-protobuf' ? 'protobuf' : type === 'application/json' ? 'json' : undefined;
    const agent = await this.credentials.verify(req.headers.authorization);
    if (!agent) {
      req.resume();
      count('none', 'unauthorized');
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('an agent intake credential is required (its own-metrics connection settings)');
      return;
    }
    const tenant = agent.tenantId;
    if (!encoding) {
      req.resume();
      count(tenant, 'unsupported');
      res.writeHead(415, { 'content-type': 'text/plain' }).end('OTLP/HTTP needs Content-Type application/x-protobuf or application/json');
      return;
    }
    const body = await readBody(req, this.config.fleet.ownTelemetry.maxBodyBytes);
    if (body === 'oversize') {
      count(tenant, 'oversize');
      res.writeHead(413, { connection: 'close' }).end();
      return;
    }
    const decoded = body === 'unreadable' ? { ok: false as const, reason: 'the body could not be decompressed' } : decodeMetricsRequest(body, encoding);
    if (!decoded.ok) {
      count(tenant, 'malformed');
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`undecodable ExportMetricsServiceRequest: ${decoded.reason}`);
      return;
    }
    const samples = componentSamples(decoded.points);
    RequestContext.run({ tenantId: tenant }, () => this.store.ingest(agent.tenantId, agent.agentId, samples));
    count(tenant, 'accepted');
    Metrics.add('ampora_agent_telemetry_points_total', decoded.dataPoints, { tenant: TenantLabels.of(tenant) });
    const out = encodeMetricsResponse(encoding);
    res.writeHead(200, { 'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json', 'content-length': String(out.length) }).end(out);
  }
}

function count(tenantId: string, outcome: Outcome): void {
  Metrics.add('ampora_agent_telemetry_requests_total', 1, { tenant: tenantId === 'none' ? 'none' : TenantLabels.of(tenantId), outcome });
}
