import { Client } from 'pg';
import { mintToken } from '@ampora/platform';
import { AMPORA_MIGRATIONS as MIGRATIONS } from '../apps/composition/src';
import { runCli, startProcess, TEST_REDIS_URL, unusedDatabaseName } from '@ampora/testing';

/** These tests run the built apps (dist/) as their own processes, the way operators run them. */
describe('the built apps as processes', () => {
  it('refuses to start on a bad variable and names it (every bad one)', async () => {
    const server = startProcess('server', { AMPORA_HTTP_PORT: 'eighty', LOG_LEVEL: 'chatty', AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS: '0' });
    const code = await server.exited;
    expect(code).toBe(78);
    const stderr = server.stderr.join('');
    expect(stderr).toContain('AMPORA_HTTP_PORT');
    expect(stderr).toContain('"eighty"');
    expect(stderr).toContain('LOG_LEVEL');
    expect(stderr).toContain('AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS');
    const critical = server.records.find((r) => r.level === 'Critical');
    expect(critical?.Problems).toEqual(expect.arrayContaining([expect.stringContaining('AMPORA_HTTP_PORT')]));
  });

  it('migrates an empty database from two processes at once: both succeed, each migration applied once', async () => {
    const db = unusedDatabaseName();
    try {
      const env = { DATABASE_URL: db.url, LOG_LEVEL: 'Information' };
      const [a, b] = await Promise.all([runCli(env, ['migrate']), runCli(env, ['migrate'])]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const applied = [a.stdout, b.stdout].filter((s) => s.startsWith('Applied'));
      expect(applied).toHaveLength(1);
      expect([a.stdout, b.stdout]).toContain('The schema is up to date.');
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        const rows = await client.query<{ name: string; n: string }>('SELECT name, count(*) AS n FROM ampora_migrations GROUP BY name');
        expect(rows.rows.map((r) => r.name).sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());
        expect(rows.rows.every((r) => r.n === '1')).toBe(true);
        const tenants = await client.query('SELECT name FROM tenants');
        expect(tenants.rows).toEqual([{ name: 'default' }]);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  });

  it('serves JSON logs with the catalogue fields, traced like the response, and metrics after a request', async () => {
    const db = unusedDatabaseName();
    const admin = mintToken('amp-pat');
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      AMPORA_REDIS_PREFIX: `ampora-test-${Date.now()}`,
      AMPORA_HTTP_PORT: '0',
      AMPORA_HTTP_HOST: '127.0.0.1',
      AMPORA_BOOTSTRAP_ADMIN_TOKEN: admin,
      LOG_LEVEL: 'Information',
    };
    const server = startProcess('server', env);
    try {
      const listening = await server.waitFor((r) => typeof r.Port === 'number');
      const base = `http://127.0.0.1:${listening.Port as number}`;
      // the CLI creates a tenant and a token; the token works against the server
      expect((await runCli(env, ['tenants', 'create', 'acme-eu'])).stdout).toContain('Created tenant acme-eu');
      const cli = await runCli(env, ['tokens', 'create', '--tenant', 'acme-eu', '--role', 'Operator', '--name', 'ops']);
      expect(cli.code).toBe(0);
      const token = cli.stdout.trim();
      expect(token).toMatch(/^amp-pat\.[A-Z2-7]+\.[A-Z2-7]{7}$/);
      expect(cli.stderr).not.toContain(token);
      const audit = await fetch(`${base}/api/audit/events`, { headers: { authorization: `Bearer ${token}` } });
      expect(audit.status).toBe(200);
      const body = (await audit.json()) as { items: Array<{ action: string; actor: string }> };
      expect(body.items.map((e) => `${e.action}:${e.actor}`)).toEqual(expect.arrayContaining(['Created:cli']));

      const res = await fetch(`${base}/api/tokens`, { headers: { authorization: `Bearer ${admin}` } });
      expect(res.status).toBe(200);
      const traceId = res.headers.get('traceresponse')!.split('-')[1];
      const line = await server.waitFor((r) => r.trace_id === traceId && r.category === 'Ampora.Platform.Http.RequestLogger');
      expect(line).toMatchObject({
        level: 'Information',
        message: 'HTTP GET /api/tokens responded 200 in ' + String(line.ElapsedMs) + ' ms',
        Method: 'GET',
        Path: '/api/tokens',
        StatusCode: 200,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        tenant_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      for (const r of server.records) {
        expect(Object.keys(r)).toEqual(expect.arrayContaining(['timestamp', 'level', 'category', 'message']));
        expect(['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical']).toContain(r.level);
      }
      expect(server.lines.join('\n')).not.toContain(admin.split('.')[1]);

      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^ampora_db_query_duration_seconds_bucket\{tenant="[^"]+",query="select api_tokens"/m);
      expect(metrics).toMatch(/^ampora_db_pool_open_connections\{instance="[^"]+"[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^ampora_db_pool_busy_connections\{instance="[^"]+"[^}]*\} \d/m);
      expect(metrics).toMatch(/^http_server_request_duration_seconds_count\{http_request_method="GET",http_route="\/api\/tokens",http_response_status_code="200"[^}]*\} 1/m);
    } finally {
      await server.stop();
      await db.drop();
    }
  });
});
