import { AgentCapability, eventually, SseClient, sseJson, TestAgent } from '@ampora/testing';
import { act, createRollout, expectStatus, rolloutAudit, SimAgent, sleep, waitState } from './support/rollout-kit';
import { rolloutsEndToEnd } from './support/rollouts-e2e';
import { exporterReport, OWN_METRICS_CAPS, otlpMetricsJson, otlpMetricsProtobuf, ownMetricsOffer, OwnMetricsOffer, postOtlp } from './support/own-telemetry-kit';

/**
 * Agents' own telemetry (issue 20): the own-metrics offer, Ampora's OTLP/HTTP intake with real OTLP
 * payloads posted as agents, the telemetry API and live stream, the analysis gates on it (the worker
 * runs the engine in this process), and an operator's endpoint offer. Real PostgreSQL and Redis.
 */
describe("agents' own telemetry", () => {
  const e2e = rolloutsEndToEnd({ AMPORA_AGENT_TELEMETRY_BUCKET_SECONDS: '1', AMPORA_AGENT_TELEMETRY_FLUSH_SECONDS: '1' });
  const offerOf = (s: SimAgent): OwnMetricsOffer => {
    const offer = ownMetricsOffer(s.agent);
    if (!offer) throw new Error(`agent ${s.id} got no own-metrics offer`);
    // offered as the public URL says (the test server listens on a port of its own)
    expect(offer.endpoint).toBe(`${e2e.server.config.app.publicUrl}/v1/metrics`);
    return { ...offer, endpoint: `${e2e.server.url}/v1/metrics` };
  };

  it('offers own_metrics to agents that report them, and takes OTLP protobuf and JSON with the offered credential', async () => {
    const { v1, group, sims } = await e2e.fleet(2, 'tel-in', { capabilities: (i) => (i === 0 ? OWN_METRICS_CAPS : undefined) });
    const [reporter, silent] = sims as [SimAgent, SimAgent];
    expect(ownMetricsOffer(silent.agent)).toBeUndefined();
    const offer = offerOf(reporter);
    expect(offer.authorization).toMatch(/^Bearer ampt1\./);
    const live = await SseClient.open(`${e2e.server.url}/api/live?types=agent.telemetry`, { token: e2e.server.adminToken });
    try {
      // the Collector's cumulative counters, twice: Ampora keeps the increases
      const received = (sent: number, failed: number) =>
        otlpMetricsJson([
          { metric: 'otelcol_receiver_accepted_spans', component: { kind: 'receiver', id: 'otlp' }, value: sent + failed, startNs: 7n },
          { metric: 'otelcol_exporter_sent_spans', component: { kind: 'exporter', id: 'otlphttp/backend' }, value: sent, startNs: 7n },
          { metric: 'otelcol_exporter_send_failed_spans', component: { kind: 'exporter', id: 'otlphttp/backend' }, value: failed, startNs: 7n },
        ]);
      const first = await postOtlp(offer, otlpMetricsProtobuf(received(100, 0)));
      expect(first).toMatchObject({ status: 200 });
      const second = await postOtlp(offer, JSON.stringify(received(150, 50)), 'application/json');
      expect({ status: second.status, body: second.body.toString() }).toEqual({ status: 200, body: '{}' });
      expect(JSON.parse(second.body.toString())).toEqual({});

      const view = await eventually(async () => {
        const body = (await expectStatus(e2e.api, 'GET', `/api/agents/${reporter.id}/telemetry`, 200)).body;
        return body.signals.find((s: { signal: string }) => s.signal === 'traces').sent === 150 ? body : undefined;
      }, 10000);
      expect(view).toMatchObject({ agentId: reporter.id, agents: 1, reporting: 1 });
      expect(view.signals.find((s: { signal: string }) => s.signal === 'traces')).toMatchObject({ accepted: 200, sent: 150, sendFailed: 50, exportFailureRatio: 0.25 });
      expect(view.components).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'exporter', component: 'otlphttp/backend', signal: 'traces', sent: 150, sendFailed: 50 }),
          expect.objectContaining({ kind: 'receiver', component: 'otlp', signal: 'traces', accepted: 200 }),
        ]),
      );
      // written to PostgreSQL: the live stream says so, per agent
      const event = await live.waitFor((e) => e.event === 'agent.telemetry' && sseJson<{ entityId: string }>(e).entityId === reporter.id, 10000);
      expect(sseJson<{ payload: { signals: Record<string, Record<string, number>> } }>(event).payload.signals.traces).toMatchObject({ sent: expect.any(Number) });

      // summed over the agents assigned a version of the configuration (the silent one counts, reports nothing)
      const config = (await expectStatus(e2e.api, 'GET', `/api/configurations/${v1.configurationId}/telemetry`, 200)).body;
      expect(config).toMatchObject({ configurationId: v1.configurationId, agents: 2, reporting: 1 });
      expect(config.signals.find((s: { signal: string }) => s.signal === 'traces')).toMatchObject({ sent: 150, sendFailed: 50 });
      expect(group.id).toBeDefined();
    } finally {
      live.close();
    }
  });

  it('refuses a request without the agent\'s credential, of another type, or undecodable', async () => {
    const [sim] = await e2e.agents(1, { groupId: (await expectStatus(e2e.api, 'POST', '/api/groups', 201, { name: `tel-ref-${Date.now()}`, kind: 'Static' })).body.id, capabilities: () => OWN_METRICS_CAPS });
    const offer = offerOf(sim!);
    const payload = otlpMetricsProtobuf(exporterReport('debug', 1, 0));
    expect((await postOtlp(offer, payload, 'application/x-protobuf', '')).status).toBe(401);
    const forged = offer.authorization.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await postOtlp(offer, payload, 'application/x-protobuf', forged)).status).toBe(401);
    expect((await postOtlp(offer, payload, 'text/plain')).status).toBe(415);
    expect((await postOtlp(offer, Buffer.from([0xff, 0xff, 0xff, 0xff]))).status).toBe(400);
    expect(await e2e.metric('ampora_agent_telemetry_requests_total', { outcome: 'unauthorized' })).toBeGreaterThanOrEqual(2);
    expect(await e2e.metric('ampora_agent_telemetry_requests_total', { outcome: 'malformed' })).toBeGreaterThanOrEqual(1);
  });

  it('pauses a rollout whose agents apply the version but fail to export (export-failure-ratio), with the baseline', async () => {
    const { v2, group, sims } = await e2e.fleet(3, 'tel-gate', { capabilities: () => OWN_METRICS_CAPS });
    // before the push: healthy exports
    for (const s of sims) expect((await postOtlp(offerOf(s), otlpMetricsProtobuf(exporterReport('otlphttp/backend', 200, 0)))).status).toBe(200);
    // in a bucket (1 s) before the push's: the baseline
    await sleep(1500);
    const gates = { analysis: [{ gate: 'export-failure-ratio', threshold: 0.2, windowSeconds: 60, minSample: 100 }] };
    const rollout = await createRollout(e2e.api, { configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Percentage', steps: [100] }, gates });
    const live = await SseClient.open(`${e2e.server.url}/api/live?types=rollout.gate_fired`, { token: e2e.server.adminToken });
    try {
      await act(e2e.api, rollout.id, 'start');
      await eventually(() => sims.every((s) => s.agent.appliedHash?.toString('hex') === v2.configHash), 20000);
      // it applied (apply-failed-ratio is clear) but its new exporter fails
      for (const s of sims) expect((await postOtlp(offerOf(s), otlpMetricsProtobuf(exporterReport('otlphttp/backend', 10, 90)))).status).toBe(200);
      const paused = await waitState(e2e.api, rollout.id, 'Paused', 30000);
      expect(paused.gate).toMatchObject({ gate: 'export-failure-ratio', verdict: 'breach', threshold: 0.2, windowSeconds: 60, baselineKind: 'before' });
      expect(paused.gate!.observed).toBeGreaterThan(0.5);
      expect((paused.gate as unknown as { baseline: number }).baseline).toBe(0);
      const fired = await live.waitFor((e) => sseJson<{ entityId: string }>(e).entityId === rollout.id, 10000);
      expect(sseJson<{ payload: Record<string, unknown> }>(fired).payload).toMatchObject({ gate: 'export-failure-ratio', baseline: 0, verdict: 'breach' });
      const audit = (await rolloutAudit(e2e.api, rollout.id)).find((e) => /(^|\.)Paused$/.test(e.action));
      expect(audit?.additional).toMatchObject({ gate: 'export-failure-ratio', verdict: 'breach', baseline: 0, observed: paused.gate!.observed });
      expect(await e2e.metric('ampora_rollout_analysis_evaluations_total', { gate: 'export-failure-ratio', verdict: 'breach' })).toBeGreaterThanOrEqual(1);
    } finally {
      live.close();
    }
  });

  it('holds a step until its analysis window gave a verdict, and pauses on too little data (inconclusive)', async () => {
    const { v2, group, sims } = await e2e.fleet(2, 'tel-hold', { capabilities: () => OWN_METRICS_CAPS });
    const healthy = async () => {
      for (const s of sims) await postOtlp(offerOf(s), otlpMetricsProtobuf(exporterReport('debug', 100, 0)));
    };
    const passes = await createRollout(e2e.api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Percentage', steps: [100] },
      gates: { analysis: [{ gate: 'export-failure-ratio', threshold: 0.2, windowSeconds: 4, minSample: 50 }] },
    });
    const started = Date.now();
    await act(e2e.api, passes.id, 'start');
    await eventually(() => sims.every((s) => s.agent.appliedHash?.toString('hex') === v2.configHash), 20000);
    await healthy();
    const done = await waitState(e2e.api, passes.id, 'Completed', 30000);
    expect(new Date(String(done.finishedAt)).getTime() - started).toBeGreaterThanOrEqual(4000);

    // a rollout whose analysis needs more data than its agents send
    const { v2: next, sims: others, group: g2 } = await e2e.fleet(2, 'tel-few', { capabilities: () => OWN_METRICS_CAPS });
    const starved = await createRollout(e2e.api, {
      configurationId: next.configurationId,
      version: next.number,
      groupId: g2.id,
      strategy: { type: 'Percentage', steps: [100] },
      gates: { analysis: [{ gate: 'drop-ratio', threshold: 0.1, windowSeconds: 2, minSample: 1_000_000 }] },
    });
    await act(e2e.api, starved.id, 'start');
    for (const s of others) await postOtlp(offerOf(s), otlpMetricsProtobuf(otlpMetricsJson([{ metric: 'otelcol_receiver_accepted_spans', component: { kind: 'receiver', id: 'otlp' }, value: 10, temporality: 'delta' }])));
    const paused = await waitState(e2e.api, starved.id, 'Paused', 30000);
    expect(paused.gate).toMatchObject({ gate: 'drop-ratio', verdict: 'inconclusive', minSample: 1_000_000 });
    expect((paused.gate as unknown as { sample: number }).sample).toBeLessThan(1_000_000);
  });

  it('offers an operator\'s new OpAMP endpoint through connection settings, with the hash the agent reports', async () => {
    const groupId = (await expectStatus(e2e.api, 'POST', '/api/groups', 201, { name: `tel-ep-${Date.now()}`, kind: 'Static' })).body.id;
    const [movable, fixed] = await e2e.agents(2, { groupId, capabilities: (i) => (i === 0 ? OWN_METRICS_CAPS | AgentCapability.AcceptsOpAMPConnectionSettings : undefined) });
    const endpoint = 'wss://opamp-b.example.com/v1/opamp';
    const offered = await expectStatus(e2e.api, 'POST', `/api/agents/${movable!.id}/opamp-endpoint`, 200, { endpoint, headers: { Authorization: 'Bearer amp-bs-elsewhere' } });
    expect(offered.body).toMatchObject({ agentId: movable!.id, endpoint, delivery: 'delivered', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const m = await (movable!.agent as TestAgent).nextMatching((r) => r.connection_settings?.opamp?.destination_endpoint === endpoint, 5000);
    expect(m.connection_settings!.hash!.toString('hex')).toBe(offered.body.hash);
    expect(m.connection_settings!.opamp!.headers!.headers).toEqual([{ key: 'Authorization', value: 'Bearer amp-bs-elsewhere' }]);
    const audit = (await expectStatus(e2e.api, 'GET', `/api/audit/events?entityType=Agent&entityId=${movable!.id}&limit=50`, 200)).body.items;
    expect(audit.find((e: { action: string }) => e.action === 'EndpointOffered')).toMatchObject({ after: { endpoint, headers: ['Authorization'], hash: offered.body.hash } });
    expect(JSON.stringify(audit)).not.toContain('amp-bs-elsewhere');
    const refused = await e2e.api('POST', `/api/agents/${fixed!.id}/opamp-endpoint`, { endpoint });
    expect(refused).toMatchObject({ status: 409, body: { code: 'AGENT_LACKS_CAPABILITY' } });
    expect((await e2e.api('POST', `/api/agents/${fixed!.id}/opamp-endpoint`, { endpoint: 'ftp://x' })).status).toBe(400);
  });
});
