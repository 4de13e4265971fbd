import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, REPO_ROOT } from '@ampora/testing';
import { apiClient, collectorYaml, createStaticGroup, enrollAgents, SimAgent } from '../support/rollout-kit';
import { createToken, startTestServer, TestServer } from '../support/test-server';

/**
 * What the console stands on: the server serving it at its own paths only (decision 0340), and the
 * routes it added to the API (decision 0341). Needs `npm run build` (dist/console).
 */
describe('the console on the server', () => {
  let server: TestServer;
  const sims: SimAgent[] = [];

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist', 'console', 'index.html'))) throw new Error('the console is not built: npm run build first');
    server = await startTestServer();
  });
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
    await server.close();
  });

  it('answers the page at / and the client routes, with its security headers', async () => {
    for (const path of ['/', '/sign-in', '/t/default/fleet?status=connected', '/t/acme/rollouts/abc']) {
      const res = await server.http.get(path).expect(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.text).toContain('<div id="root"></div>');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    const script = readdirSync(join(REPO_ROOT, 'dist', 'console', 'assets')).find((f) => f.endsWith('.js'))!;
    const asset = await server.http.get(`/assets/${script}`).expect(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toContain('immutable');
  });

  it('leaves the API, the docs, the OpenAPI document, metrics and the probes as they were', async () => {
    const missing = await server.http.get('/api/no-such-thing').expect(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    await server.http.get('/api/agents').expect(401);
    await server.http.get('/assets/no-such-file.js').expect(404);
    expect((await server.http.get('/docs').redirects(1).expect(200)).text).toContain('swagger');
    expect((await server.http.get('/openapi.json').expect(200)).body.paths['/api/me']).toBeDefined();
    expect((await server.http.get('/metrics').expect(200)).text).not.toContain('<div id="root">');
    await server.http.post('/').expect(404);
  });

  it('answers the OIDC sign-in settings anonymously: disabled without AMPORA_OIDC_CLIENT_ID', async () => {
    const res = await server.http.get('/api/auth/oidc').expect(200);
    expect(res.body).toEqual({ enabled: false });
    expect((await server.http.get('/sign-in').expect(200)).headers['content-security-policy']).toContain("connect-src 'self';");
  });

  it('says who the caller is (GET /api/me), without any secret', async () => {
    const operator = await createToken(server, 'Operator', 'console-operator');
    const me = (await server.as(operator).get('/api/me').expect(200)).body;
    expect(me).toEqual({ kind: 'pat', tenantId: expect.any(String), tenantName: 'default', role: 'Operator', actor: 'console-operator' });
    expect(JSON.stringify(me)).not.toContain(operator.split('.')[1]);
    await server.http.get('/api/me').expect(401);
  });

  it('validates a configuration text with findings at their line, storing nothing', async () => {
    const viewer = await createToken(server, 'Viewer');
    const broken = collectorYaml('v').replace('exporters: [debug/v]', 'exporters: [debug/v, otlp/missing]');
    const res = (await server.as(viewer).post('/api/configurations/validate').send({ yaml: broken }).expect(200)).body;
    expect(res.errorCount).toBe(1);
    expect(res.findings).toEqual([expect.objectContaining({ severity: 'Error', code: 'UNDEFINED_COMPONENT', line: broken.split('\n').findIndex((l) => l.includes('otlp/missing')) + 1 })]);
    expect((await server.as(viewer).post('/api/configurations/validate').send({ yaml: collectorYaml('v') }).expect(200)).body).toEqual({ findings: [], errorCount: 0, warningCount: 0 });
    await server.as(viewer).post('/api/configurations/validate').send({}).expect(400);
    expect((await server.as().get('/api/configurations').expect(200)).body.items).toEqual([]);
  });

  it('counts the fleet by status and health, and filters the list by health', async () => {
    const api = apiClient(server.url, server.adminToken);
    const group = await createStaticGroup(api);
    sims.push(...(await enrollAgents(api, `${server.url.replace('http', 'ws')}/v1/opamp`, 2, { groupId: group.id })));
    // a session's status reaches the store with the state writer's next flush
    const counts = await eventually(async () => {
      const summary = (await server.as().get('/api/agents/summary').expect(200)).body;
      return summary.connected === 2 ? summary : undefined;
    });
    expect(counts).toEqual({ total: 2, connected: 2, stale: 0, disconnected: 0, healthy: 0, unhealthy: 0, healthUnknown: 2 });
    expect((await server.as().get('/api/agents?health=unknown').expect(200)).body.items).toHaveLength(2);
    expect((await server.as().get('/api/agents?health=healthy').expect(200)).body.items).toHaveLength(0);
    await server.as().get('/api/agents?health=sick').expect(400);
  });
});
