import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

describe('the OpenAPI document', () => {
  let server: TestServer;
  let doc: { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>> };

  beforeAll(async () => {
    server = await startTestServer();
    doc = (await server.http.get('/openapi.json').expect(200)).body;
  });
  afterAll(() => server.close());

  it('documents every route with its auth and its problem answers', () => {
    expect(doc.openapi).toMatch(/^3\.1/);
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    expect(ops.length).toBeGreaterThan(5);
    for (const { path, op } of ops) {
      expect(op.security).toBeDefined();
      if (path.startsWith('/api/git/webhook/')) {
        // the GitOps webhook authenticates by its own header, not a bearer token
        expect(op.security).toEqual([]);
        expect(JSON.stringify(op.responses['401'])).toContain('application/problem+json');
      } else if (path === '/api/auth/oidc') {
        // asked before anyone signs in: the console's OIDC sign-in settings (decision 0385)
        expect(op.security).toEqual([]);
        expect((op as Record<string, unknown>)['x-ampora-public']).toBe(true);
      } else if (path.startsWith('/api/')) {
        expect(op.security).toEqual([{ bearer: [] }]);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '500']));
        expect(JSON.stringify(op.responses['401'])).toContain('application/problem+json');
      }
    }
    expect(doc.paths['/api/tokens']!.post!.responses['201']).toBeDefined();
  });

  it('serves interactive docs', async () => {
    const res = await server.http.get('/docs').redirects(1).expect(200);
    expect(res.text).toContain('swagger');
  });

  it('lints clean with @redocly/cli', async () => {
    const dir = join(REPO_ROOT, '.test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc, null, 2));
    const bin = join(REPO_ROOT, 'node_modules', '.bin', 'redocly');
    const { stdout, stderr } = await promisify(execFile)(bin, ['lint', '.test-results/openapi.json', '--format=json'], { cwd: REPO_ROOT, maxBuffer: 20 * 1024 * 1024 }).catch((e: { stdout: string; stderr: string }) => e);
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: unknown[] };
    expect({ totals: report.totals, problems: report.problems }).toEqual({ totals: expect.objectContaining({ errors: 0, warnings: 0 }), problems: [] });
    expect(stderr).not.toMatch(/❌/);
  });
});
