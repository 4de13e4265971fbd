import { freePort } from '@ampora/testing';
import { act, assignGroup, createRollout, createStaticGroup, expectStatus, getRollout, publishVersions, PublishedVersion, waitRollout } from '../support/rollout-kit';
import { Ampora, collectorVersionYaml, killAllPeers, sendOtlpTrace, Supervisor, SUPERVISOR_APPLY_TIMEOUT_SECONDS, until } from './support/interop-kit';

interface SignalView {
  signal: string;
  accepted: number;
  sent: number;
  sendFailed: number;
}
interface ComponentView {
  kind: string;
  component: string;
  signal: string;
  accepted: number;
  sent: number;
  sendFailed: number;
}

/**
 * Agents' own telemetry against the real Supervisor and Collector (issue 20): the Supervisor takes
 * Ampora's own-metrics offer and its Collector's internal metrics arrive at Ampora's OTLP intake; a
 * version whose exporter points at a dead endpoint applies (apply-failed-ratio stays clear) but trips
 * the export-failure-ratio analysis gate and pauses the canary. Built server and worker, real
 * PostgreSQL and Redis.
 */
describe('real Supervisors report their own metrics; an analysis gate pauses a canary on them', () => {
  let ampora: Ampora;
  const sups: Supervisor[] = [];
  const ids: string[] = [];
  const ports: number[] = [];
  let base: PublishedVersion;
  let dead: PublishedVersion;
  let groupId: string;
  let traffic: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    ampora = await Ampora.start({ env: { AMPORA_AGENT_TELEMETRY_BUCKET_SECONDS: '2', AMPORA_AGENT_TELEMETRY_FLUSH_SECONDS: '1' } });
    const deadEndpoint = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    [base, dead] = (await publishVersions(ampora.api, [
      collectorVersionYaml('tel-base', 'OTLP_PORT'),
      collectorVersionYaml('tel-dead', 'OTLP_PORT', {
        exporter: { id: 'otlphttp/dead', lines: [`endpoint: ${deadEndpoint}`, 'timeout: 2s', 'retry_on_failure:', '  enabled: false', 'sending_queue:', '  enabled: false'] },
      }),
    ])) as [PublishedVersion, PublishedVersion];
    groupId = (await createStaticGroup(ampora.api, 'interop-own-telemetry')).id;
    await assignGroup(ampora.api, groupId, base);
    for (let i = 0; i < 2; i++) {
      const token = await ampora.bootstrapToken(`own-telemetry-${i}`, { groupId });
      const port = await freePort();
      const sup = new Supervisor({ endpoint: ampora.wsUrl, token, env: { OTLP_PORT: String(port) }, ownMetrics: { exportIntervalMs: 2000 } });
      sups.push(sup);
      ports.push(port);
      // one at a time: each bootstraps its Collector before the next starts
      ids.push((await sup.startAndWait(ampora, 180_000)).id);
    }
    for (const id of ids) await ampora.waitAgent(id, 'the group\'s version APPLIED', (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === base.configHash, 180_000);
    // a trace every half second into each Collector's OTLP receiver
    traffic = setInterval(() => ports.forEach((p) => void sendOtlpTrace(p)), 500);
  }, 900_000);

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    await killAllPeers();
    await ampora?.stop();
  }, 120_000);

  const telemetry = async (id: string) => (await expectStatus(ampora.api, 'GET', `/api/agents/${id}/telemetry?windowSeconds=60`, 200)).body as { reporting: number; signals: SignalView[]; components: ComponentView[] };

  it('takes the own-metrics offer: the Collector\'s receiver and exporter counts arrive at Ampora', async () => {
    for (const id of ids) {
      const view = await until(`own metrics of ${id}`, async () => {
        const v = await telemetry(id);
        return v.components.some((c) => c.kind === 'receiver' && c.component === 'otlp' && c.signal === 'traces' && c.accepted > 0) ? v : undefined;
      }, 120_000, 1000);
      expect(view.reporting).toBe(1);
    }
    const effective = sups[0]!.effectiveYaml();
    expect(effective).toContain(`http://127.0.0.1:${ampora.httpPort}/v1/metrics`);
  }, 300_000);

  it('a version with a dead exporter applies (apply-failed-ratio clear) but trips export-failure-ratio and pauses the canary', async () => {
    const gates = {
      applyFailedRatio: 0.2,
      applyTimeoutSeconds: 60 + SUPERVISOR_APPLY_TIMEOUT_SECONDS,
      disconnectGraceSeconds: 60,
      analysis: [{ gate: 'export-failure-ratio', threshold: 0.2, windowSeconds: 90, minSample: 5, signal: 'traces' }],
    };
    const rollout = await createRollout(ampora.api, {
      name: 'dead exporter canary',
      configurationId: dead.configurationId,
      version: dead.number,
      groupId,
      strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 0 }, { percent: 100, dwellSeconds: 0 }] },
      gates,
    });
    await act(ampora.api, rollout.id, 'start');
    const paused = await waitRollout(ampora.api, rollout.id, (r) => r.state === 'Paused' || r.state === 'Completed', 240_000, 'paused by a gate');
    expect(paused.state).toBe('Paused');
    expect(paused.currentStep).toBe(0);
    expect(paused.gate).toMatchObject({ gate: 'export-failure-ratio', verdict: 'breach', threshold: 0.2 });
    expect(paused.gate!.observed).toBeGreaterThan(0.2);
    // the canary applied the version: it was the exporter, not the apply, that failed (the failed
    // exports may pause the rollout before the Supervisor's apply timer reports APPLIED; a pause does
    // not stop a target that is applying)
    const canary = await until('the canary target Applied', async () => (await getRollout(ampora.api, rollout.id)).targets.find((t) => t.step === 0 && t.state === 'Applied'), (SUPERVISOR_APPLY_TIMEOUT_SECONDS + 60) * 1000);
    // the agent's record is written by the state writer's flush, a moment after the rollout saw it
    const detail = await until('the canary agent APPLIED', async () => {
      const a = await ampora.agent(canary.agentId);
      return a.remoteConfig?.status === 'APPLIED' ? a : undefined;
    }, 30_000);
    expect(detail.remoteConfig).toMatchObject({ status: 'APPLIED', hash: dead.configHash });
    const view = await telemetry(canary.agentId);
    expect(view.components.find((c) => c.kind === 'exporter' && c.component === 'otlphttp/dead')?.sendFailed).toBeGreaterThan(0);
    // the other agent was never pushed
    const other = ids.find((id) => id !== canary.agentId)!;
    expect((await ampora.agent(other)).remoteConfig.hash).toBe(base.configHash);
  }, 400_000);
});
