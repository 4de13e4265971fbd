import { createServer, IncomingMessage, Server } from 'node:http';
import { freePort } from '@ampora/testing';
import { act, assignGroup, createRollout, createStaticGroup, expectStatus, getRollout, publishVersions, PublishedVersion, rolloutAudit, waitRollout } from '../support/rollout-kit';
import { Ampora, collectorVersionYaml, killAllPeers, sendOtlpTrace, Supervisor, SUPERVISOR_APPLY_TIMEOUT_SECONDS, until } from './support/interop-kit';

interface ComponentView {
  kind: string;
  component: string;
  signal: string;
  accepted: number;
  dropped: number;
}

/** What an operator's OTLP endpoint received: one row per request. */
interface Received {
  path: string;
  contentType: string;
  key: string | undefined;
  bytes: number;
}

/**
 * The drop-ratio and throughput-drop analysis gates against the real Supervisor and Collector (issue
 * 20), and the own-logs offer: two supervised Collectors report their own metrics to Ampora and send
 * their own logs to the operator's OTLP endpoint (a sink here). A version with a processor that drops
 * half the spans (the test Collector's ampora_drop, counted by the Collector's processorhelper) applies
 * but trips drop-ratio on the canary; after the rollback, a version whose receiver listens where no
 * traffic goes trips throughput-drop against the agent not pushed yet (the control). Built server and
 * worker, real PostgreSQL and Redis.
 */
