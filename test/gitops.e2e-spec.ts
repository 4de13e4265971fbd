import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobProducer } from '@ampora/platform';
import { GITOPS_QUEUE } from '@ampora/gitops';
import { captureLogs, collectMetric, eventually, LogCapture, OtlpReceiver } from '@ampora/testing';
import { collectorYaml, GitFixture } from '../libs/gitops/test/git-fixture';
import { createToken, startTestServer, TestServer } from './support/test-server';

const PAT = 'glpat-NeverShowThisToken0123456789';

/**
 * GitOps through the REST API with the worker's processors in the process: sources (Admin only),
 * webhook-triggered sweeps landing versions, runs, pause and resume, and the problem codes.
 */
describe('GitOps over REST', () => {
  let server: TestServer;
  let logs: LogCapture;
  let operator: string;
  let dataDir: string;
  const repos: GitFixture[] = [];
  const otlp = new OtlpReceiver();

  beforeAll(async () => {
    logs = captureLogs('Information');
    await otlp.start();
    dataDir = mkdtempSync(join(tmpdir(), 'ampora-gitops-e2e-'));
    server = await startTestServer({ withWorker: true, env: { AMPORA_DATA_DIR: dataDir, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url } });
    operator = await createToken(server, 'Operator');
  });
  afterAll(async () => {
    await server.close();
    await otlp.stop();
    for (const r of repos) r.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function repo(): GitFixture {
    const r = new GitFixture();
    repos.push(r);
    return r;
  }

  async function createSource(body: Record<string, unknown>) {
    return (await server.as().post('/api/gitops/sources').send(body).expect(201)).body as { id: string; lastSyncedSha: string | null };
  }

  async function versionsOf(name: string): Promise<Array<{ number: number }>> {
    const list = await server.as().get('/api/configurations?limit=500').expect(200);
    const c = (list.body.items as Array<{ id: string; name: string }>).find((x) => x.name === name);
    if (!c) return [];
    return (await server.as().get(`/api/configurations/${c.id}/versions`).expect(200)).body.items;
  }

  /** Waits until the configuration has `count` versions (polling every `intervalMs`). */
  async function waitVersions(name: string, count: number, intervalMs = 50): Promise<void> {
    await eventually(async () => (await versionsOf(name)).length === count, 10000, intervalMs);
  }

  it('creates a source, answers it without the credential, and keeps it Admin-only', async () => {
    const res = await server.as().post('/api/gitops/sources').send({ name: 'with-pat', repositoryUrl: 'https://git.example.test/acme/configs.git', credentialKind: 'Pat', credential: PAT, pollIntervalSeconds: 900 }).expect(201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'with-pat', branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'Pat', hasCredential: true, pollIntervalSeconds: 900, status: 'Active', lastSyncedSha: null });
    const listed = await server.as().get('/api/gitops/sources').expect(200);
    const one = await server.as().get(`/api/gitops/sources/${res.body.id}`).expect(200);
    const audit = await server.as().get('/api/audit/events?limit=50').expect(200);
    for (const body of [res.body, listed.body, one.body, audit.body]) expect(JSON.stringify(body)).not.toContain(PAT);

    const refused = await server.as(operator).get('/api/gitops/sources').expect(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    await server.as(operator).post('/api/gitops/sources').send({ name: 'x', repositoryUrl: 'file:///x' }).expect(403);
    await server.as().delete(`/api/gitops/sources/${res.body.id}`).expect(204);
    await server.as().get(`/api/gitops/sources/${res.body.id}`).expect(404);
    expect(logs.lines.join('\n')).not.toContain(PAT);
  });

  it('answers bad sources with problem codes', async () => {
    const invalid = await server.as().post('/api/gitops/sources').send({ name: 'bad', repositoryUrl: 'http://plain.example/x.git' }).expect(422);
    expect(invalid.body).toMatchObject({ code: 'GIT_SOURCE_INVALID', status: 422 });
    const glob = await server.as().post('/api/gitops/sources').send({ name: 'bad', repositoryUrl: 'file:///x', pathGlob: '../*.yaml' }).expect(422);
    expect(glob.body.code).toBe('GIT_SOURCE_INVALID');
    const interval = await server.as().post('/api/gitops/sources').send({ name: 'bad', repositoryUrl: 'file:///x', pollIntervalSeconds: 5 }).expect(400);
    expect(interval.body.code).toBe('VALIDATION_FAILED');
    await createSource({ name: 'taken', repositoryUrl: 'file:///x' });
    const taken = await server.as().post('/api/gitops/sources').send({ name: 'taken', repositoryUrl: 'file:///y' }).expect(409);
    expect(taken.body.code).toBe('GIT_SOURCE_NAME_TAKEN');
  });

  it('sweeps on a webhook, lists runs and files, pauses and resumes, and refuses API edits of imported configurations', async () => {
    const r = repo().write({ 'hooked.yaml': collectorYaml() });
    const firstTip = r.commit();
    const s = await createSource({ name: 'hooked-source', repositoryUrl: r.url, pollIntervalSeconds: 3600 });
    // the scheduler's first tick imports at once
    await waitVersions('hooked', 1);

    await server.http.post(`/api/git/webhook/${s.id}`).expect(401);
    const { body: token } = await server.as().post(`/api/gitops/sources/${s.id}/webhook-token`).expect(201);
    expect(token.token).toMatch(/^amp-wh\./);
    const missing = await server.http.post(`/api/git/webhook/${s.id}`).expect(401);
    expect(missing.body.code).toBe('GIT_WEBHOOK_UNAUTHORIZED');
    await server.http.post(`/api/git/webhook/${s.id}`).set('X-Ampora-Webhook-Token', `${token.token}x`).expect(401);
    expect(JSON.stringify((await server.as().get(`/api/gitops/sources/${s.id}`).expect(200)).body)).not.toContain(token.token);

    r.write({ 'hooked.yaml': collectorYaml('otlp') });
    const tip = r.commit('second');
    // a GitHub-style form body, ignored
    await server.http.post(`/api/git/webhook/${s.id}`).set('X-Ampora-Webhook-Token', token.token).type('form').send('payload=%7B%7D').expect(202);
    await waitVersions('hooked', 2);

    const runs = (await server.as().get(`/api/gitops/sources/${s.id}/runs`).expect(200)).body.items as Array<{ tipSha: string; filesImported: number; trigger: string }>;
    expect(runs[0]).toMatchObject({ tipSha: tip, filesImported: 1, trigger: 'webhook' });
    expect(runs[runs.length - 1]).toMatchObject({ tipSha: firstTip });
    const files = (await server.as().get(`/api/gitops/sources/${s.id}/files`).expect(200)).body.items;
    expect(files).toEqual([expect.objectContaining({ path: 'hooked.yaml', configurationName: 'hooked', commitSha: tip, status: 'tracked' })]);

    const configurationId = files[0].configurationId as string;
    const managed = await server.as().post(`/api/configurations/${configurationId}/versions`).send({ yaml: collectorYaml() }).expect(409);
    expect(managed.body.code).toBe('configuration_managed_by_git');

    const paused = await server.as().post(`/api/gitops/sources/${s.id}/pause`).expect(200);
    expect(paused.body.status).toBe('Paused');
    expect((await server.as().post(`/api/gitops/sources/${s.id}/pause`).expect(409)).body.code).toBe('GIT_SOURCE_ALREADY_PAUSED');
    expect((await server.as().post(`/api/gitops/sources/${s.id}/sync`).expect(409)).body.code).toBe('GIT_SOURCE_PAUSED');
    const ignored = await server.http.post(`/api/git/webhook/${s.id}`).set('X-Ampora-Webhook-Token', token.token).expect(202);
    expect(ignored.body).toEqual({ sourceId: s.id, accepted: false });
    await server.as().post(`/api/gitops/sources/${s.id}/resume`).expect(200);
    r.write({ 'hooked.yaml': collectorYaml('otlphttp') });
    r.commit('third');
    const sync = await server.as().post(`/api/gitops/sources/${s.id}/sync`).expect(202);
    await waitVersions('hooked', 3);
    // an operator's sync request is audited, with the sweep it asked for (decision 0361)
    const requested = await server.as().get(`/api/audit/events?entityId=${s.id}&action=SyncRequested`).expect(200);
    expect(requested.body.items).toEqual([expect.objectContaining({ entityType: 'GitSource', action: 'SyncRequested', additional: { jobId: sync.body.jobId, trigger: 'manual' } })]);
  });

  it('lands a webhook-triggered version in under 2 s (median of 10) and imports once for 20 concurrent webhooks and a tick', async () => {
    const r = repo().write({ 'fast.yaml': collectorYaml() });
    r.commit();
    const s = await createSource({ name: 'fast-source', repositoryUrl: r.url, pollIntervalSeconds: 3600 });
    await waitVersions('fast', 1);
    const { body: token } = await server.as().post(`/api/gitops/sources/${s.id}/webhook-token`).expect(201);

    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      r.write({ 'fast.yaml': collectorYaml(`debug/${i}`) });
      r.commit(`change ${i}`);
      const started = Date.now();
      await server.http.post(`/api/git/webhook/${s.id}`).set('X-Ampora-Webhook-Token', token.token).expect(202);
      await waitVersions('fast', i + 2, 20);
      latencies.push(Date.now() - started);
    }
    const median = [...latencies].sort((a, b) => a - b)[5]!;
    // eslint-disable-next-line no-console
    console.log(`GitOps webhook → version latency, ms: median ${median}, all ${latencies.join(' ')}`);
    expect(median).toBeLessThan(2000);

    r.write({ 'fast.yaml': collectorYaml('otlp/burst') });
    r.commit('burst');
    const queue = server.app.get(JobProducer).queue(GITOPS_QUEUE.name);
    await Promise.all([
      ...Array.from({ length: 20 }, () => server.http.post(`/api/git/webhook/${s.id}`).set('X-Ampora-Webhook-Token', token.token).expect(202)),
      queue.add(GITOPS_QUEUE.jobs.sweep, { tenantId: undefined, trace: {}, payload: { sourceId: s.id, trigger: 'schedule' } }),
    ]);
    await waitVersions('fast', 12);
    await eventually(async () => Object.values(await queue.getJobCounts('waiting', 'active')).every((n) => n === 0), 10000);
    expect(await versionsOf('fast')).toHaveLength(12);
    const runs = (await server.as().get(`/api/gitops/sources/${s.id}/runs?limit=100`).expect(200)).body.items as Array<{ filesImported: number }>;
    expect(runs.filter((x) => x.filesImported > 0)).toHaveLength(12);
  });

  it('counts sweeps, their duration, imported files and refused webhooks, and traces gitops.sync', async () => {
    const r = repo().write({ 'observed.yaml': collectorYaml() });
    const tip = r.commit();
    const s = await createSource({ name: 'observed-source', repositoryUrl: r.url, pollIntervalSeconds: 3600 });
    await waitVersions('observed', 1);
    const labels = { source: 'observed-source' };
    await eventually(async () => (await collectMetric('ampora_gitops_sync_runs_total', { ...labels, outcome: 'success' })) === 1, 5000);
    expect(await collectMetric('ampora_gitops_files_imported_total', labels)).toBe(1);
    expect(await collectMetric('ampora_gitops_sync_duration_seconds', labels)).toBeGreaterThanOrEqual(1);
    const rejectedBefore = await collectMetric('ampora_gitops_webhook_rejected_total', { reason: 'missing_token' });
    await server.http.post(`/api/git/webhook/${s.id}`).expect(401);
    expect(await collectMetric('ampora_gitops_webhook_rejected_total', { reason: 'missing_token' })).toBe(rejectedBefore + 1);
    const span = await eventually(() => otlp.spans.find((x) => x.name === 'gitops.sync' && x.attributes['source.id'] === s.id && x.attributes['tip.sha'] === tip), 15000);
    expect(span).toBeDefined();
  });
});
