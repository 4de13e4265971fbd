import { rmSync } from 'node:fs';
import { mintToken } from '@ampora/platform';
import { AgentCapability, eventually, metricValue, ReceivedSpan, scratch, TestAgent } from '@ampora/testing';
import { act, assignGroup, collectorYaml, createRollout, createStaticGroup, enrollAgents, expectStatus, publishVersions, SimAgent, waitState } from '../support/rollout-kit';
import { CONTRACT_METRICS, CONTRACT_SPANS, EXTENSION_METRICS, metricRowProblems, summaryLines } from './support/contract';
import { Deployment, makeCsr, scrapeNode } from './support/deployment';
import { Family, mergeExpositions, parseExposition } from './support/exposition';
import { FederationSteps } from './support/federation-steps';
import { GovernanceAndGitopsSteps } from './support/governance-gitops';
import { exporterReport, OWN_METRICS_CAPS, otlpMetricsProtobuf, ownMetricsOffer, postOtlp } from '../support/own-telemetry-kit';
import { defineTraceAndLogChecks } from './support/trace-and-log-checks';

/**
 * The telemetry contract as a whole (issue 15): one scripted scenario against two server instances
 * and a worker (built processes, `npm run build` first) on real PostgreSQL and Redis; then every
 * catalogue metric on the processes' `/metrics` with its exact name, type and label names, every
 * catalogue span with its attributes (exported over OTLP/HTTP to a receiver the test runs), the
 * traces that cross processes, and the log lines written inside a request, a frame and a job.
 */
