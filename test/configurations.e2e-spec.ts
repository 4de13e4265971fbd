import { Client } from 'pg';
import { LiveBus, LiveEvent } from '@ampora/platform';
import { captureLogs, eventually, LogCapture, TestAgent } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

/** A configuration whose exact bytes matter: comments, an anchor and alias, odd spacing, unicode, CRLF-free. */
const YAML = `# edge collectors — production (Zürich)
receivers:
  otlp: &otlp_defaults   # shared settings
    protocols:
      grpc: {}
      http:
        endpoint: "0.0.0.0:4318"
  otlp/legacy: *otlp_defaults
processors:
  memory_limiter: {check_interval: 1s, limit_percentage: 80}
  batch:
    timeout:    5s
exporters:
  otlp:
    endpoint: collector.example:4317
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp, otlp/legacy]
      processors: [memory_limiter, batch]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp, debug]
`;

describe('configurations and versions', () => {
  let server: TestServer;
  let logs: LogCapture;
  let viewer: string;
  let operator: string;
  const events: LiveEvent[] = [];

  beforeAll(async () => {
    logs = captureLogs('Information');
    server = await startTestServer();
    viewer = await createToken(server, 'Viewer');
    operator = await createToken(server, 'Operator');
    server.app.get(LiveBus).subscribe((e) => events.push(e));
  });
  afterAll(() => server.close());
  afterEach(() => {
    // every mutating route wrote exactly one audit event
    expect(logs.find((r) => r.category === 'Ampora.Platform.Audit.Discipline')).toBeUndefined();
  });

  async function configuration(name = `cfg-${Math.random().toString(36).slice(2, 8)}`): Promise<string> {
    const res = await server.as(operator).post('/api/configurations').send({ name, description: 'test' }).expect(201);
    return res.body.id;
  }

  it('creates configurations with unique names and lists them', async () => {
    const id = await configuration('edge-collectors-prod');
    const dup = await server.as(operator).post('/api/configurations').send({ name: 'edge-collectors-prod' }).expect(409);
    expect(dup.body).toMatchObject({ code: 'CONFIGURATION_NAME_TAKEN' });
    expect(dup.headers['content-type']).toContain('application/problem+json');
    const got = (await server.as(viewer).get(`/api/configurations/${id}`).expect(200)).body;
    expect(got).toMatchObject({ id, name: 'edge-collectors-prod', source: 'api', latestVersion: 0, publishedVersion: null, description: 'test' });
    const list = (await server.as(viewer).get('/api/configurations?limit=500').expect(200)).body;
    expect(list.items.map((c: { id: string }) => c.id)).toContain(id);
    await server.as(viewer).post('/api/configurations').send({ name: 'nope' }).expect(403);
    await server.as(viewer).get(`/api/configurations/${crypto.randomUUID()}`).expect(404);
  });

  it('keeps YAML with comments and anchors byte-for-byte, and numbers versions', async () => {
    const id = await configuration();
    const tricky = `${YAML}# trailing comment without newline\t `;
    const v1 = (await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: YAML }).expect(201)).body;
    const v2 = (await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: tricky }).expect(201)).body;
    expect([v1.number, v2.number]).toEqual([1, 2]);
    expect(v1).toMatchObject({ status: 'Draft', yaml: YAML, findings: [], errorCount: 0, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const read = (await server.as(viewer).get(`/api/configurations/${id}/versions/2`).expect(200)).body;
    expect(read.yaml).toBe(tricky);
    expect(Buffer.from(read.yaml, 'utf8').equals(Buffer.from(tricky, 'utf8'))).toBe(true);
    expect(read.hash).not.toBe(v1.hash);
    const list = (await server.as(viewer).get(`/api/configurations/${id}/versions`).expect(200)).body;
    expect(list.items.map((v: { number: number }) => v.number)).toEqual([2, 1]);
    expect(list.items[0].yaml).toBeUndefined();
    expect((await server.as(viewer).get(`/api/configurations/${id}`).expect(200)).body.latestVersion).toBe(2);
    await server.as(viewer).get(`/api/configurations/${id}/versions/3`).expect(404);
    await server.as(viewer).get(`/api/configurations/${id}/versions/zero`).expect(400);
  });

  it('finds an undefined exporter and refuses to publish; warnings do not block', async () => {
    const id = await configuration();
    const broken = YAML.replace('exporters: [otlp, debug]', 'exporters: [otlp, otlp/2]');
    const bad = (await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: broken }).expect(201)).body;
    expect(bad.errorCount).toBe(1);
    expect(bad.findings).toContainEqual(
      expect.objectContaining({ severity: 'Error', code: 'UNDEFINED_COMPONENT', path: 'service.pipelines.metrics.exporters[1]', line: 26, column: 25 }),
    );
    const refused = await server.as(operator).post(`/api/configurations/${id}/versions/${bad.number}/publish`).expect(422);
    expect(refused.body).toMatchObject({ code: 'CONFIGURATION_VERSION_HAS_ERRORS', findings: [expect.objectContaining({ code: 'UNDEFINED_COMPONENT' })] });
    expect((await server.as(viewer).get(`/api/configurations/${id}/versions/${bad.number}`).expect(200)).body.status).toBe('Draft');

    // debug defined but unused: a warning only
    const warned = (await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: YAML.replace('exporters: [otlp, debug]', 'exporters: [otlp]') }).expect(201)).body;
    expect(warned).toMatchObject({ errorCount: 0, warningCount: 1 });
    const published = (await server.as(operator).post(`/api/configurations/${id}/versions/${warned.number}/publish`).expect(200)).body;
    expect(published).toMatchObject({ status: 'Published', publishedAt: expect.any(String) });

    const syntax = (await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: 'receivers:\n  otlp: {\n' }).expect(201)).body;
    expect(syntax.findings[0]).toMatchObject({ severity: 'Error', code: 'YAML_SYNTAX', line: expect.any(Number), column: expect.any(Number) });
  });

  it('never changes a published version: not by the API, not in the database', async () => {
    const id = await configuration();
    const v = (await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: YAML }).expect(201)).body;
    // a Draft can be edited
    const edited = (await server.as(operator).put(`/api/configurations/${id}/versions/1`).send({ yaml: `${YAML}\n` }).expect(200)).body;
    expect(edited.yaml).toBe(`${YAML}\n`);
    await server.as(operator).post(`/api/configurations/${id}/versions/1/publish`).expect(200);
    const put = await server.as(operator).put(`/api/configurations/${id}/versions/1`).send({ yaml: 'receivers: {}\n' }).expect(409);
    expect(put.body.code).toBe('CONFIGURATION_VERSION_IMMUTABLE');
    expect((await server.as(operator).post(`/api/configurations/${id}/versions/1/publish`).expect(409)).body.code).toBe('CONFIGURATION_VERSION_INVALID_TRANSITION');

    const pg = new Client({ connectionString: server.db.url });
    await pg.connect();
    try {
      await expect(pg.query(`UPDATE configuration_versions SET yaml = 'x: 1' WHERE id = $1`, [v.id])).rejects.toThrow(/cannot change/);
      await expect(pg.query(`UPDATE configuration_versions SET status = 'Draft' WHERE id = $1`, [v.id])).rejects.toThrow(/cannot go from Published to Draft/);
    } finally {
      await pg.end();
    }
    expect((await server.as(viewer).get(`/api/configurations/${id}/versions/1`).expect(200)).body.yaml).toBe(`${YAML}\n`);

    await server.as(operator).post(`/api/configurations/${id}/versions/1/archive`).expect(200);
    expect((await server.as(operator).post(`/api/configurations/${id}/versions/1/archive`).expect(409)).body.code).toBe('CONFIGURATION_VERSION_INVALID_TRANSITION');
    expect((await server.as(operator).post(`/api/configurations/${id}/versions/1/publish`).expect(409)).body.code).toBe('CONFIGURATION_VERSION_INVALID_TRANSITION');
  });

  it('compares two versions textually and by component and pipeline', async () => {
    const id = await configuration();
    await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: YAML }).expect(201);
    const next = YAML.replace('    timeout:    5s\n', '    timeout: 10s\n')
      .replace('  debug: {}\n', '  otlp/2:\n    endpoint: backup.example:4317\n')
      .replace('exporters: [otlp, debug]', 'exporters: [otlp, otlp/2]');
    await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: next }).expect(201);
    const diff = (await server.as(viewer).get(`/api/configurations/${id}/versions/compare?from=1&to=2`).expect(200)).body;
    expect(diff).toMatchObject({ configurationId: id, identical: false, from: { number: 1 }, to: { number: 2 } });
    expect(diff.semantic.map((c: { summary: string }) => c.summary)).toEqual([
      'processor batch: timeout changed',
      'exporter debug removed',
      'exporter otlp/2 added',
      'exporter otlp/2 added to the metrics pipeline',
      'exporter debug removed from the metrics pipeline',
    ]);
    expect(diff.unified).toContain('-    timeout:    5s\n+    timeout: 10s\n');
    expect(diff.unified.startsWith(`--- `)).toBe(true);
    const same = (await server.as(viewer).get(`/api/configurations/${id}/versions/compare?from=2&to=2`).expect(200)).body;
    expect(same).toMatchObject({ identical: true, unified: '', semantic: [] });
    await server.as(viewer).get(`/api/configurations/${id}/versions/compare?from=1&to=9`).expect(404);
    await server.as(viewer).get(`/api/configurations/${id}/versions/compare?from=1`).expect(400);
  });

  it('checks a version against the components an agent reported it has', async () => {
    const id = await configuration();
    await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: YAML }).expect(201);
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'components' }).expect(201)).body.token;
    const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, capabilities: 0x1 | 0x4000 });
    try {
      await agent.connect();
      agent.hello({
        available_components: {
          hash: Buffer.from('c0ffee', 'hex'),
          components: {
            receivers: { sub_component_map: { otlp: {} } },
            processors: { sub_component_map: { batch: {} } },
            exporters: { sub_component_map: { otlp: {}, debug: {} } },
          },
        },
      });
      await agent.next();
      const agentId = await eventually(async () => {
        const a = (await server.as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0];
        return a && (await server.as().get(`/api/agents/${a.id}`).expect(200)).body.availableComponents ? (a.id as string) : undefined;
      });
      const res = (await server.as(viewer).get(`/api/configurations/${id}/versions/1/findings?agentId=${agentId}`).expect(200)).body;
      expect(res.findings).toEqual([
        expect.objectContaining({ severity: 'Warning', code: 'COMPONENT_UNAVAILABLE', path: 'processors.memory_limiter', message: 'the agent does not report processor memory_limiter among its available components' }),
      ]);
      // without an agent: the findings stored with the version
      expect((await server.as(viewer).get(`/api/configurations/${id}/versions/1/findings`).expect(200)).body.findings).toEqual([]);
    } finally {
      await agent.close();
    }
  });

  it('audits every change and announces versions on the live bus', async () => {
    const id = await configuration();
    const v = (await server.as(operator).post(`/api/configurations/${id}/versions`).send({ yaml: YAML }).expect(201)).body;
    await server.as(operator).post(`/api/configurations/${id}/versions/1/publish`).expect(200);
    const audit = (await server.as().get(`/api/audit/events?entityId=${v.id}`).expect(200)).body.items;
    expect(audit.map((e: { action: string }) => e.action).sort()).toEqual(['Created', 'Published']);
    const published = audit.find((e: { action: string }) => e.action === 'Published');
    expect(published.before.status).toBe('Draft');
    expect(published.after.status).toBe('Published');
    expect(JSON.stringify(published)).not.toContain('collector.example');
    expect(events.filter((e) => e.entityId === v.id).map((e) => e.type)).toEqual(['configuration.version_created', 'configuration.version_published']);
    const created = (await server.as().get(`/api/audit/events?entityId=${id}`).expect(200)).body.items;
    expect(created).toEqual([expect.objectContaining({ action: 'Created', entityType: 'Configuration' })]);
  });
});
