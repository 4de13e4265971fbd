import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry } from '@ampora/platform';
import { FederationListener } from '@ampora/federation';
import { createTestDatabase, eventually, scratch, SseClient, TestAgent, TestDatabase, testEnv } from '@ampora/testing';
import { GitFixture } from '../../libs/gitops/test/git-fixture';
import { act, apiClient, assignGroup, collectorYaml, createRollout, createStaticGroup, enrollAgents, expectStatus, publishVersions, SimAgent, waitState } from '../support/rollout-kit';
import { createToken, startTestServer, TestServer } from '../support/test-server';
import { pairWithItself } from '../support/federation-loop';
import { CONTRACT_SPANS } from './support/contract';

/**
 * The catalogue's spans read from an in-memory exporter (issue 15 item 3, first run): one server with
 * the worker's processors in this process, whose tracer provider also hands every span to an
 * InMemorySpanExporter. The second run, over OTLP/HTTP across processes, is contract.e2e-spec.ts.
 */
describe('catalogue spans, in memory', () => {
  const exporter = new InMemorySpanExporter();
  let db: TestDatabase;
  let server: TestServer;
  const repo = new GitFixture();
  const dataDir = scratch('ampora-spans-data-');
  const closers: Array<() => Promise<unknown> | void> = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    // before the server: startTelemetry runs once per process, so the test server's call is a no-op
    startTelemetry(testEnv(db.url, { AMPORA_INSTANCE_ID: 'in-memory' }).config, 'server', { spanProcessors: [new SimpleSpanProcessor(exporter)] });
    server = await startTestServer({ db, withWorker: true, env: { AMPORA_INSTANCE_ID: 'in-memory', AMPORA_ROLLOUT_TICK_MS: '300', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100', AMPORA_DATA_DIR: dataDir.dir, AMPORA_FEDERATION_PORT: '0', AMPORA_FEDERATION_HOST: '127.0.0.1' } });
  }, 60000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await server?.close();
    await db?.drop();
    repo.close();
    rmSync(dataDir.dir, { recursive: true, force: true });
  });

  const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name);
  const traceOf = (s: ReadableSpan) => s.spanContext().traceId;

  it('records every built catalogue span with its attributes, and the push, its frame and the status in one trace', async () => {
    const api = apiClient(server.url, server.adminToken);
    const ws = `${server.url.replace('http', 'ws')}/v1/opamp`;
    const live = await SseClient.open(`${server.url}/api/live`, { token: server.adminToken });
    closers.push(() => live.close());

    const token = (await expectStatus(api, 'POST', '/api/bootstrap-tokens', 201, { label: 'in-memory' })).body.token as string;
    const agent = new TestAgent({ url: ws, token, autoApply: true });
    closers.push(() => agent.close());
    await agent.connect();
    agent.hello();
    await agent.next();
    const id = await eventually(async () => (await api('GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);

    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${server.url}/api/agents/${id}/assign`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ yaml: 'receivers:\n  otlp: {}\n' }),
    });
    expect(res.status).toBe(200);
    await agent.nextMatching((m) => Boolean(m.remote_config));

    // a rollout the in-process engine completes
    const [v1, v2] = await publishVersions(api, [collectorYaml('mem-v1'), collectorYaml('mem-v2')]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1!);
    const sims: SimAgent[] = await enrollAgents(api, ws, 1, { groupId: group.id, hostPrefix: 'mem' });
    closers.push(() => Promise.all(sims.map((s) => s.close())));
    await eventually(() => sims.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash), 20000);
    const rollout = await createRollout(api, { configurationId: v2!.configurationId, version: v2!.number, groupId: group.id, strategy: { type: 'Percentage', steps: [100] } });
    await act(api, rollout.id, 'start');
    await waitState(api, rollout.id, 'Completed', 30000);

    // a GitOps source on a local repository, swept by the in-process worker
    const tip = repo.write({ 'edge.yaml': collectorYaml('mem-git') }).commit('one collector');
    const source = (await expectStatus(api, 'POST', '/api/gitops/sources', 201, { name: 'in-memory', repositoryUrl: repo.url, pollIntervalSeconds: 3600 })).body as { id: string };
    await expectStatus(api, 'POST', `/api/gitops/sources/${source.id}/sync`, 202);
    await eventually(async () => (await expectStatus(api, 'GET', `/api/gitops/sources/${source.id}`, 200)).body.lastSyncedSha === tip, 30000, 100);

    // a federation call: the server paired with itself pings through its own listener
    const cert = (await expectStatus(api, 'POST', '/api/federation/certificates', 201, { subject: 'in-memory' })).body;
    const port = await eventually(() => server.app.get(FederationListener).port());
    await pairWithItself(api, apiClient(server.url, await createToken(server, 'Admin')), `https://127.0.0.1:${port}`, cert.certificatePem);
    expect((await expectStatus(api, 'GET', '/api/federation/ping?peer=loop-out', 200)).body.ok).toBe(true);

    const missing = await eventually(() => {
      const left = CONTRACT_SPANS.filter((row) => !row.pending && !spans(row.name).some((s) => row.attributes.every((k) => s.attributes[k] !== undefined && s.attributes[k] !== '')));
      return left.length === 0 ? [] : undefined;
    }, 10000, 100).catch(() => CONTRACT_SPANS.filter((row) => !row.pending && !spans(row.name).some((s) => row.attributes.every((k) => s.attributes[k] !== undefined))).map((r) => r.name));
    expect(missing).toEqual([]);

    // one trace: the REST call, the dispatch, the frame sent and the agent's APPLIED report
    const inTrace = exporter.getFinishedSpans().filter((s) => traceOf(s) === traceId).map((s) => s.name);
    expect(inTrace).toEqual(expect.arrayContaining(['POST /api/agents/:id/assign', 'opamp.dispatch', 'opamp.frame_sent']));
    const applied = await eventually(() => spans('opamp.apply_status').find((s) => traceOf(s) === traceId && s.attributes['remote_config.status'] === 'APPLIED'), 5000);
    expect(applied.attributes['agent.id']).toBe(id);
    const dispatch = spans('opamp.dispatch').find((s) => traceOf(s) === traceId)!;
    expect(dispatch.attributes).toMatchObject({ 'dispatch.target_instance': 'in-memory', 'dispatch.outcome': 'delivered' });
    expect(spans('rollout.tick').some((s) => s.attributes['rollout.id'] === rollout.id && typeof s.attributes.state === 'string')).toBe(true);
    expect(spans('gitops.sync').some((s) => s.attributes['source.id'] === source.id && s.attributes['tip.sha'] === tip)).toBe(true);
    expect(spans('live_update.consume').some((s) => String(s.attributes.subscriber).startsWith('sse:'))).toBe(true);
  }, 90000);
});
