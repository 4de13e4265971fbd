import { eventually, ReceivedSpan, runCli } from '@ampora/testing';
import { Deployment } from './deployment';

export interface ScenarioIds {
  /** The REST push on A to the agent on B. */
  pushTrace: string;
  /** The certificate revocation on A (it enqueues the worker's CRL job). */
  revokeTrace: string;
  agentOnB: string;
}

const LEVELS = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical'];
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f-]{36}$/;

/** Item 4 (one trace across processes) and item 5 (logs per the contract) of issue 15. */
export function defineTraceAndLogChecks(d: Deployment, ids: ScenarioIds): void {
  const instanceOf = (s: ReceivedSpan) => s.resource['service.instance.id'];

  it('keeps one trace from the REST call on A through the forwarded envelope to the frame sent on B and the agent\'s status', async () => {
    const wanted = ['opamp.dispatch', 'opamp.dispatch.receive', 'opamp.frame_sent', 'opamp.apply_status'];
    const spans = await eventually(() => {
      const t = d.otlp.trace(ids.pushTrace);
      return wanted.every((n) => t.some((s) => s.name === n)) && t.some((s) => s.name === 'opamp.apply_status' && s.attributes['remote_config.status'] === 'APPLIED') ? t : undefined;
    }, 15000, 200);
    const http = spans.find((s) => s.name === 'POST /api/agents/:id/assign')!;
    const dispatch = spans.find((s) => s.name === 'opamp.dispatch')!;
    const receive = spans.find((s) => s.name === 'opamp.dispatch.receive')!;
    const sent = spans.find((s) => s.name === 'opamp.frame_sent' && s.attributes['agent.id'] === ids.agentOnB)!;
    const applied = spans.find((s) => s.name === 'opamp.apply_status' && s.attributes['remote_config.status'] === 'APPLIED')!;
    expect(instanceOf(http)).toBe(d.a.id);
    expect(dispatch).toMatchObject({ attributes: { 'dispatch.target_instance': d.b.id, 'dispatch.outcome': 'delivered' } });
    expect(instanceOf(dispatch)).toBe(d.a.id);
    expect(instanceOf(receive)).toBe(d.b.id);
    expect(receive.parentSpanId).toBe(dispatch.spanId);
    expect(instanceOf(sent)).toBe(d.b.id);
    expect(instanceOf(applied)).toBe(d.b.id);
    expect(applied.attributes['agent.id']).toBe(ids.agentOnB);
  });

  it('keeps one trace from live_update.publish on one instance to live_update.consume on another', async () => {
    const pair = await eventually(() => {
      for (const publish of d.otlp.spans.filter((s) => s.name === 'live_update.publish')) {
        const consume = d.otlp.trace(publish.traceId).find((s) => s.name === 'live_update.consume' && s.parentSpanId === publish.spanId && instanceOf(s) !== instanceOf(publish));
        if (consume) return { publish, consume };
      }
      return undefined;
    }, 10000, 200);
    expect(pair.consume.traceId).toBe(pair.publish.traceId);
    expect(pair.consume.attributes['event.type']).toBe(pair.publish.attributes['event.type']);
    expect(pair.consume.attributes.subscriber).toEqual(expect.any(String));
  });

  it('runs the worker\'s job in the trace of the request that enqueued it', async () => {
    const spans = await eventually(() => {
      const t = d.otlp.trace(ids.revokeTrace);
      return t.some((s) => s.name === 'pki.crl_publish') ? t : undefined;
    }, 15000, 200);
    const request = spans.find((s) => s.name === 'POST /api/pki/certificates/:id/revoke')!;
    const job = spans.find((s) => s.name === 'queue.process pki.publish-crls')!;
    const publish = spans.find((s) => s.name === 'pki.crl_publish')!;
    expect(instanceOf(request)).toBe(d.a.id);
    expect(job.resource['service.name']).toBe('ampora-worker');
    expect(instanceOf(job)).toBe(d.worker.id);
    // nestjs-otel's @Span inside the job's span
    expect(publish.parentSpanId).toBe(job.spanId);
  });

  it('writes every line of server and worker as one JSON record with the contract\'s fields', () => {
    for (const node of d.nodes) {
      expect(node.process.lines.length).toBeGreaterThan(0);
      expect(node.process.records).toHaveLength(node.process.lines.length);
      for (const r of node.process.records) {
        expect(Object.keys(r)).toEqual(expect.arrayContaining(['timestamp', 'level', 'category', 'message']));
        expect(LEVELS).toContain(r.level);
        expect(String(r.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    }
  });

  it('carries trace_id, span_id and tenant_id on lines written inside a request, a frame and a job', () => {
    const traced = (r: Record<string, unknown>) => {
      expect(r.trace_id).toMatch(HEX32);
      expect(r.span_id).toMatch(HEX16);
      expect(r.tenant_id).toMatch(UUID);
      // the message is rendered: no placeholder left
      expect(String(r.message)).not.toMatch(/\{[A-Za-z_][A-Za-z0-9_]*\}/);
    };
    // a request: A's access line of the push, with its template's properties
    const request = d.a.process.records.find((r) => r.trace_id === ids.pushTrace && r.category === 'Ampora.Platform.Http.RequestLogger');
    expect(request).toBeDefined();
    traced(request!);
    expect(request).toMatchObject({ Method: 'POST', StatusCode: 200, message: `HTTP POST ${String(request!.Path)} responded 200 in ${String(request!.ElapsedMs)} ms` });

    // a frame: B's lines about its agent written while a frame was handled
    const frame = d.b.process.records.find((r) => r.AgentId === ids.agentOnB && String(r.category).startsWith('Ampora.OpAmp') && r.trace_id);
    expect(frame).toBeDefined();
    traced(frame!);
    expect(String(frame!.message)).toContain(ids.agentOnB);

    // a job: the worker's lines inside the CRL job the revocation enqueued
    const job = d.worker.process.records.filter((r) => r.trace_id === ids.revokeTrace);
    expect(job.length).toBeGreaterThan(0);
    for (const r of job) traced(r);
  });

  it('writes the CLI\'s log lines as JSON records too (stdout carries only the command\'s answer)', async () => {
    const cli = await runCli({ ...d.env, LOG_LEVEL: 'Debug' }, ['migrate']);
    expect(cli.code).toBe(0);
    const lines = cli.stderr.split('\n').filter((l) => l.trim() !== '');
    const records = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(0);
    for (const r of records) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['timestamp', 'level', 'category', 'message']));
      expect(LEVELS).toContain(r.level);
    }
    // the one human line is the store it talks to (decision 0232)
    expect(lines.filter((l) => !l.startsWith('{')).length).toBeLessThanOrEqual(1);
  });
}
