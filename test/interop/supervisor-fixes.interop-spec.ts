import { freePort, makeTestPki, TestPki } from '@ampora/testing';
import { act, assignGroup, createRollout, createStaticGroup, expectStatus, getRollout, publishVersions, PublishedVersion, waitRollout } from '../support/rollout-kit';
import { Ampora, collectorVersionYaml, ExtensionCollector, killAllPeers, sleep, Supervisor, SUPERVISOR_APPLY_TIMEOUT_SECONDS, until } from './support/interop-kit';

/**
 * What the real Supervisor showed (issue 26, its Checks) and how a refused real Collector must back
 * off (issue 25 item 3), with the real peers against the built server and worker. These are written to
 * the issues' contracts; they pass once the fixes of those issues are in.
 */
describe('real Supervisors and Collectors: what they showed Ampora gets wrong', () => {
  let pki: TestPki;
  let ampora: Ampora;
  let mtlsUrl: string;
  const gates = { applyFailedRatio: 0.2, applyTimeoutSeconds: 60 + SUPERVISOR_APPLY_TIMEOUT_SECONDS, disconnectGraceSeconds: 60 };

  beforeAll(async () => {
    pki = makeTestPki('Interop listener CA');
    const tlsPort = await freePort();
    mtlsUrl = `wss://127.0.0.1:${tlsPort}/v1/opamp`;
    ampora = await Ampora.start({
      tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile },
      // the production default: an agent holding a certificate may not come back on its token alone
      // the listener's certificate comes from the operator's own CA: the offer carries it (decision 0120)
      env: { AMPORA_OPAMP_TLS_PORT: String(tlsPort), AMPORA_OPAMP_TLS_CA_FILE: pki.caCertFile, AMPORA_OPAMP_MTLS_URL: mtlsUrl, AMPORA_OPAMP_REQUIRE_MTLS: 'true' },
    });
  }, 300_000);

  afterAll(async () => {
    await killAllPeers();
    await ampora?.stop();
  }, 120_000);

  it('a Supervisor started with only a bootstrap token ends up on mTLS, identified by its certificate\'s fingerprint, within a minute, and again after its own restart', async () => {
    const token = await ampora.bootstrapToken('supervisor-to-mtls');
    const sup = new Supervisor({ endpoint: ampora.wsUrl, token, acceptsConnectionSettings: true });
    const startedAt = Date.now();
    sup.start();
    const found = await ampora.agentByUid(sup.instanceId, 60_000);
    const moved = await ampora.waitAgent(found.id, 'connected over mTLS with a certificate identity', (a) => a.status === 'connected' && a.identity.kind === 'certificate' && !!a.identity.certificateFingerprint, Math.max(5_000, 60_000 - (Date.now() - startedAt)));
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    const certificates = (await expectStatus(ampora.api, 'GET', `/api/pki/certificates?agentId=${found.id}`, 200)).body.items as Array<{ fingerprint: string; status: string }>;
    expect(certificates.map((c) => c.fingerprint)).toContain(moved.identity.certificateFingerprint);

    await sup.kill('SIGTERM');
    await ampora.waitAgent(found.id, 'disconnected after the Supervisor stopped', (a) => a.status === 'disconnected', 60_000);
    const restartedAt = Date.now();
    sup.start();
    const again = await ampora.waitAgent(found.id, 'back over mTLS after its restart', (a) => a.status === 'connected' && a.identity.kind === 'certificate' && !!a.identity.certificateFingerprint, 60_000);
    expect(Date.now() - restartedAt).toBeLessThan(60_000);
    expect(again.id).toBe(found.id);
    // still one agent for this Supervisor
    expect((await ampora.agents()).filter((a) => a.instanceUid.replace(/-/g, '') === sup.instanceId.replace(/-/g, ''))).toHaveLength(1);
    await sup.kill('SIGTERM');
  }, 300_000);

  describe('three supervised Collectors', () => {
    const ids: string[] = [];
    const sups: Supervisor[] = [];
    let base: PublishedVersion;
    let good: PublishedVersion;
    let bad: PublishedVersion;
    let groupId: string;

    beforeAll(async () => {
      [base, good, bad] = (await publishVersions(ampora.api, [
        collectorVersionYaml('fx-base', 'OTLP_PORT_A'),
        collectorVersionYaml('fx-good', 'OTLP_PORT_B'),
        collectorVersionYaml('fx-bad', 'OTLP_PORT_A', { receiver: 'zipkin' }),
      ])) as [PublishedVersion, PublishedVersion, PublishedVersion];
      groupId = (await createStaticGroup(ampora.api, 'interop-fixes')).id;
      await assignGroup(ampora.api, groupId, base);
      for (let i = 0; i < 3; i++) {
        const token = await ampora.bootstrapToken(`fixes-${i}`, { groupId });
        const sup = new Supervisor({ endpoint: ampora.wsUrl, token, env: { OTLP_PORT_A: String(await freePort()), OTLP_PORT_B: String(await freePort()) } });
        sups.push(sup);
        // one at a time: each bootstraps its Collector before the next starts
        ids.push((await sup.startAndWait(ampora, 180_000)).id);
      }
      for (const id of ids) await ampora.waitAgent(id, 'the group\'s version APPLIED', (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === base.configHash, 180_000);
    }, 900_000);

    it('name their otlp receiver and debug exporter under their available components', async () => {
      const agent = await ampora.waitAgent(ids[0]!, 'available components reported', (a) => a.availableComponents !== null && a.availableComponents !== undefined, 60_000);
      const text = JSON.stringify(agent.availableComponents);
      expect(text).toMatch(/receiver/i);
      expect(text).toMatch(/exporter/i);
      expect(text).toContain('"otlp"');
      expect(text).toContain('"debug"');
      expect(text).toContain('go.opentelemetry.io/collector/receiver/otlpreceiver');
    }, 120_000);

    it('a good rollout: every agent APPLIED and drift false; a broken canary pauses; rollback re-assigns the previous version, APPLIED with its hash; the canary agents still show the Collector\'s reason', async () => {
      const rollout = await createRollout(ampora.api, {
        configurationId: good.configurationId,
        version: good.number,
        groupId,
        strategy: { type: 'Canary', steps: [{ percent: 34, dwellSeconds: 1 }, { percent: 100, dwellSeconds: 0 }] },
        gates,
        ordering: 'hostname',
      });
      await act(ampora.api, rollout.id, 'start');
      const done = await waitRollout(ampora.api, rollout.id, (r) => ['Completed', 'Paused', 'Failed'].includes(r.state), 600_000, 'the end of the good rollout');
      expect(done.state).toBe('Completed');
      for (const id of ids) {
        await ampora.waitAgent(id, 'the good version APPLIED', (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === good.configHash, 120_000);
        let lastDrift: unknown;
        const drift = await until(`drift of ${id} false`, async () => {
          const d = (await expectStatus(ampora.api, 'GET', `/api/agents/${id}/drift`, 200)).body as { drift: unknown };
          lastDrift = d;
          return d.drift === false ? d : undefined;
        }, 60_000, 1000).catch((error: Error) => {
          throw new Error(`${error.message}; last answer: ${JSON.stringify(lastDrift).slice(0, 3000)}`);
        });
        expect(drift.drift).toBe(false);
        expect((await ampora.agent(id)).drift).toBe(false);
      }
      expect((await ampora.agents(`drift=true&groupId=${groupId}`)).length).toBe(0);

      const canary = await createRollout(ampora.api, {
        configurationId: bad.configurationId,
        version: bad.number,
        groupId,
        strategy: { type: 'Canary', steps: [{ percent: 34, dwellSeconds: 1 }, { percent: 100, dwellSeconds: 0 }] },
        gates,
        ordering: 'hostname',
      });
      await act(ampora.api, canary.id, 'start');
      const paused = await waitRollout(ampora.api, canary.id, (r) => r.state === 'Paused', 180_000, 'paused by a gate');
      expect(paused.gate).toMatchObject({ gate: 'apply-failed-ratio' });
      const canaryAgents = paused.targets.filter((t) => t.state === 'Failed').map((t) => t.agentId);
      expect(canaryAgents.length).toBeGreaterThanOrEqual(1);

      const rollbackStartedAt = Date.now();
      await act(ampora.api, canary.id, 'rollback');
      const rollbackId = (await getRollout(ampora.api, canary.id)).rollbackId!;
      const rb = await waitRollout(ampora.api, rollbackId, (r) => ['Completed', 'Paused', 'Failed'].includes(r.state), 300_000, 'the rollback ended');
      expect(rb.state).toBe('Completed');
      // the rollback was not done before the agents answered it
      expect(Date.now() - rollbackStartedAt).toBeGreaterThan(SUPERVISOR_APPLY_TIMEOUT_SECONDS * 1000 - 1000);
      for (const id of ids) {
        const a = await ampora.waitAgent(id, 'assigned the previous version and APPLIED with its hash', (x) => x.remoteConfig.status === 'APPLIED' && x.remoteConfig.hash === good.configHash, 120_000);
        expect(a.assignment).toMatchObject({ versionId: good.id, version: good.number });
        expect(a.assignedConfig?.hash).toBe(good.configHash);
      }
      for (const id of canaryAgents) {
        // the failure stays visible after the later APPLIED of the restored version
        const detail = JSON.stringify(await ampora.agent(id));
        expect(detail).toContain(bad.configHash);
        expect(detail).toMatch(/zipkin/);
        const history = (await expectStatus(ampora.api, 'GET', `/api/agents/${id}/config-history`, 200)).body;
        const text = JSON.stringify(history);
        expect(text).toContain(bad.configHash);
        expect(text).toMatch(/zipkin/);
      }
    }, 1_200_000);
  });

  it('a real Collector refused for presenting a redeemed token under a new instance uid makes at most 10 attempts in its first minute', async () => {
    const token = await ampora.bootstrapToken('redeemed-then-reused');
    // the first Collector redeems the token (no fixed instance_uid: the extension makes one per start)
    const first = new ExtensionCollector({ endpoint: ampora.wsUrl, token });
    first.start();
    await until('the token redeemed', async () => {
      const list = (await expectStatus(ampora.api, 'GET', '/api/bootstrap-tokens', 200)).body.items as Array<{ label: string; status: string }>;
      return list.find((t) => t.label === 'redeemed-then-reused' && t.status === 'redeemed');
    }, 120_000);
    await first.kill('SIGKILL');
    const agentsBefore = (await ampora.agents()).length;

    const before = await authFailures(ampora);
    const second = new ExtensionCollector({ endpoint: ampora.wsUrl, token });
    second.start();
    // the measure: its first minute
    await sleep(60_000);
    const attempts = (await authFailures(ampora)) - before;
    await second.kill('SIGKILL');
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThanOrEqual(10);
    expect((await ampora.agents()).length).toBe(agentsBefore);
  }, 300_000);
});

/** ampora_opamp_frames_rejected_total{reason="auth_failed"} on the server, over every tenant. */
async function authFailures(ampora: Ampora): Promise<number> {
  const text = await (await fetch(`${ampora.baseUrl}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^ampora_opamp_frames_rejected_total\{[^}]*reason="auth_failed"[^}]*\} (\d+(?:\.\d+)?)/gm)) sum += Number(m[1]);
  return sum;
}
