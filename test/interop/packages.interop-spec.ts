import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { Ampora, ExtensionCollector, killAllPeers, peer, peerDir, PeerProcess, until } from './support/interop-kit';
import { allTargets, createRollout, createStaticGroup, expectStatus, publishVersions, waitState } from '../support/rollout-kit';

/**
 * Issue 20 items 3 and 4 against real peers: agents built on opamp-go's client library and its
 * package syncer (test/interop/pkgagent) are offered a package, download it from Ampora's signed URL,
 * verify it with the publisher's ed25519 key and report it Installed; a package with a bad signature
 * is refused by the agent and reported Failed with the error. Agent upgrades are rolled out to them
 * like configurations (decision 0375): the worker's engine assigns each step's agents, the offer is
 * pushed through the backplane to the server holding their sessions (decision 0376), a target is
 * Applied when its agent reports the version Installed and Failed when it refuses a bad signature,
 * which the apply-failed gate pauses on. And a Collector with the opamp
 * extension, whose reported components lack the exporter a version uses, is caught before the push.
 */
describe('packages and available components (interop)', () => {
  let ampora: Ampora;
  const publisher = generateKeyPairSync('ed25519');
  const impostor = generateKeyPairSync('ed25519');
  const publisherRaw = publisher.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
  const collectors: ExtensionCollector[] = [];

  beforeAll(async () => {
    peer('pkgagent');
    ampora = await Ampora.start({ env: { AMPORA_PACKAGES_RECHECK_SECONDS: '1', AMPORA_DATA_DIR: peerDir('ampora-pkg-data-') } });
    // the download URLs must name this server (AMPORA_PUBLIC_URL defaults to localhost:<port>, which is the same here)
  }, 300_000);
  afterAll(async () => {
    await Promise.all(collectors.map((c) => c.close()));
    await killAllPeers();
    await ampora?.stop();
  });

  async function upload(name: string, version: string, content: Buffer, key: typeof publisher.privateKey): Promise<void> {
    const res = await fetch(`${ampora.baseUrl}/api/packages/${name}/versions/${version}?type=TopLevel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ampora.adminToken}`, 'content-type': 'application/octet-stream', 'ampora-package-signature': sign(null, content, key).toString('base64') },
      body: content,
    });
    expect(res.status).toBe(201);
  }

  /** Starts an opamp-go package agent in a new group (or `groupId`); answers its agent id and process. */
  async function pkgAgent(tag: string, groupId?: string): Promise<{ id: string; groupId: string; proc: PeerProcess }> {
    const group = groupId ? { id: groupId } : await createStaticGroup(ampora.api, `interop-pkg-${tag}`);
    const before = new Set((await ampora.agents(`groupId=${group.id}`)).map((a) => a.id));
    const token = await ampora.bootstrapToken(`pkgagent-${tag}`, { groupId: group.id });
    const proc = new PeerProcess(`pkgagent-${tag}`, peer('pkgagent'), ['-url', ampora.wsUrl, '-token', token, '-publisher', publisherRaw, '-dir', peerDir('ampora-pkgagent-'), '-name', `pkg-${tag}`, '-heartbeat', '1s']);
    const id = await until(`pkgagent ${tag} enrolled`, async () => (await ampora.agents(`groupId=${group.id}`)).find((a) => !before.has(a.id))?.id, 60_000);
    return { id, groupId: group.id, proc };
  }

  async function packageState(id: string, state: string): Promise<Record<string, unknown>> {
    return until(`agent ${id} reports ${state}`, async () => {
      const body = (await expectStatus(ampora.api, 'GET', `/api/agents/${id}/packages`, 200)).body;
      return (body.statuses?.packages as Array<Record<string, unknown>> | undefined)?.find((p) => p.state === state);
    }, 60_000);
  }

  it('an opamp-go agent downloads, verifies and reports a signed package Installed; a bad signature is refused and reported Failed', async () => {
    const good = Buffer.from(`collector build ${randomUUID()}`);
    await upload('otelcol', '1.0.0', good, publisher.privateKey);
    const forged = Buffer.from(`collector build ${randomUUID()} (forged)`);
    await upload('otelcol', '1.0.1', forged, impostor.privateKey);

    const a = await pkgAgent('good');
    await expectStatus(ampora.api, 'POST', '/api/packages/otelcol/versions/1.0.0/assign', 200, { groupId: a.groupId });
    const installed = await packageState(a.id, 'Installed');
    expect(installed).toMatchObject({ name: 'otelcol', agentHasVersion: '1.0.0', error: null });
    expect(a.proc.text()).toContain('"event":"installed"');

    const b = await pkgAgent('forged');
    await expectStatus(ampora.api, 'POST', '/api/packages/otelcol/versions/1.0.1/assign', 200, { groupId: b.groupId });
    const failed = await packageState(b.id, 'Failed');
    expect(failed).toMatchObject({ name: 'otelcol', serverOfferedVersion: '1.0.1', error: expect.stringContaining('signature verification failed') });
    expect(b.proc.text()).toContain('"reason":"signature"');
    expect(b.proc.text()).not.toContain('"event":"installed"');
  }, 240_000);

  it('an agent upgrade rolled out to opamp-go agents: Applied when they report it Installed; a forged version refused, reported Failed and paused by the gate', async () => {
    const good = Buffer.from(`collector build ${randomUUID()} 2.0.0`);
    await upload('otelcol-up', '2.0.0', good, publisher.privateKey);
    const forged = Buffer.from(`collector build ${randomUUID()} 2.0.1 (forged)`);
    await upload('otelcol-up', '2.0.1', forged, impostor.privateKey);
    const first = await pkgAgent('up-a');
    const second = await pkgAgent('up-b', first.groupId);
    const agents = [first, second];

    const upgrade = await createRollout(ampora.api, { name: 'interop upgrade', package: { name: 'otelcol-up', version: '2.0.0' }, groupId: first.groupId, strategy: { type: 'Percentage', steps: [50, 100] }, autoAdvance: true });
    await expectStatus(ampora.api, 'POST', `/api/rollouts/${upgrade.id}/start`, 200);
    const done = await waitState(ampora.api, upgrade.id, 'Completed', 120_000);
    expect(done.counts).toMatchObject({ applied: 2, failed: 0, skipped: 0 });
    expect(new Set((await allTargets(ampora.api, upgrade.id)).map((t) => t.step))).toEqual(new Set([0, 1]));
    for (const a of agents) {
      expect(await packageState(a.id, 'Installed')).toMatchObject({ name: 'otelcol-up', agentHasVersion: '2.0.0' });
      expect(a.proc.text()).toContain('"event":"installed"');
    }

    const bad = await createRollout(ampora.api, { name: 'interop forged upgrade', package: { name: 'otelcol-up', version: '2.0.1' }, groupId: first.groupId, strategy: { type: 'Percentage', steps: [50, 100] }, autoAdvance: true, gates: { applyFailedRatio: 0 } });
    await expectStatus(ampora.api, 'POST', `/api/rollouts/${bad.id}/start`, 200);
    const paused = await waitState(ampora.api, bad.id, 'Paused', 120_000);
    expect(paused.gate).toMatchObject({ gate: 'apply-failed-ratio', step: 0, numerator: 1, denominator: 1 });
    const [target] = (await allTargets(ampora.api, bad.id)).filter((t) => t.step === 0);
    expect(target).toMatchObject({ state: 'Failed', reason: expect.stringContaining('signature verification failed') });
    const refused = agents.find((a) => a.id === target!.agentId)!;
    expect(await packageState(refused.id, 'Failed')).toMatchObject({ name: 'otelcol-up', serverOfferedVersion: '2.0.1' });
    expect(refused.proc.text()).toContain('"reason":"signature"');
    // the other agent, in the next step, was never offered the forged version
    const other = agents.find((a) => a !== refused)!;
    expect((await expectStatus(ampora.api, 'GET', `/api/agents/${other.id}/packages`, 200)).body.assigned).toEqual([expect.objectContaining({ name: 'otelcol-up', version: '2.0.0' })]);
  }, 300_000);

  it('a Collector lacking an exporter the version uses is caught before the push (validation against its group)', async () => {
    const group = await createStaticGroup(ampora.api, 'interop-components');
    const token = await ampora.bootstrapToken('components', { groupId: group.id });
    const instanceUid = randomUUID();
    const col = new ExtensionCollector({ endpoint: ampora.wsUrl, token, instanceUid });
    collectors.push(col);
    col.start();
    const found = await ampora.agentByUid(instanceUid, 120_000);
    await ampora.waitAgent(found.id, 'its available components', (x) => ((x as unknown as { availableComponents?: { subComponents?: { exporters?: string[] } } }).availableComponents?.subComponents?.exporters?.length ?? 0) > 0);
    // it keeps the Collector's nop exporter (no exporter swap for the policies) and adds kafka, which this Collector does not have
    const [v] = await publishVersions(ampora.api, [`receivers:\n  otlp:\n    protocols:\n      http: {}\nexporters:\n  nop: {}\n  kafka: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [nop, kafka]\n`]);
    const findings = (await expectStatus(ampora.api, 'GET', `/api/configurations/${v!.configurationId}/versions/${v!.number}/findings?groupId=${group.id}`, 200)).body.findings;
    expect(findings).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'Error', code: 'COMPONENT_UNAVAILABLE', path: 'exporters.kafka', message: expect.stringContaining(found.id) })]));
    // and at the push: a one-agent assignment is refused
    const refused = await expectStatus(ampora.api, 'POST', `/api/agents/${found.id}/assign`, 422, { configurationId: v!.configurationId, version: v!.number });
    expect(refused.body.code).toBe('PUSH_COMPONENT_UNAVAILABLE');
  }, 240_000);
});