describe('real Collectors: drop-ratio and throughput-drop pause canaries; own logs go to the operator\'s endpoint', () => {
  let ampora: Ampora;
  let sink: Server;
  const received: Received[] = [];
  const sups: Supervisor[] = [];
  const ids: string[] = [];
  const ports: number[] = [];
  let base: PublishedVersion;
  let dropping: PublishedVersion;
  let quiet: PublishedVersion;
  let groupId: string;
  let traffic: NodeJS.Timeout | undefined;
  const SINK_KEY = 'sink-key-7d1f';

  beforeAll(async () => {
    // the operator's OTLP/HTTP endpoint for the Collectors' own logs
    const sinkPort = await freePort();
    sink = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), key: req.headers['x-sink-key'] as string | undefined, bytes: Buffer.concat(chunks).length });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => sink.listen(sinkPort, '127.0.0.1', r));
    ampora = await Ampora.start({
      env: {
        AMPORA_AGENT_TELEMETRY_BUCKET_SECONDS: '2',
        AMPORA_AGENT_TELEMETRY_FLUSH_SECONDS: '1',
        AMPORA_AGENT_TELEMETRY_LOGS_URL: `http://127.0.0.1:${sinkPort}/v1/logs`,
        AMPORA_AGENT_TELEMETRY_OTLP_HEADERS: `X-Sink-Key=${SINK_KEY}`,
      },
    });
    [base, dropping, quiet] = (await publishVersions(ampora.api, [
      collectorVersionYaml('gates-base', 'OTLP_PORT'),
      collectorVersionYaml('gates-drop', 'OTLP_PORT', { processor: { id: 'ampora_drop', lines: ['keep_one_in: 2'] } }),
      // the receiver moves to a port no traffic is sent to
      collectorVersionYaml('gates-quiet', 'QUIET_PORT'),
    ])) as [PublishedVersion, PublishedVersion, PublishedVersion];
    groupId = (await createStaticGroup(ampora.api, 'interop-analysis-gates')).id;
    await assignGroup(ampora.api, groupId, base);
    for (let i = 0; i < 2; i++) {
      const token = await ampora.bootstrapToken(`analysis-gates-${i}`, { groupId });
      const port = await freePort();
      const sup = new Supervisor({ endpoint: ampora.wsUrl, token, env: { OTLP_PORT: String(port), QUIET_PORT: String(await freePort()) }, ownMetrics: { exportIntervalMs: 2000 }, ownLogs: true });
      sups.push(sup);
      ports.push(port);
      ids.push((await sup.startAndWait(ampora, 180_000)).id);
    }
    for (const id of ids) await ampora.waitAgent(id, 'the group\'s version APPLIED', (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === base.configHash, 180_000);
    // four traces a second into each Collector's OTLP receiver
    traffic = setInterval(() => ports.forEach((p) => void sendOtlpTrace(p)), 250);
  }, 900_000);

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    await killAllPeers();
    await ampora?.stop();
    await new Promise((r) => sink?.close(r));
  }, 120_000);

  const components = async (id: string) => (await expectStatus(ampora.api, 'GET', `/api/agents/${id}/telemetry?windowSeconds=60`, 200)).body.components as ComponentView[];
  const gates = (analysis: unknown[]) => ({ applyFailedRatio: 0.2, applyTimeoutSeconds: 60 + SUPERVISOR_APPLY_TIMEOUT_SECONDS, disconnectGraceSeconds: 60, analysis });

  it('sends the Collectors\' own logs to the operator\'s OTLP endpoint with the operator\'s headers, not through Ampora', async () => {
    const logs = await until('own logs at the operator\'s endpoint', async () => (received.length > 0 ? received : undefined), 120_000, 1000);
    expect(logs[0]).toMatchObject({ path: '/v1/logs', contentType: 'application/x-protobuf', key: SINK_KEY });
    expect(logs[0]!.bytes).toBeGreaterThan(0);
    expect(received.every((r) => r.key === SINK_KEY)).toBe(true);
    // the Supervisor rendered the offer into its Collector's configuration
    expect(sups[0]!.effectiveYaml()).toContain(`/v1/logs`);
    // Ampora serves no OTLP logs intake: its own intake takes metrics only
    const res = await fetch(`${ampora.baseUrl}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(0) });
    expect(res.status).toBe(404);
  }, 200_000);

  it('a version whose processor drops half the spans applies but trips drop-ratio and pauses the canary', async () => {
    const rollout = await createRollout(ampora.api, {
      name: 'dropping canary',
      configurationId: dropping.configurationId,
      version: dropping.number,
      groupId,
      strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 0 }, { percent: 100, dwellSeconds: 0 }] },
      gates: gates([{ gate: 'drop-ratio', threshold: 0.2, windowSeconds: 90, minSample: 20, signal: 'traces' }]),
    });
    await act(ampora.api, rollout.id, 'start');
    const paused = await waitRollout(ampora.api, rollout.id, (r) => r.state === 'Paused' || r.state === 'Completed', 240_000, 'paused by a gate');
    expect(paused.state).toBe('Paused');
    expect(paused.currentStep).toBe(0);
    expect(paused.gate).toMatchObject({ gate: 'drop-ratio', verdict: 'breach', threshold: 0.2, baselineKind: 'before' });
    // one span in two: about half of what the receiver accepted (the counters are read at different moments)
    expect(paused.gate!.observed).toBeGreaterThan(0.3);
    expect(paused.gate!.observed).toBeLessThan(0.7);
    // nothing was dropped before the push
    expect((paused.gate as unknown as { baseline: number | null }).baseline ?? 0).toBe(0);
    const canary = await until('the canary target Applied', async () => (await getRollout(ampora.api, rollout.id)).targets.find((t) => t.step === 0 && t.state === 'Applied'), (SUPERVISOR_APPLY_TIMEOUT_SECONDS + 60) * 1000);
    const processor = (await components(canary.agentId)).find((c) => c.kind === 'processor' && c.component === 'ampora_drop' && c.signal === 'traces');
    expect(processor?.dropped).toBeGreaterThan(0);
    const other = ids.find((id) => id !== canary.agentId)!;
    expect((await ampora.agent(other)).remoteConfig.hash).toBe(base.configHash);
    const audit = await rolloutAudit(ampora.api, rollout.id);
    expect(audit.find((e) => /(^|\.)Paused$/.test(e.action))?.additional).toMatchObject({ gate: 'drop-ratio', verdict: 'breach' });

    // back to the base version before the next rollout
    await act(ampora.api, rollout.id, 'rollback');
    const rollbackId = (await getRollout(ampora.api, rollout.id)).rollbackId!;
    await waitRollout(ampora.api, rollbackId, (r) => r.state === 'Completed', 240_000, 'the rollback completed');
    await ampora.waitAgent(canary.agentId, 'the base version APPLIED again', (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === base.configHash, 120_000);
  }, 600_000);

  it('a version whose receiver no longer gets the traffic trips throughput-drop against the agent not pushed yet', async () => {
    const rollout = await createRollout(ampora.api, {
      name: 'quiet canary',
      configurationId: quiet.configurationId,
      version: quiet.number,
      groupId,
      strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 0 }, { percent: 100, dwellSeconds: 0 }] },
      gates: gates([{ gate: 'throughput-drop', threshold: 0.5, windowSeconds: 30, minSample: 20, baseline: 'control', signal: 'traces' }]),
    });
    const started = Date.now();
    await act(ampora.api, rollout.id, 'start');
    const paused = await waitRollout(ampora.api, rollout.id, (r) => r.state === 'Paused' || r.state === 'Completed', 240_000, 'paused by a gate');
    expect(paused.state).toBe('Paused');
    expect(paused.currentStep).toBe(0);
    expect(paused.gate).toMatchObject({ gate: 'throughput-drop', verdict: 'breach', baselineKind: 'control', threshold: 0.5, windowSeconds: 30 });
    expect(paused.gate!.observed).toBeGreaterThan(0.5);
    // the control kept its throughput: about four spans a second
    expect((paused.gate as unknown as { baseline: number }).baseline).toBeGreaterThan(1);
    // judged on the whole window only
    expect(Date.now() - started).toBeGreaterThanOrEqual(30_000);
    const canary = paused.targets.find((t) => t.step === 0)!;
    const other = ids.find((id) => id !== canary.agentId)!;
    expect((await ampora.agent(other)).remoteConfig.hash).toBe(base.configHash);
  }, 400_000);
});
