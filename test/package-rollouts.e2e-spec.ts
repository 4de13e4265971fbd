import { createHash, generateKeyPairSync, randomUUID, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentCapability, eventually, TestAgent } from '@ampora/testing';
import { act, allTargets, createRollout, createStaticGroup, expectStatus, getRollout, rolloutAudit, waitState } from './support/rollout-kit';
import { rolloutsEndToEnd } from './support/rollouts-e2e';

const ACCEPTS_PACKAGES = 0x8;
const REPORTS_PACKAGE_STATUSES = 0x10;
const INSTALLED = 0;
const INSTALL_FAILED = 3;
const PACKAGE_CAPS = AgentCapability.ReportsStatus | AgentCapability.ReportsHeartbeat | AgentCapability.ReportsHealth | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES;

interface OfferedPackage {
  type?: number;
  version: string;
  hash: Buffer;
  file: { download_url: string; content_hash: Buffer; signature?: Buffer };
}
interface PackagesAvailable {
  packages: Record<string, OfferedPackage>;
  all_packages_hash: Buffer;
}

/**
 * Agent upgrades rolled out like configurations (issue 20 item 4, decisions 0333, 0375 and 0376), end
 * to end on real PostgreSQL and Redis with the server and every worker module in this process. The
 * agents are simulated WebSocket agents that accept packages and never heartbeat (the package recheck
 * is an hour): every offer they get was pushed to them when their assignment changed. Each one does
 * what opamp-go's package syncer does: downloads from the offered URL, checks the sha256 and the
 * publisher's ed25519 signature, and reports Installed, or Failed with the error.
 */