describe('the telemetry contract, end to end', () => {
  const d = new Deployment();
  const governanceAndGitops = new GovernanceAndGitopsSteps(d);
  const federation = new FederationSteps(d);
  const dataDir = scratch('ampora-telemetry-data-');
  const sims: SimAgent[] = [];
  const ctx = {
    pushTrace: '',
    revokeTrace: '',
    agentOnB: '',
    completed: '',
    paused: '',
    families: new Map<string, Family>(),
    perNode: new Map<string, Map<string, Family>>(),
  };

  beforeAll(async () => {
    await d.start(
      {
        AMPORA_ROLLOUT_TICK_MS: '300',
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
        AMPORA_OPAMP_MAX_MESSAGE_BYTES: '16384',
        AMPORA_LIVE_SUBSCRIBER_BUFFER: '1',
        AMPORA_DISPATCH_FORWARD_TIMEOUT_MS: '3000',
        // the worker's GitOps caches
        AMPORA_DATA_DIR: dataDir.dir,
      },
      // frame lines (Debug) on B, job lines (Debug) in the worker
      { b: { LOG_LEVEL: 'Debug', ...(await federation.listenerEnv()) }, worker: { LOG_LEVEL: 'Debug' } },
    );
  }, 120000);

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
    await d.stop();
    governanceAndGitops.close();
    rmSync(dataDir.dir, { recursive: true, force: true });
  });

  it('runs the scripted scenario', async () => {
    const { a, b } = d;
    // enrolment with a good token (on B) and a bad one (on A)
    const onB = await d.enroll(b);
    ctx.agentOnB = onB.id;
    const stranger = new TestAgent({ url: a.ws, token: mintToken('amp-bs') });
    await expect(stranger.connect()).rejects.toMatchObject({ status: 401 });

    // an agent reporting its own metrics (on A) posts them to A's OTLP intake with its credential, and once without
    const reporter = await d.enroll(a, { capabilities: OWN_METRICS_CAPS });
    const offer = { ...ownMetricsOffer(reporter.agent)!, endpoint: `${a.url}/v1/metrics` };
    expect((await postOtlp(offer, otlpMetricsProtobuf(exporterReport('debug', 5, 1)))).status).toBe(200);
    expect((await postOtlp(offer, otlpMetricsProtobuf(exporterReport('debug', 5, 1)), 'application/x-protobuf', '')).status).toBe(401);

    // an operator moves an agent to another endpoint (connection settings, issue 20)
    const movable = await d.enroll(a, { capabilities: OWN_METRICS_CAPS | AgentCapability.AcceptsOpAMPConnectionSettings });
    expect((await expectStatus(a.api, 'POST', `/api/agents/${movable.id}/opamp-endpoint`, 200, { endpoint: 'wss://elsewhere.example.test/v1/opamp' })).body.delivery).toBe('delivered');

    // a GitOps source on a local repository, swept by the worker; aged audit rows for its retention sweep
    await governanceAndGitops.syncGitSource();
    await governanceAndGitops.sweepAgedAudit();

    // a malformed frame and an oversize frame, each from an agent of its own on A
    const malformed = await d.enroll(a);
    malformed.agent.ws!.send(Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const oversize = await d.enroll(a);
    oversize.agent.ws!.send(Buffer.alloc(20000, 1));
    for (const reason of ['auth_failed', 'malformed', 'oversize']) {
      await eventually(async () => metricValue(await scrapeNode(a), 'ampora_opamp_frames_rejected_total', { reason }) > 0, 5000, 100);
    }

    // a config pushed through a REST call on A reaches the agent on B (forwarded), and B pushes locally
    const forwarded = await d.traced(a, 'POST', `/api/agents/${onB.id}/assign`, { yaml: 'receivers:\n  otlp: {}\n# through A\n' });
    expect(forwarded).toMatchObject({ status: 200, body: { delivery: 'delivered' } });
    ctx.pushTrace = forwarded.traceId;
    await onB.agent.nextMatching((m) => Boolean(m.remote_config));
    const local = await d.traced(b, 'POST', `/api/agents/${onB.id}/assign`, { yaml: 'receivers:\n  otlp: {}\n# on B\n' });
    expect(local.body.delivery).toBe('delivered');

    // a push to an agent with no session
    const gone = await d.enroll(a);
    await gone.agent.close();
    const noSession = await eventually(async () => {
      const r = await expectStatus(a.api, 'POST', `/api/agents/${gone.id}/assign`, 200, { yaml: 'exporters:\n  debug: {}\n' });
      return r.body.delivery === 'no_session' ? r : undefined;
    }, 15000, 300);
    expect(noSession.body.delivery).toBe('no_session');

    // certificates: issue (a CSR through the API), revoke; the worker publishes a CRL in the revocation's trace
    const signed = await expectStatus(a.api, 'POST', '/api/pki/agent-certificates', 201, { csr: await makeCsr('telemetry-agent') });
    const revoked = await d.traced(a, 'POST', `/api/pki/certificates/${signed.body.id}/revoke`);
    expect(revoked.status).toBe(200);
    ctx.revokeTrace = revoked.traceId;

    // a rollout that completes and one that pauses on its apply-failed-ratio gate (the worker runs the engine)
    const [v1, v2] = await publishVersions(a.api, [collectorYaml('telemetry-v1'), collectorYaml('telemetry-v2')]);
    const fleet = async (count: number, prefix: string) => {
      const group = await createStaticGroup(a.api);
      await assignGroup(a.api, group.id, v1!);
      const list = await enrollAgents(a.api, a.ws, count, { groupId: group.id, hostPrefix: prefix });
      sims.push(...list);
      await eventually(() => list.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash), 20000);
      return { group, list };
    };
    const good = await fleet(2, 'tm-ok');
    const bad = await fleet(3, 'tm-bad');
    for (const s of bad.list) s.decide = (hash) => (hash === v2!.configHash ? 'fail' : 'apply');
    const completes = await createRollout(a.api, { configurationId: v2!.configurationId, version: v2!.number, groupId: good.group.id, strategy: { type: 'Percentage', steps: [100] } });
    const pauses = await createRollout(a.api, {
      configurationId: v2!.configurationId,
      version: v2!.number,
      groupId: bad.group.id,
      strategy: { type: 'Percentage', steps: [100] },
      // with an analysis gate on the agents' own telemetry (issue 20): evaluated on every tick of the step
      gates: { applyFailedRatio: 0.2, analysis: [{ gate: 'export-failure-ratio', threshold: 0.5, windowSeconds: 60, minSample: 1 }] },
    });
    ctx.completed = completes.id;
    ctx.paused = pauses.id;
    await act(a.api, completes.id, 'start');
    await act(a.api, pauses.id, 'start');

    // a live-bus subscriber on B that never reads overflows while operators retag an agent on A
    d.stalledSubscriber(b);
    const bigTags = (n: number) => Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, `${n}`.padEnd(255, 'x')]));
    let round = 0;
    await eventually(async () => {
      // ten retaggings at a time, each a ~20 KB event
      round++;
      await Promise.all(Array.from({ length: 10 }, (_, i) => expectStatus(a.api, 'PATCH', `/api/agents/${onB.id}`, 200, { tags: bigTags(round * 100 + i) })));
      return metricValue(await scrapeNode(b), 'ampora_live_bus_dropped_total') > 0;
    }, 90000, 0);

    await waitState(a.api, completes.id, 'Completed', 30000);
    await waitState(a.api, pauses.id, 'Paused', 30000);

    // a policy made Active by two Admins (four-eyes) denies a direct assignment to one agent on A
    await governanceAndGitops.denyOneAssignment();

    // the deployment paired with itself: A pings through B's federation listener
    await federation.pingThroughLoop();

    await governanceAndGitops.waitGitSynced();
    await governanceAndGitops.waitAuditSwept();

    // everything has been counted: scrape every process
    await eventually(async () => metricValue(await scrapeNode(d.worker), 'ampora_pki_crl_publish_duration_seconds_count') >= 2, 15000, 200);
    for (const node of d.nodes) ctx.perNode.set(node.id, parseExposition(await scrapeNode(node)));
    ctx.families = mergeExpositions([...ctx.perNode.values()]);
  }, 240000);

  it('exposes every built catalogue metric with its exact name, type and label names', () => {
    const problems: string[] = [];
    let asserted = 0;
    for (const row of CONTRACT_METRICS) {
      const result = metricRowProblems(row, ctx.families);
      problems.push(...result.problems);
      if (result.asserted) asserted++;
    }
    expect(problems).toEqual([]);
    const lines = summaryLines(asserted, 0);
    const pending = CONTRACT_METRICS.filter((m) => m.pending).map((m) => `  pending: ${m.name} (${m.pending})`);
    process.stdout.write(`${[lines[0], ...pending].join('\n')}\n`);
    expect(lines[0]).toBe('catalogue metrics: 33/33 asserted, 0 pending');
  });

  it('exposes the Ampora extensions (issue 20: own-telemetry intake, analysis gates, connection settings offers), apart from the 33', () => {
    const results = EXTENSION_METRICS.map((row) => metricRowProblems(row, ctx.families));
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    expect(results.every((r) => r.asserted)).toBe(true);
    const outcomes = new Set(ctx.perNode.get(d.a.id)!.get('ampora_agent_telemetry_requests_total')!.samples.map((s) => s.labels.outcome));
    expect([...outcomes].sort()).toEqual(['accepted', 'unauthorized']);
    // the worker runs the engine: the analysis gates are evaluated there
    expect(ctx.perNode.get(d.worker.id)!.get('ampora_rollout_analysis_evaluations_total')?.samples).toEqual(
      expect.arrayContaining([expect.objectContaining({ labels: expect.objectContaining({ gate: 'export-failure-ratio' }) })]),
    );
  });

  it('labels instance gauges with the instance that serves them, the worker included', () => {
    for (const node of d.nodes) {
      const families = ctx.perNode.get(node.id)!;
      for (const name of ['ampora_db_pool_open_connections', 'ampora_db_pool_busy_connections']) {
        expect(families.get(name)?.samples.map((s) => s.labels.instance)).toEqual([node.id]);
      }
    }
    const sessions = CONTRACT_METRICS.find((m) => m.name === 'ampora_opamp_active_sessions')!;
    expect(sessions.labels).toContain('instance');
    for (const server of [d.a, d.b]) {
      const instances = new Set(ctx.perNode.get(server.id)!.get('ampora_opamp_active_sessions')!.samples.map((s) => s.labels.instance));
      expect([...instances]).toEqual([server.id]);
    }
    // the worker runs the engine: the rollout metrics are on ITS /metrics
    const worker = ctx.perNode.get(d.worker.id)!;
    expect(worker.get('ampora_rollout_gate_fired_total')?.samples).toEqual(expect.arrayContaining([expect.objectContaining({ labels: expect.objectContaining({ gate: 'apply-failed-ratio' }) })]));
    expect(worker.get('ampora_rollout_state_transitions_total')?.samples.some((s) => s.labels.to === 'Completed')).toBe(true);
    expect(worker.get('ampora_pki_crl_publish_duration_seconds')?.samples.length).toBeGreaterThan(0);
  });

  function spanWith(name: string, attributes: string[]): ReceivedSpan | undefined {
    return d.otlp.spans.find((s) => s.name === name && attributes.every((k) => s.attributes[k] !== undefined && s.attributes[k] !== ''));
  }

  function spansAsserted(): number {
    return CONTRACT_SPANS.filter((row) => !row.pending && spanWith(row.name, row.attributes)).length;
  }

  it('exports every built catalogue span with its attributes over OTLP/HTTP', async () => {
    const missing = await eventually(() => {
      const left = CONTRACT_SPANS.filter((row) => !row.pending && !spanWith(row.name, row.attributes)).map((r) => r.name);
      return left.length === 0 ? left : undefined;
    }, 10000, 200).catch(() => CONTRACT_SPANS.filter((row) => !row.pending && !spanWith(row.name, row.attributes)).map((r) => `${r.name} {${r.attributes}}`));
    expect(missing).toEqual([]);
    expect(spanWith('opamp.dispatch', ['dispatch.target_instance'])!.attributes['dispatch.outcome']).toEqual(expect.any(String));
    expect(spanWith('rollout.tick', ['rollout.id'])!.resource['service.name']).toBe('ampora-worker');
    // the worker swept the test's source at its repository's tip
    const sync = spanWith('gitops.sync', ['source.id', 'tip.sha'])!;
    expect(sync.attributes).toMatchObject({ 'source.id': governanceAndGitops.sourceId, 'tip.sha': governanceAndGitops.tip });
    expect(sync.resource['service.name']).toBe('ampora-worker');
    // A evaluated the policy inside the denied assignment's request, and the span says it denied
    const evaluated = await eventually(() => d.otlp.trace(governanceAndGitops.deniedTrace).find((s) => s.name === 'policy.evaluate' && s.attributes['policy.name'] === governanceAndGitops.policyName), 5000, 100).catch(() => undefined);
    expect(evaluated?.attributes.outcome).toBe('deny');
    expect(evaluated!.resource).toMatchObject({ 'service.name': 'ampora-server', 'service.instance.id': d.a.id });
    // A's call to the peer and B serving it are one trace: B continued A's traceparent
    const outbound = await eventually(() => d.otlp.trace(federation.pingTrace).find((s) => s.name === 'federation.outbound_call'), 5000, 100);
    expect(outbound.attributes).toMatchObject({ 'peer.name': 'loop-out', 'http.status_code': 200 });
    expect(outbound.resource['service.instance.id']).toBe(d.a.id);
    const inbound = await eventually(() => d.otlp.trace(federation.pingTrace).find((s) => s.name === 'federation.inbound_call' && s.parentSpanId === outbound.spanId), 5000, 100);
    expect(inbound.resource['service.instance.id']).toBe(d.b.id);
    const lines = summaryLines(CONTRACT_METRICS.filter((m) => !m.pending).length, spansAsserted());
    const pending = CONTRACT_SPANS.filter((m) => m.pending).map((m) => `  pending: ${m.name} (${m.pending})`);
    process.stdout.write(`${[lines[1], ...pending].join('\n')}\n`);
    expect(lines[1]).toBe('catalogue spans: 10/10 asserted, 0 pending');
  });

  defineTraceAndLogChecks(d, ctx);
});
