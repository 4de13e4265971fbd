import { captureLogs } from '@ampora/testing';
import type { Response } from 'supertest';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Validation at the edge (issue 25 item 4, decisions 0140-0142): every class of hostile or careless
 * input is a 400 problem+json with a stable code, never a 5xx, and never an unhandled-error log line.
 */
describe('validation at the edge', () => {
  let server: TestServer;
  const logs = captureLogs('Information');
  const NO_SUCH = '00000000-0000-4000-8000-000000000000';
  let configurationId: string;
  let groupId: string;

  beforeAll(async () => {
    server = await startTestServer();
    configurationId = (await server.as().post('/api/configurations').send({ name: 'edge-cfg' }).expect(201)).body.id;
    groupId = (await server.as().post('/api/groups').send({ name: 'edge-group', kind: 'Static' }).expect(201)).body.id;
  });
  afterAll(() => server.close());

  afterEach(() => {
    // none of these requests is an unexpected error on the server's side
    const errors = logs.records.filter((r) => r.level === 'Error' || r.level === 'Critical').map((r) => r.message);
    logs.clear();
    expect(errors).toEqual([]);
  });

  function expectProblem(res: Response, status: number, code: string): void {
    expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  }

  function fields(res: Response): string[] {
    return ((res.body.errors ?? []) as Array<{ field: string }>).map((e) => e.field);
  }

  describe('NUL characters', () => {
    const bodies: Array<[string, string, () => string, Record<string, unknown>, string]> = [
      ['configuration name', 'POST', () => '/api/configurations', { name: 'a\u0000b' }, 'name'],
      ['configuration description', 'POST', () => '/api/configurations', { name: 'nul-desc', description: 'x\u0000' }, 'description'],
      ['group name', 'POST', () => '/api/groups', { name: 'g\u0000', kind: 'Static' }, 'name'],
      ['group description', 'POST', () => '/api/groups', { name: 'g-desc', kind: 'Static', description: '\u0000' }, 'description'],
      ['token name', 'POST', () => '/api/tokens', { name: 'tok\u0000', role: 'Viewer' }, 'name'],
      ['bootstrap-token label', 'POST', () => '/api/bootstrap-tokens', { label: 'boot\u0000' }, 'label'],
      ['bootstrap-token label value', 'POST', () => '/api/bootstrap-tokens', { label: 'boot', labels: { env: 'p\u0000' } }, 'labels.env'],
      ['bootstrap-token label key', 'POST', () => '/api/bootstrap-tokens', { label: 'boot', labels: { 'e\u0000nv': 'p' } }, 'labels.e\\u0000nv'],
      ['YAML of a version', 'POST', () => `/api/configurations/${configurationId}/versions`, { yaml: 'receivers:\n  otlp: {}\n# \u0000\n' }, 'yaml'],
      ['YAML of a direct agent assignment', 'POST', () => `/api/agents/${NO_SUCH}/assign`, { yaml: 'a: "\u0000"' }, 'yaml'],
      ['group selector', 'POST', () => '/api/groups', { name: 'dyn', kind: 'Dynamic', selector: 'env == "\u0000"' }, 'selector'],
    ];
    it.each(bodies)('in a %s is 400 VALIDATION_FAILED naming the field', async (_what, method, path, body, field) => {
      const res = await server.as()[method.toLowerCase() as 'post' | 'put'](path()).send(body);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toContain(field);
      expect(JSON.stringify(res.body)).toMatch(/NUL/);
    });

    const queries: Array<[string, string, string]> = [
      ['?text= of the agent list', '/api/agents?text=a%00b', 'text'],
      ['?label= of the agent list', '/api/agents?label=env%3Dp%00', 'label'],
      ['audit actor filter', '/api/audit/events?actor=%00', 'actor'],
      ['audit entityType filter', '/api/audit/events?entityType=x%00', 'entityType'],
      ['audit entityId filter', '/api/audit/events?entityId=x%00', 'entityId'],
      ['audit action filter', '/api/audit/events?action=Created,x%00', 'action'],
      ['path parameter', '/api/configurations/%00', 'id'],
    ];
    it.each(queries)('in the %s is 400 VALIDATION_FAILED naming the field', async (_what, path, field) => {
      const res = await server.as().get(path);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toContain(field);
    });

    it('stores nothing: the configuration list has no row with NUL', async () => {
      const res = await server.as().get('/api/configurations?limit=500').expect(200);
      expect(JSON.stringify(res.body)).not.toContain('\\u0000');
    });
  });

  describe('lone UTF-16 surrogates', () => {
    it.each([
      ['a configuration name', '/api/configurations', '{"name":"a\\ud800b"}', 'name'],
      ['a group name (low surrogate)', '/api/groups', '{"name":"g\\udc00","kind":"Static"}', 'name'],
      ['a token name', '/api/tokens', '{"name":"\\udbff","role":"Viewer"}', 'name'],
    ])('in %s is 400 VALIDATION_FAILED naming the field', async (_what, path, raw, field) => {
      const res = await server.as().post(path).set('Content-Type', 'application/json').send(raw);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toContain(field);
      expect(JSON.stringify(res.body)).toMatch(/surrogate/);
    });

    it('a well-formed pair (an emoji) is accepted', async () => {
      const res = await server.as().post('/api/configurations').set('Content-Type', 'application/json').send('{"name":"rocket \\ud83d\\ude80"}').expect(201);
      expect(res.body.name).toBe('rocket \u{1F680}');
    });

    it('a path segment that is not UTF-8 is 400, not 500', async () => {
      const res = await server.as().get('/api/configurations/%ED%A0%80');
      expectProblem(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('list cursors', () => {
    let listRoutes: string[];
    let realCursor: string;

    beforeAll(async () => {
      const doc = (await server.http.get('/openapi.json').expect(200)).body as {
        paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
      };
      // every GET that pages with ?cursor=, path parameters filled with a well-formed id
      listRoutes = Object.entries(doc.paths)
        .filter(([, item]) => item.get?.parameters?.some((p) => p.in === 'query' && p.name === 'cursor'))
        .map(([path]) => path.replace(/\{[^}]+\}/g, NO_SUCH));
      for (const name of ['cursor-a', 'cursor-b']) await server.as().post('/api/tokens').send({ name, role: 'Viewer' }).expect(201);
      const page = await server.as().get('/api/tokens?limit=1').expect(200);
      realCursor = page.body.nextCursor;
      expect(realCursor).toEqual(expect.any(String));
    });

    it('finds every list route in the OpenAPI document', () => {
      expect(listRoutes).toEqual(
        expect.arrayContaining(['/api/agents', '/api/audit/events', '/api/configurations', '/api/groups', '/api/tokens', '/api/bootstrap-tokens', '/api/rollouts', '/api/pki/certificates', '/api/pki/signing-keys', `/api/configurations/${NO_SUCH}/versions`]),
      );
    });

    it('a cursor the server issued pages on', async () => {
      const next = await server.as().get(`/api/tokens?limit=1&cursor=${encodeURIComponent(realCursor)}`).expect(200);
      expect(next.body.items).toHaveLength(1);
    });

    const forgeries: Array<[string, (real: string) => string]> = [
      ['forged in the old unsigned format', () => Buffer.from(JSON.stringify(['not-a-date', NO_SUCH])).toString('base64url')],
      ['forged with a made-up signature', () => `${Buffer.from(JSON.stringify(['x', '2020-01-01T00:00:00.000Z', NO_SUCH])).toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAA`],
      ['with its payload altered', (real) => {
        const [body, mac] = real.split('.');
        const payload = JSON.parse(Buffer.from(body!, 'base64url').toString('utf8')) as unknown[];
        payload[1] = '99999-01-01T00:00:00.000Z';
        return `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${mac}`;
      }],
      ['with its signature altered', (real) => `${real.slice(0, -2)}${real.endsWith('AA') ? 'BB' : 'AA'}`],
      ['that is garbage', () => '%%%not base64%%%'],
    ];
    it.each(forgeries)('a cursor %s is 400 INVALID_CURSOR on every list route', async (_what, make) => {
      const cursor = make(realCursor);
      const answers: Record<string, string> = {};
      for (const route of listRoutes) {
        const res = await server.as().get(`${route}?cursor=${encodeURIComponent(cursor)}`);
        answers[route] = `${res.status} ${res.body?.code} ${res.headers['content-type']}`;
      }
      expect(answers).toEqual(Object.fromEntries(listRoutes.map((r) => [r, '400 INVALID_CURSOR application/problem+json; charset=utf-8'])));
    });

    it('a cursor of one list is refused by another', async () => {
      const res = await server.as().get(`/api/configurations?cursor=${encodeURIComponent(realCursor)}`);
      expectProblem(res, 400, 'INVALID_CURSOR');
    });
  });

  describe('integers beyond PostgreSQL integer (2^31-1)', () => {
    it('version in a rollout is 400 naming version', async () => {
      const res = await server.as().post('/api/rollouts').send({ name: 'big', configurationId, version: 2 ** 31, groupId });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toEqual(['version']);
    });

    it('version in a group assignment is 400 naming version', async () => {
      const res = await server.as().put(`/api/groups/${groupId}/assignment`).send({ configurationId, version: 2 ** 31 });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toEqual(['version']);
    });

    it('version in an agent assignment, and a huge one, are 400', async () => {
      const res = await server.as().post(`/api/agents/${NO_SUCH}/assign`).send({ configurationId, version: 1e300 });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toContain('version');
    });

    it('a step number and a position in a query are 400', async () => {
      const step = await server.as().get(`/api/rollouts/${NO_SUCH}/targets?step=3000000000`);
      expectProblem(step, 400, 'VALIDATION_FAILED');
      expect(fields(step)).toEqual(['step']);
      const after = await server.as().get(`/api/rollouts/${NO_SUCH}/targets?after=-3000000000`);
      expectProblem(after, 400, 'VALIDATION_FAILED');
      expect(fields(after)).toEqual(['after']);
    });

    it('2^31-1 itself passes validation (then the version is simply not found)', async () => {
      const res = await server.as().put(`/api/groups/${groupId}/assignment`).send({ configurationId, version: 2 ** 31 - 1 });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.body.code).not.toBe('VALIDATION_FAILED');
    });
  });

  describe('dates outside the supported range', () => {
    it.each([
      ['since= far in the past', '/api/audit/events?since=-100000-01-01T00:00:00Z', 'since'],
      ['since= in year 0', '/api/audit/events?since=0000-06-01T00:00:00Z', 'since'],
      ['until= far in the future', '/api/audit/events?until=%2B275760-09-13T00:00:00Z', 'until'],
    ])('%s is 400 naming the field', async (_what, path, field) => {
      const res = await server.as().get(path);
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toEqual([field]);
    });

    it('a token expiry past year 9999 is 400', async () => {
      const res = await server.as().post('/api/tokens').send({ name: 'forever', role: 'Viewer', expiresAt: '+100000-01-01T00:00:00Z' });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fields(res)).toEqual(['expiresAt']);
    });

    it('dates inside the range still filter', async () => {
      await server.as().get('/api/audit/events?since=2000-01-01T00:00:00Z&until=9999-12-31T00:00:00Z').expect(200);
    });
  });
});

describe('the HTTP front door (issue 27 item 7)', () => {
  let server: TestServer;
  let configurationId: string;

  beforeAll(async () => {
    server = await startTestServer();
    configurationId = (await server.as().post('/api/configurations').send({ name: 'door-cfg' }).expect(201)).body.id;
  });
  afterAll(() => server.close());

  it('401 answers carry a Bearer challenge (RFC 6750)', async () => {
    const none = await server.http.get('/api/agents').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="ampora"');
    const bad = await server.http.get('/api/agents').set('Authorization', 'Bearer amp-pat.NOPE.NOPE').expect(401);
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer realm="ampora", error="invalid_token", error_description="[^"]+"$/);
    expect(bad.body.code).toBe('UNAUTHENTICATED');
    const ok = await server.as().get('/api/agents').expect(200);
    expect(ok.headers['www-authenticate']).toBeUndefined();
  });

  it('a body of JSON null is reported as JSON null', async () => {
    const res = await server.as().post('/api/tokens').set('Content-Type', 'application/json').send('null').expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors[0].message).toMatch(/JSON null/);
    expect(res.body.errors[0].message).not.toMatch(/not valid JSON/);
    const number = await server.as().post('/api/tokens').set('Content-Type', 'application/json').send('42').expect(400);
    expect(number.body.errors[0].message).toMatch(/a JSON number/);
  });

  it.each([
    ['YAML to a configuration version', () => `/api/configurations/${configurationId}/versions`, 'application/yaml', 'receivers: {}\n', /application\/yaml.*"yaml"/],
    ['plain text to tokens', () => '/api/tokens', 'text/plain', 'name=x', /text\/plain/],
    ['a form to groups', () => '/api/groups', 'application/x-www-form-urlencoded', 'name=g&kind=Static', /x-www-form-urlencoded/],
  ])('%s is 415 with a clear problem', async (_what, path, type, body, detail) => {
    const res = await server.as().post(path()).set('Content-Type', type).send(body).expect(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(res.body.detail).toMatch(/application\/json/);
    expect(res.body.detail).toMatch(detail);
  });

  it('JSON bodies (also with a charset) keep working, YAML inside them too', async () => {
    const yaml = 'receivers:\n  otlp: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n';
    await server.as().post(`/api/configurations/${configurationId}/versions`).set('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify({ yaml })).expect(201);
    // a bodiless POST names no type and is not refused for it
    const bodiless = await server.as().post(`/api/configurations/${configurationId}/versions/1/publish`);
    expect(bodiless.status).not.toBe(415);
  });

  it('?label= without = says the filter is key=value', async () => {
    const res = await server.as().get('/api/agents?label=nokv').expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors[0].field).toMatch(/^label/);
    expect(res.body.errors[0].message).toMatch(/key=value/);
    const two = await server.as().get('/api/agents?label=env=prod&label=broken').expect(400);
    expect(two.body.errors[0].message).toMatch(/key=value/);
    await server.as().get('/api/agents?label=env=prod&label=tier=web').expect(200);
  });
});