describe('package rollouts (agent upgrades)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ampora-pkg-rollouts-'));
  const e2e = rolloutsEndToEnd({ AMPORA_DATA_DIR: dataDir, AMPORA_PACKAGES_RECHECK_SECONDS: '3600' });
  const publisher = generateKeyPairSync('ed25519');
  const impostor = generateKeyPairSync('ed25519');
  const sims: PackageSim[] = [];
  afterAll(async () => {
    for (const s of sims) await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A simulated agent that installs what it is offered (in the background) and reports it. */
  class PackageSim {
    id = '';
    readonly offers: PackagesAvailable[] = [];
    readonly installed = new Map<string, string>();
    private stopped = false;
    private loop?: Promise<void>;
    constructor(readonly agent: TestAgent) {}

    start(): void {
      this.loop = (async () => {
        while (!this.stopped) {
          const m = await this.agent.next(300).catch(() => undefined);
          const offer = (m as { packages_available?: PackagesAvailable } | undefined)?.packages_available;
          if (offer) await this.install(offer);
        }
      })();
    }

    private async install(offer: PackagesAvailable): Promise<void> {
      this.offers.push(offer);
      const packages: Record<string, unknown> = {};
      for (const [name, p] of Object.entries(offer.packages)) {
        const had = this.installed.get(name) ?? '';
        if (had === p.version) {
          packages[name] = { name, agent_has_version: had, agent_has_hash: p.hash, server_offered_version: p.version, server_offered_hash: p.hash, status: INSTALLED };
          continue;
        }
        const url = new URL(p.file.download_url);
        const res = await fetch(`${e2e.server.url}${url.pathname}${url.search}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        let error = '';
        if (res.status !== 200) error = `download failed: ${res.status}`;
        else if (!createHash('sha256').update(bytes).digest().equals(p.file.content_hash)) error = 'content hash mismatch';
        else if (!verify(null, bytes, publisher.publicKey, p.file.signature ?? Buffer.alloc(0))) error = 'signature verification failed';
        if (!error) this.installed.set(name, p.version);
        packages[name] = error
          ? { name, agent_has_version: had, server_offered_version: p.version, server_offered_hash: p.hash, status: INSTALL_FAILED, error_message: error }
          : { name, agent_has_version: p.version, agent_has_hash: p.hash, server_offered_version: p.version, server_offered_hash: p.hash, status: INSTALLED };
      }
      this.agent.send({ package_statuses: { server_provided_all_packages_hash: offer.all_packages_hash, packages } });
    }

    async close(): Promise<void> {
      this.stopped = true;
      await this.loop;
      await this.agent.close();
    }
  }

  async function upload(name: string, version: string, key = publisher.privateKey): Promise<void> {
    const content = Buffer.from(`${name} ${version} ${randomUUID()}`);
    await e2e.server
      .as(e2e.server.adminToken)
      .post(`/api/packages/${name}/versions/${version}?type=TopLevel`)
      .set('content-type', 'application/octet-stream')
      .set('Ampora-Package-Signature', sign(null, content, key).toString('base64'))
      .send(content)
      .expect(201);
  }

  /** `count` package agents (and `others` that do not accept packages) in a new group. */
  async function group(count: number, others = 0): Promise<{ groupId: string; sims: PackageSim[]; others: string[] }> {
    const g = await createStaticGroup(e2e.api);
    const made: PackageSim[] = [];
    for (let i = 0; i < count + others; i++) {
      const token = (await expectStatus(e2e.api, 'POST', '/api/bootstrap-tokens', 201, { label: `pkg ${i}`, groupId: g.id })).body.token as string;
      const agent = new TestAgent({ url: e2e.wsUrl, token, capabilities: i < count ? PACKAGE_CAPS : AgentCapability.ReportsStatus | AgentCapability.ReportsHeartbeat, nonIdentifying: { 'host.name': `pkg-${i}` } });
      await agent.connect();
      agent.hello({ health: { healthy: true } });
      await agent.next(10000);
      const sim = new PackageSim(agent);
      sims.push(sim);
      made.push(sim);
    }
    const items = await eventually(async () => {
      const list = (await expectStatus(e2e.api, 'GET', `/api/agents?groupId=${g.id}`, 200)).body.items as Array<{ id: string; instanceUid: string }>;
      return list.length === count + others ? list : undefined;
    }, 20000);
    for (const s of made) s.id = items.find((a) => a.instanceUid.replace(/-/g, '') === s.agent.uid.toString('hex'))!.id;
    for (const s of made) s.start();
    return { groupId: g.id, sims: made.slice(0, count), others: made.slice(count).map((s) => s.id) };
  }

  const assignedVersion = async (agentId: string, name: string): Promise<string | undefined> =>
    ((await expectStatus(e2e.api, 'GET', `/api/agents/${agentId}/packages`, 200)).body.assigned as Array<{ name: string; version: string }>).find((a) => a.name === name)?.version;

  it('offers an assigned package to connected agents at once, without waiting for their next frame', async () => {
    await upload('otelcol-now', '1.0.0');
    const { groupId, sims: agents } = await group(2);
    const assigned = (await expectStatus(e2e.api, 'POST', '/api/packages/otelcol-now/versions/1.0.0/assign', 200, { groupId })).body;
    expect(assigned).toMatchObject({ agents: 2, delivery: expect.objectContaining({ delivered: 2 }) });
    // the agents never send a frame after their hello: the offer came on its own
    await eventually(async () => agents.every((s) => s.installed.get('otelcol-now') === '1.0.0'), 15000);
    for (const s of agents) expect(s.offers.map((o) => o.packages['otelcol-now']?.version)).toEqual(['1.0.0']);
    const state = await eventually(async () => {
      const p = (await expectStatus(e2e.api, 'GET', `/api/agents/${agents[0]!.id}/packages`, 200)).body.statuses?.packages?.[0];
      return p?.state === 'Installed' ? p : undefined;
    }, 10000);
    expect(state).toMatchObject({ name: 'otelcol-now', agentHasVersion: '1.0.0' });
  });

  it('rolls an agent upgrade out step by step: each target Applied once its agent reports the version Installed; agents without AcceptsPackages Skipped', async () => {
    await upload('otelcol', '1.0.0');
    await upload('otelcol', '1.1.0');
    const { groupId, sims: agents, others } = await group(4, 1);
    await expectStatus(e2e.api, 'POST', '/api/packages/otelcol/versions/1.0.0/assign', 200, { groupId });
    await eventually(async () => agents.every((s) => s.installed.get('otelcol') === '1.0.0'), 15000);

    const created = await createRollout(e2e.api, { name: 'upgrade otelcol', package: { name: 'otelcol', version: '1.1.0' }, groupId, strategy: { type: 'Percentage', steps: [40, 100] }, autoAdvance: true, ordering: 'hostname' });
    expect(created).toMatchObject({ subject: 'package', package: { name: 'otelcol', version: '1.1.0' }, configurationId: null, version: null, state: 'Pending' });
    // nothing is offered before the start
    await new Promise((r) => setTimeout(r, 500));
    expect(agents.every((s) => s.installed.get('otelcol') === '1.0.0')).toBe(true);
    await act(e2e.api, created.id, 'start');
    const done = await waitState(e2e.api, created.id, 'Completed', 60000);
    expect(done.counts).toMatchObject({ applied: 4, skipped: 1, failed: 0 });
    const targets = await allTargets(e2e.api, created.id);
    expect(new Set(targets.map((t) => t.step))).toEqual(new Set([0, 1]));
    expect(targets.find((t) => t.agentId === others[0])).toMatchObject({ state: 'Skipped', reason: expect.stringContaining('AcceptsPackages') });
    expect(targets.filter((t) => t.state === 'Applied').every((t) => t.appliedAt && t.pushedAt)).toBe(true);
    for (const s of agents) {
      expect(s.installed.get('otelcol')).toBe('1.1.0');
      expect(await assignedVersion(s.id, 'otelcol')).toBe('1.1.0');
    }
    const actions = (await rolloutAudit(e2e.api, created.id)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['Created', 'Completed']));
  });

  it('a version with a bad signature is refused by the agents, reported Failed, pauses the rollout by the apply-failed gate, and a rollback puts the previous version back', async () => {
    await upload('otelcol-b', '2.0.0');
    await upload('otelcol-b', '2.0.1', impostor.privateKey);
    const { groupId, sims: agents } = await group(4);
    await expectStatus(e2e.api, 'POST', '/api/packages/otelcol-b/versions/2.0.0/assign', 200, { groupId });
    await eventually(async () => agents.every((s) => s.installed.get('otelcol-b') === '2.0.0'), 15000);

    const created = await createRollout(e2e.api, {
      name: 'forged upgrade',
      package: { name: 'otelcol-b', version: '2.0.1' },
      groupId,
      strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 30 }, { percent: 100, dwellSeconds: 0 }] },
      gates: { applyFailedRatio: 0 },
      ordering: 'hostname',
    });
    await act(e2e.api, created.id, 'start');
    const paused = await waitState(e2e.api, created.id, 'Paused', 60000);
    expect(paused.gate).toMatchObject({ gate: 'apply-failed-ratio', step: 0 });
    const targets = await allTargets(e2e.api, created.id);
    const failed = targets.filter((t) => t.state === 'Failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const t of failed) expect(t.reason).toBe('signature verification failed');
    // the gate paused at the first failure: the step's other agent may still be installing (the rollout no longer judges it)
    const touched = new Set(targets.filter((t) => t.step === 0).map((t) => t.agentId));
    expect(targets.every((t) => t.step === 0)).toBe(true);
    // the agents of the next step were never offered the forged version
    for (const s of agents.filter((a) => !touched.has(a.id))) {
      expect(s.offers.some((o) => o.packages['otelcol-b']?.version === '2.0.1')).toBe(false);
      expect(await assignedVersion(s.id, 'otelcol-b')).toBe('2.0.0');
    }
    for (const s of agents.filter((a) => touched.has(a.id))) expect(await assignedVersion(s.id, 'otelcol-b')).toBe('2.0.1');

    const rolledBack = await act(e2e.api, created.id, 'rollback');
    expect(rolledBack.state).toBe('RolledBack');
    expect((await getRollout(e2e.api, created.id)).rollbackId).toBeNull();
    // the touched agents are assigned 2.0.0 again and offered it at once
    for (const s of agents.filter((a) => touched.has(a.id))) {
      expect(await assignedVersion(s.id, 'otelcol-b')).toBe('2.0.0');
      await eventually(async () => s.offers.at(-1)?.packages['otelcol-b']?.version === '2.0.0', 10000);
    }
    const statuses = await eventually(async () => {
      const p = (await expectStatus(e2e.api, 'GET', `/api/agents/${[...touched][0]}/packages`, 200)).body.statuses?.packages?.[0];
      return p?.state === 'Installed' ? p : undefined;
    }, 10000);
    expect(statuses).toMatchObject({ agentHasVersion: '2.0.0' });
    const audit = await rolloutAudit(e2e.api, created.id);
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['Created', 'RolledBack']));
  });

  it('refuses a rollout naming both a configuration and a package, or a package version that does not exist', async () => {
    const g = await createStaticGroup(e2e.api);
    const both = await expectStatus(e2e.api, 'POST', '/api/rollouts', 400, { name: 'x', groupId: g.id, configurationId: randomUUID(), version: 1, package: { name: 'otelcol', version: '1.1.0' } });
    expect(both.body.code).toBeDefined();
    const missing = await expectStatus(e2e.api, 'POST', '/api/rollouts', 404, { name: 'x', groupId: g.id, package: { name: 'otelcol', version: '9.9.9' } });
    expect(missing.body.code).toBe('PACKAGE_VERSION_NOT_FOUND');
  });
});

/**
 * The engine's schedule is ten minutes here: a package rollout moves on because its agents' package
 * statuses kick its tick (decision 0375), once the state writer has written them.
 */
describe('package rollouts move on the agents\' reports, not the schedule', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ampora-pkg-rollouts-kick-'));
  const e2e = rolloutsEndToEnd({ AMPORA_DATA_DIR: dataDir, AMPORA_PACKAGES_RECHECK_SECONDS: '3600', AMPORA_ROLLOUT_TICK_MS: '600000' });
  const publisher = generateKeyPairSync('ed25519');
  const agents: TestAgent[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('completes a one-step upgrade within seconds of the agents reporting it Installed', async () => {
    const content = Buffer.from(`otelcol ${randomUUID()}`);
    await e2e.server.as(e2e.server.adminToken).post('/api/packages/otelcol/versions/3.0.0?type=TopLevel').set('content-type', 'application/octet-stream').set('Ampora-Package-Signature', sign(null, content, publisher.privateKey).toString('base64')).send(content).expect(201);
    const g = await createStaticGroup(e2e.api);
    for (let i = 0; i < 2; i++) {
      const token = (await expectStatus(e2e.api, 'POST', '/api/bootstrap-tokens', 201, { label: `kick ${i}`, groupId: g.id })).body.token as string;
      const agent = new TestAgent({ url: e2e.wsUrl, token, capabilities: PACKAGE_CAPS });
      agents.push(agent);
      await agent.connect();
      agent.hello();
      await agent.next(10000);
    }
    await eventually(async () => ((await expectStatus(e2e.api, 'GET', `/api/agents?groupId=${g.id}`, 200)).body.items.length === 2 ? true : undefined), 20000);
    const created = await createRollout(e2e.api, { name: 'kicked', package: { name: 'otelcol', version: '3.0.0' }, groupId: g.id, strategy: { type: 'Percentage', steps: [100] } });
    await act(e2e.api, created.id, 'start');
    // each agent reports the version Installed two seconds after it was offered it (no download needed
    // here): after the start's ticks are over, so only a kick can judge the answers before the schedule
    await Promise.all(
      agents.map(async (agent) => {
        const m = (await agent.nextMatching((x) => Boolean((x as { packages_available?: unknown }).packages_available), 20000)) as { packages_available: PackagesAvailable };
        const p = m.packages_available.packages.otelcol!;
        await new Promise((r) => setTimeout(r, 2000));
        agent.send({ package_statuses: { server_provided_all_packages_hash: m.packages_available.all_packages_hash, packages: { otelcol: { name: 'otelcol', agent_has_version: p.version, agent_has_hash: p.hash, server_offered_version: p.version, server_offered_hash: p.hash, status: INSTALLED } } } });
      }),
    );
    const done = await waitState(e2e.api, created.id, 'Completed', 20000);
    expect(done.counts).toMatchObject({ applied: 2 });
  });
});
