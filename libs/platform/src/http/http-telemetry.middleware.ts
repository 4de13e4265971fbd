import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NextFunction, Request, Response } from 'express';
import { ContextScope, RequestContext } from '../context/request-context';
import { createLogger } from '../logging/logger';
import { Metrics } from '../telemetry/catalogue';
import { tracer } from '../telemetry/tracing';

const log = createLogger('Ampora.Platform.Http.RequestLogger');

/**
 * Paths that are scraped, probed or polled constantly (OpAMP over HTTP); they are measured and traced
 * but logged at Debug.
 */
const QUIET = new Set(['/metrics', '/health/live', '/health/ready', '/v1/opamp']);

/**
 * The first middleware of the HTTP server: opens the request's server span (continuing an incoming
 * traceparent), its ambient context, answers the trace id in `traceresponse`, and when the response
 * finishes records the HTTP metric and one log line.
 */
export function httpTelemetryMiddleware(req: Request, res: Response, next: NextFunction): void {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = tracer().startSpan(
    `${req.method}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol, 'client.address': req.ip ?? '' } },
    parent,
  );
  const spanContext = span.spanContext();
  res.setHeader('traceresponse', `00-${spanContext.traceId}-${spanContext.spanId}-01`);
  const ctx = trace.setSpan(parent, span);
  const scope: ContextScope = { auditWrites: 0, sourceIp: req.ip };
  const start = process.hrtime.bigint();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    // what the request left running (a promise it did not await) is system work from now on (decision 0395)
    scope.dataTenant = undefined;
    const route = req.route?.path ? `${req.baseUrl ?? ''}${String(req.route.path)}` : (res.locals.route as string | undefined) ?? 'unmatched';
    const status = res.statusCode;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    span.updateName(`${req.method} ${route}`);
    span.setAttribute('http.route', route);
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    Metrics.record('http_server_request_duration_seconds', seconds, { http_request_method: req.method, http_route: route, http_response_status_code: String(status) });
    RequestContext.enter(scope, () =>
      context.with(ctx, () => {
        const quiet = QUIET.has(req.path);
        const level = status >= 500 ? (quiet ? 'Warning' : 'Error') : quiet ? 'Debug' : 'Information';
        log.write(level, 'HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs} ms', {
          Method: req.method,
          Path: req.path,
          Route: route,
          StatusCode: status,
          ElapsedMs: Math.round(seconds * 1000 * 10) / 10,
        });
      }),
    );
    span.end();
  };
  res.once('finish', finish);
  res.once('close', finish);
  RequestContext.enter(scope, () => context.with(ctx, next));
}
