import { captureLogs } from '@ampora/testing';
import { ProbeModule } from './support/probe.module';
import { startTestServer, TestServer } from './support/test-server';

describe('errors as application/problem+json', () => {
  let server: TestServer;
  const logs = captureLogs('Information');

  beforeAll(async () => {
    server = await startTestServer({ modules: [ProbeModule] });
  });
  afterAll(() => server.close());

  it('answers an unexpected error with 500, an errorId, the trace id, and no internals', async () => {
    const res = await server.as().get('/api/_probe/boom').expect(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'INTERNAL_ERROR', status: 500, errorId: expect.stringMatching(/^[0-9a-f-]{36}$/), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(JSON.stringify(res.body)).not.toMatch(/hunter2|broke|stack/);
    const logged = logs.find((r) => r.ErrorId === res.body.errorId);
    expect(logged).toMatchObject({ level: 'Error', trace_id: res.body.traceId });
    expect((logged!.exception as { stack: string }).stack).toContain('boom');
  });

  it('names every bad field on a validation failure', async () => {
    const res = await server.as().post('/api/tokens').send({ role: 'Root', expiresAt: 'soon', extra: 1 }).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'role', 'expiresAt']));
  });

  it('answers malformed JSON, unknown routes and bad ids with stable codes', async () => {
    const json = await server.as().post('/api/tokens').set('Content-Type', 'application/json').send('{"name":').expect(400);
    expect(json.body.code).toBe('VALIDATION_FAILED');
    const unknown = await server.as().get('/api/nothing-here').expect(404);
    expect(unknown.body.code).toBe('ROUTE_NOT_FOUND');
    const badId = await server.as().delete('/api/tokens/not-a-uuid').expect(400);
    expect(badId.body.errors[0].field).toBe('id');
    const missing = await server.as().delete('/api/tokens/00000000-0000-4000-8000-000000000000').expect(404);
    expect(missing.body.code).toBe('TOKEN_NOT_FOUND');
  });
});
