import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { freePort, makeTestPki, TestPki } from '@ampora/testing';
import { act, createRollout, createStaticGroup, expectStatus, getRollout, publishVersions, PublishedVersion, waitRollout, collectorYaml, assignGroup } from '../support/rollout-kit';
import {
  Ampora,
  AgentDetail,
  collectorVersionYaml,
  ExtensionCollector,
  killAllPeers,
  PeerProcess,
  peer,
  sendOtlpTrace,
  sleep,
  Supervisor,
  SUPERVISOR_APPLY_TIMEOUT_SECONDS,
  until,
} from './support/interop-kit';

/**
 * Issue 13: real OpenTelemetry Collectors against Ampora's built server and worker processes on real
 * PostgreSQL and Redis. The peers are built from test/interop/ (contrib v0.158.0): the Collector with
 * the contrib opamp extension, the contrib OpAMP Supervisor managing that Collector, and an opamp-go
 * load generator. Nothing here is simulated: every OpAMP message comes from opamp-go.
 */
describe('real OpenTelemetry Collectors managed by Ampora', () => {
  let ampora: Ampora;
  let pki: TestPki;
  const supervisors: Supervisor[] = [];
  const collectors: ExtensionCollector[] = [];
  // each supervised Collector reads its OTLP ports from its environment, so one version fits all three
  const ports: Array<Record<string, string>> = [];
  let versions: { base: PublishedVersion; bad: PublishedVersion; good: PublishedVersion; restart: PublishedVersion };
  const agentIds: string[] = [];
  // rollouts wait for the Supervisor's apply timer, so their apply timeout sits well above it
  const gates = { applyFailedRatio: 0.2, applyTimeoutSeconds: 60 + SUPERVISOR_APPLY_TIMEOUT_SECONDS, disconnectGraceSeconds: 60 };

  beforeAll(async () => {
    pki = makeTestPki('Interop listener CA');
    ampora = await Ampora.start({ tls: { certFile: pki.server.certFile, keyFile: pki.server.keyFile } });
    const [base, bad, good, restart] = await publishVersions(ampora.api, [
      collectorVersionYaml('base', 'OTLP_PORT_A'),
      collectorVersionYaml('bad', 'OTLP_PORT_A', { receiver: 'zipkin' }),
      collectorVersionYaml('good', 'OTLP_PORT_B'),
      collectorVersionYaml('restart', 'OTLP_PORT_C'),
    ]);
    versions = { base: base!, bad: bad!, good: good!, restart: restart! };
  }, 300_000);

  afterAll(async () => {
    await killAllPeers();
    await ampora?.stop();
  }, 120_000);

  const uidHex = (uid: string) => uid.replace(/-/g, '').toLowerCase();

  it('a Collector with the opamp extension enrols over WebSocket with a bootstrap token and shows what it reported; killed it is disconnected, restarted it is the same agent', async () => {
    const token = await ampora.bootstrapToken('extension-ws');
    const instanceUid = randomUUID();
    const col = new ExtensionCollector({ endpoint: ampora.wsUrl, token, instanceUid });
    collectors.push(col);
    const proc = col.start();
    const startedAt = Date.now();
    const ready = until('the Collector is ready', () => proc.text().includes('Everything is ready'), 120_000).then(() => Date.now());
    const found = await ampora.agentByUid(instanceUid, 120_000);
    const listedAt = Date.now();
    // listed within 10 s of the Collector being up (its own start-up on a loaded box is not Ampora's time)
    expect(listedAt - Math.min(await ready, listedAt)).toBeLessThan(10_000);
    expect(listedAt - startedAt).toBeLessThan(120_000);

    const agent = await ampora.waitAgent(
      found.id,
      'description, health with its component tree and effective config',
      (a) => a.status === 'connected' && a.healthy === true && !!a.effectiveConfig?.files.length && JSON.stringify(a.health ?? {}).includes('receiver:otlp'),
    );
    expect(uidHex(agent.instanceUid)).toBe(uidHex(instanceUid));
    expect(agent.identifyingAttributes['service.name']).toBe('ampora-testcol');
    expect(typeof agent.identifyingAttributes['service.instance.id']).toBe('string');
    expect(agent.identifyingAttributes['service.version']).toBe('v0.158.0');
    expect(typeof agent.nonIdentifyingAttributes['host.name']).toBe('string');
    expect(agent.nonIdentifyingAttributes['os.type']).toBe('linux');
    expect(agent.nonIdentifyingAttributes['ampora.test']).toBe('interop');
    expect(agent.capabilities.names).toEqual(expect.arrayContaining(['ReportsStatus', 'ReportsEffectiveConfig', 'ReportsHealth', 'ReportsAvailableComponents']));
    expect(agent.capabilities.names).not.toContain('AcceptsRemoteConfig');
    const health = JSON.stringify(agent.health);
    expect(health).toContain('extension:opamp');
    expect(health).toContain('pipeline:traces');
    const effective = agent.effectiveConfig!.files.map((f) => f.body).join('\n');
    expect(effective).toContain('otlp');
    expect(effective).toContain('opamp');
    expect(agent.identity).toMatchObject({ kind: 'token' });

    // killed: the agent is disconnected
    await col.kill('SIGKILL');
    await ampora.waitAgent(found.id, 'disconnected after the kill', (a) => a.status === 'disconnected', 60_000);

    // restarted with the same instance_uid: the same agent, connected again, no duplicate
    col.start();
    await ampora.waitAgent(found.id, 'connected again after the restart', (a) => a.status === 'connected' && a.connection.connected, 120_000);
    const same = (await ampora.agents()).filter((a) => uidHex(a.instanceUid) === uidHex(instanceUid));
    expect(same.map((a) => a.id)).toEqual([found.id]);
    await col.kill('SIGTERM');
  }, 360_000);

  it('over TLS on the mTLS listener with a certificate from POST /api/pki/agent-certificates: identified by fingerprint; a revoked certificate is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ampora-mtls-'));
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'agent.key', '-out', 'agent.csr', '-subj', '/CN=interop-edge'], { cwd: dir, stdio: 'ignore' });
    const issued = (await expectStatus(ampora.api, 'POST', '/api/pki/agent-certificates', 201, { csr: readFileSync(join(dir, 'agent.csr'), 'utf8') })).body;
    writeFileSync(join(dir, 'agent.crt'), issued.certificate);
    const instanceUid = randomUUID();
    const col = new ExtensionCollector({ endpoint: ampora.wssUrl, instanceUid, tls: { caFile: pki.caCertFile, certFile: join(dir, 'agent.crt'), keyFile: join(dir, 'agent.key') } });
    collectors.push(col);
    const proc = col.start();
    const found = await ampora.agentByUid(instanceUid, 120_000);
    const agent = await ampora.waitAgent(found.id, 'connected over mTLS', (a) => a.status === 'connected' && !!a.effectiveConfig);
    expect(agent.identity).toMatchObject({ kind: 'certificate', certificateFingerprint: issued.fingerprint, bootstrapTokenId: null });
    expect(agent.identifyingAttributes['service.name']).toBe('ampora-testcol');

    await expectStatus(ampora.api, 'POST', `/api/pki/certificates/${issued.id}/revoke`, 200);
    await ampora.waitAgent(found.id, 'disconnected after the revocation', (a) => a.status === 'disconnected', 60_000);
    // the Collector keeps trying; the listener refuses the certificate every time
    const refusedSince = Date.now();
    while (Date.now() - refusedSince < 15_000) {
      expect((await ampora.agent(found.id)).status).toBe('disconnected');
      await sleep(1000);
    }
    expect(proc.alive).toBe(true);
    expect(proc.text()).toMatch(/certificate|tls|bad|closed|EOF|reset/i);
    await col.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  async function startSupervisor(token: string): Promise<{ sup: Supervisor; agent: AgentDetail }> {
    const env = { OTLP_PORT_A: String(await freePort()), OTLP_PORT_B: String(await freePort()), OTLP_PORT_C: String(await freePort()) };
    const sup = new Supervisor({ endpoint: ampora.wsUrl, token, env });
    supervisors.push(sup);
    ports.push(env);
    const agent = await sup.startAndWait(ampora, 180_000);
    agentIds.push(agent.id);
    return { sup, agent };
  }

  const portOf = (i: number, key: 'OTLP_PORT_A' | 'OTLP_PORT_B' | 'OTLP_PORT_C') => Number(ports[i]![key]);

  it('a Supervisor writes an assigned Published version and restarts its Collector: APPLIED, the effective config shows it, the Collector serves its OTLP port', async () => {
    const { sup, agent } = await startSupervisor(await ampora.bootstrapToken('supervisor-0'));
    expect(agent.capabilities.names).toEqual(expect.arrayContaining(['AcceptsRemoteConfig', 'ReportsRemoteConfig', 'ReportsEffectiveConfig', 'ReportsHealth']));
    expect(await sendOtlpTrace(portOf(0, 'OTLP_PORT_A'))).toBe(0);

    const assigned = (await expectStatus(ampora.api, 'POST', `/api/agents/${agent.id}/assign`, 200, { configurationId: versions.base.configurationId, version: versions.base.number })).body;
    expect(assigned).toMatchObject({ agentId: agent.id, configHash: versions.base.configHash, delivery: 'delivered' });
    const applied = await ampora.waitAgent(
      agent.id,
      'APPLIED with the version\'s hash',
      (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === versions.base.configHash && (a.effectiveConfig?.files ?? []).some((f) => f.body.includes('debug/base')),
      120_000,
    );
    expect(applied.assignment).toMatchObject({ source: 'direct', configurationId: versions.base.configurationId, version: versions.base.number });
    expect(sup.effectiveYaml()).toContain('debug/base');
    // the Collector really runs it: its new OTLP receiver accepts a trace
    await until('the Collector accepts OTLP on its new port', async () => (await sendOtlpTrace(portOf(0, 'OTLP_PORT_A'))) === 200, 60_000);
  }, 360_000);

  it('a version the Collector refuses ends FAILED with the Collector\'s own error message on the agent', async () => {
    const id = agentIds[0]!;
    await expectStatus(ampora.api, 'POST', `/api/agents/${id}/assign`, 200, { configurationId: versions.bad.configurationId, version: versions.bad.number });
    // polled closely: the Supervisor restores its last working config right after the failure
    const failed = await until(
      'FAILED with the Collector\'s message',
      async () => {
        const a = await ampora.agent(id);
        return a.remoteConfig.status === 'FAILED' || a.remoteConfig.failedHash === versions.bad.configHash ? a : undefined;
      },
      120_000,
      150,
    );
    expect(failed.remoteConfig.errorMessage).toMatch(/zipkin/);
    // back to the group's (no) assignment: the agent leaves the broken version behind
    await expectStatus(ampora.api, 'DELETE', `/api/agents/${id}/assignment`, 200);
  }, 300_000);

  it('three supervised Collectors: a canary of a broken version pauses on apply-failed-ratio; rollback brings every Collector back to the previous version, APPLIED', async () => {
    await startSupervisor(await ampora.bootstrapToken('supervisor-1'));
    await startSupervisor(await ampora.bootstrapToken('supervisor-2'));
    const group = await createStaticGroup(ampora.api, 'interop-supervised');
    await expectStatus(ampora.api, 'POST', `/api/groups/${group.id}/members`, 200, { agentIds });
    await assignGroup(ampora.api, group.id, versions.base);
    for (const id of agentIds) {
      await ampora.waitAgent(id, 'the group\'s version APPLIED', (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === versions.base.configHash, 180_000);
    }
    for (let i = 0; i < 3; i++) await until(`Collector ${i} serves OTLP`, async () => (await sendOtlpTrace(portOf(i, 'OTLP_PORT_A'))) === 200, 60_000);

    const canary = await createRollout(ampora.api, {
      configurationId: versions.bad.configurationId,
      version: versions.bad.number,
      groupId: group.id,
      strategy: { type: 'Canary', steps: [{ percent: 34, dwellSeconds: 1 }, { percent: 100, dwellSeconds: 0 }] },
      gates,
      ordering: 'hostname',
    });
    await act(ampora.api, canary.id, 'start');
    const paused = await waitRollout(ampora.api, canary.id, (r) => r.state === 'Paused', 180_000, 'paused by a gate');
    expect(paused.gate).toMatchObject({ gate: 'apply-failed-ratio', step: 0 });
    expect(paused.currentStep).toBe(0);
    const failedTargets = paused.targets.filter((t) => t.state === 'Failed');
    expect(failedTargets.length).toBeGreaterThanOrEqual(1);
    for (const t of failedTargets) expect(String(t.reason)).toMatch(/zipkin/);
    // nothing beyond the canary was pushed
    expect(paused.targets.filter((t) => t.step > 0 && t.pushedAt !== null)).toEqual([]);

    const rolledBack = await act(ampora.api, canary.id, 'rollback');
    expect(rolledBack.state).toBe('RolledBack');
    const rollbackId = (await getRollout(ampora.api, canary.id)).rollbackId!;
    expect(rollbackId).toBeTruthy();
    await waitRollout(ampora.api, rollbackId, (r) => r.state === 'Completed', 240_000, 'the rollback completed');
    for (const id of agentIds) {
      await ampora.waitAgent(id, 'the previous version APPLIED', (a) => a.status === 'connected' && a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === versions.base.configHash, 120_000);
    }
    for (let i = 0; i < 3; i++) await until(`Collector ${i} serves OTLP again`, async () => (await sendOtlpTrace(portOf(i, 'OTLP_PORT_A'))) === 200, 60_000);
  }, 900_000);

  it('a rollout of a good version over the three completes step by step, every Collector running it', async () => {
    const group = (await ampora.agent(agentIds[0]!)).groupId!;
    const rollout = await createRollout(ampora.api, {
      configurationId: versions.good.configurationId,
      version: versions.good.number,
      groupId: group,
      strategy: { type: 'Canary', steps: [{ percent: 34, dwellSeconds: 1 }, { percent: 67, dwellSeconds: 1 }, { percent: 100, dwellSeconds: 0 }] },
      gates,
      ordering: 'hostname',
    });
    await act(ampora.api, rollout.id, 'start');
    const done = await waitRollout(ampora.api, rollout.id, (r) => ['Completed', 'Paused', 'Failed'].includes(r.state), 600_000, 'the end of the rollout');
    expect(done.state).toBe('Completed');
    expect(done.steps.length).toBe(3);
    // step by step: each step settled before the next one started
    for (let i = 1; i < done.steps.length; i++) expect(Date.parse(done.steps[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(done.steps[i - 1]!.settledAt!));
    expect(done.targets.map((t) => t.state)).toEqual(['Applied', 'Applied', 'Applied']);
    for (const id of agentIds) {
      await ampora.waitAgent(id, 'the good version APPLIED', (a) => a.remoteConfig.status === 'APPLIED' && a.remoteConfig.hash === versions.good.configHash, 60_000);
    }
    for (let i = 0; i < 3; i++) await until(`Collector ${i} serves the good version's port`, async () => (await sendOtlpTrace(portOf(i, 'OTLP_PORT_B'))) === 200, 60_000);
  }, 900_000);

  it('Ampora restarted in the middle of a rollout: every Supervisor reconnects, re-reports its state, nothing is duplicated or lost', async () => {
    const before = await ampora.agents();
    const group = (await ampora.agent(agentIds[0]!)).groupId!;
    const rollout = await createRollout(ampora.api, {
      configurationId: versions.restart.configurationId,
      version: versions.restart.number,
      groupId: group,
      strategy: { type: 'Batch', batchSize: 1 },
      autoAdvance: true,
      dwellSeconds: 2,
      gates,
      ordering: 'hostname',
    });
    await act(ampora.api, rollout.id, 'start');
    await waitRollout(ampora.api, rollout.id, (r) => r.targets.some((t) => t.state === 'Applied'), 300_000, 'the first agent applied');
    await ampora.restartServer('SIGTERM');

    const done = await waitRollout(ampora.api, rollout.id, (r) => ['Completed', 'Paused', 'Failed'].includes(r.state), 600_000, 'the end of the rollout');
    expect(done.state).toBe('Completed');
    expect(done.targets.map((t) => t.state)).toEqual(['Applied', 'Applied', 'Applied']);
    expect(new Set(done.targets.map((t) => t.agentId)).size).toBe(3);
    for (const id of agentIds) {
      const a = await ampora.waitAgent(
        id,
        'reconnected with the version APPLIED and its state re-reported',
        (x) => x.status === 'connected' && x.remoteConfig.status === 'APPLIED' && x.remoteConfig.hash === versions.restart.configHash && (x.effectiveConfig?.files ?? []).some((f) => f.body.includes('debug/restart')),
        180_000,
      );
      expect(a.connection.connected).toBe(true);
      expect(a.health).not.toBeNull();
      expect(a.identifyingAttributes['service.name']).toBe('ampora-testcol');
    }
    const after = await ampora.agents();
    expect(after.map((a) => a.id).sort()).toEqual(before.map((a) => a.id).sort());
    expect(new Set(after.map((a) => uidHex(a.instanceUid))).size).toBe(after.length);
    for (let i = 0; i < 3; i++) await until(`Collector ${i} serves the port of the version applied across the restart`, async () => (await sendOtlpTrace(portOf(i, 'OTLP_PORT_C'))) === 200, 60_000);
  }, 900_000);

  it('an opamp-go load generator connects 500 agents, heartbeats, and each receives one push and reports APPLIED', async () => {
    const N = 500;
    const [v] = await publishVersions(ampora.api, [collectorYaml('loadgen')]);
    const group = await createStaticGroup(ampora.api, 'interop-loadgen');
    await assignGroup(ampora.api, group.id, v!);
    const tokens: string[] = [];
    for (let i = 0; i < N; i += 25) {
      tokens.push(...(await Promise.all(Array.from({ length: Math.min(25, N - i) }, (_, k) => ampora.bootstrapToken(`loadgen-${i + k}`, { groupId: group.id })))));
    }
    const dir = mkdtempSync(join(tmpdir(), 'ampora-loadgen-'));
    writeFileSync(join(dir, 'tokens'), tokens.join('\n'));
    const lg = new PeerProcess('loadgen', peer('loadgen'), ['-url', ampora.wsUrl, '-n', String(N), '-tokens', join(dir, 'tokens'), '-deadline', '5m', '-hold', '12s', '-heartbeat', '5s', '-uids', join(dir, 'uids')]);
    const code = await lg.exited;
    const summaries = lg
      .text()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; summary: { connected: number; applied: number; remote_configs: number } });
    const applied = summaries.find((s) => s.event === 'applied');
    if (!applied || code !== 0) throw new Error(`loadgen exited ${code}:\n${lg.text().slice(-3000)}`);
    expect(applied.summary).toMatchObject({ connected: N, applied: N });
    // one push each
    expect(applied.summary.remote_configs).toBe(N);

    const members = await until('all 500 agents APPLIED in Ampora', async () => {
      const list = await ampora.agents(`groupId=${group.id}`);
      return list.length === N && list.every((a) => a.remoteConfigStatus === 'APPLIED') ? list : undefined;
    }, 120_000, 1000);
    expect(members).toHaveLength(N);
    const uids = readFileSync(join(dir, 'uids'), 'utf8').trim().split('\n');
    rmSync(dir, { recursive: true, force: true });
    expect(new Set(members.map((a) => uidHex(a.instanceUid)))).toEqual(new Set(uids));
  }, 600_000);
});
