import { captureLogs } from '@ampora/testing';
import { startTestIdp, TestIdp } from './support/jwks';
import { ProbeModule } from './support/probe.module';
import { createToken, startTestServer, TestServer } from './support/test-server';

describe('authentication and roles (PAT and OIDC)', () => {
  let server: TestServer;
  let idp: TestIdp;
  const logs = captureLogs('Information');
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    idp = await startTestIdp('ampora-api');
    server = await startTestServer({
      modules: [ProbeModule],
      env: { AMPORA_OIDC_ISSUER: idp.issuer, AMPORA_OIDC_AUDIENCE: 'ampora-api', AMPORA_OIDC_CLOCK_TOLERANCE_SECONDS: '0' },
    });
    for (const role of ['Viewer', 'Operator', 'Admin'] as const) tokens[role] = await createToken(server, role);
  });
  afterAll(async () => {
    await server.close();
    await idp.close();
  });

  const routes = [
    { level: 'Viewer', call: (t: string) => server.http.get('/api/_probe/viewer').set('Authorization', `Bearer ${t}`) },
    { level: 'Viewer', call: (t: string) => server.http.get('/api/audit/events').set('Authorization', `Bearer ${t}`) },
    { level: 'Operator', call: (t: string) => server.http.post('/api/_probe/operator').set('Authorization', `Bearer ${t}`) },
    { level: 'Admin', call: (t: string) => server.http.delete('/api/_probe/admin').set('Authorization', `Bearer ${t}`) },
    { level: 'Admin', call: (t: string) => server.http.get('/api/tokens').set('Authorization', `Bearer ${t}`) },
  ] as const;
  const rank = { Viewer: 1, Operator: 2, Admin: 3 };

  it('lets every role through routes at or below its level and answers 403 above it', async () => {
    for (const role of ['Viewer', 'Operator', 'Admin'] as const) {
      for (const route of routes) {
        const res = await route.call(tokens[role]!);
        const allowed = rank[role] >= rank[route.level];
        expect({ role, route: route.level, status: res.status }).toEqual({ role, route: route.level, status: allowed ? expect.any(Number) : 403 });
        if (allowed) expect(res.status).toBeLessThan(300);
        else expect(res.body).toMatchObject({ code: 'FORBIDDEN', status: 403 });
      }
    }
  });

  it('answers 401 with a problem document without credentials or with a non-bearer scheme', async () => {
    const none = await server.http.get('/api/_probe/viewer').expect(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(none.body).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    await server.http.get('/api/_probe/viewer').set('Authorization', `Basic ${Buffer.from('a:b').toString('base64')}`).expect(401);
  });

  it('refuses a revoked, an expired, a truncated, a garbled and an unknown PAT', async () => {
    const revoked = await server.as().post('/api/tokens').send({ name: 'to-revoke', role: 'Admin' }).expect(201);
    await server.as(revoked.body.token).get('/api/_probe/viewer').expect(200);
    await server.as().delete(`/api/tokens/${revoked.body.id}`).expect(204);
    await server.as(revoked.body.token).get('/api/_probe/viewer').expect(401);

    const expiring = await server.as().post('/api/tokens').send({ name: 'short-lived', role: 'Viewer', expiresAt: new Date(Date.now() + 1200).toISOString() }).expect(201);
    await server.as(expiring.body.token).get('/api/_probe/viewer').expect(200);
    await new Promise((r) => setTimeout(r, 1500));
    await server.as(expiring.body.token).get('/api/_probe/viewer').expect(401);

    const good = tokens.Viewer!;
    await server.as(good.slice(0, -3)).get('/api/_probe/viewer').expect(401);
    const [prefix, secret, check] = good.split('.') as [string, string, string];
    const garbled = `${prefix}.${secret.slice(0, 5)}${secret[5] === 'A' ? 'B' : 'A'}${secret.slice(6)}.${check}`;
    await server.as(garbled).get('/api/_probe/viewer').expect(401);
    await server.as('amp-pat.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.N2MGV3A').get('/api/_probe/viewer').expect(401);
  });

  it('refuses a route that declares no role (fail closed)', async () => {
    await server.as().get('/api/_probe/undeclared').expect(403);
  });

  describe('OIDC bearer JWTs', () => {
    it('accepts a valid token, taking the highest role of an array claim, in the token\'s tenant', async () => {
      const jwt = await idp.sign({ sub: 'alice', tenant: 'default', 'ampora:role': ['Viewer', 'Operator'] });
      await server.as(jwt).get('/api/_probe/viewer').expect(200);
      await server.as(jwt).post('/api/_probe/operator').expect(201);
      await server.as(jwt).delete('/api/_probe/admin').expect(403);
      const events = await server.as().get('/api/audit/events?entityType=Probe&actor=alice').expect(200);
      expect(events.body.items[0]).toMatchObject({ actor: 'alice', actorRole: 'Operator', action: 'Poked' });
    });

    it('answers 401 for a wrong issuer, a wrong audience, an expired token and a bad signature', async () => {
      const claims = { sub: 'mallory', tenant: 'default', 'ampora:role': 'Admin' };
      const cases = {
        wrongIssuer: await idp.sign(claims, { issuer: 'https://evil.example.com' }),
        wrongAudience: await idp.sign(claims, { audience: 'someone-else' }),
        expired: await idp.sign(claims, { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
        badSignature: await idp.sign(claims, { forge: true }),
        notAJwt: 'not-a-token-at-all',
      };
      for (const [name, jwt] of Object.entries(cases)) {
        const res = await server.as(jwt).get('/api/_probe/viewer');
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
      }
    });

    it('answers 403 when the role or the tenant claim is missing or unknown', async () => {
      const cases = {
        noRole: await idp.sign({ sub: 'bob', tenant: 'default' }),
        unknownRole: await idp.sign({ sub: 'bob', tenant: 'default', 'ampora:role': 'Superuser' }),
        noTenant: await idp.sign({ sub: 'bob', 'ampora:role': 'Admin' }),
        unknownTenant: await idp.sign({ sub: 'bob', tenant: 'nowhere', 'ampora:role': 'Admin' }),
      };
      for (const [name, jwt] of Object.entries(cases)) {
        const res = await server.as(jwt).get('/api/_probe/viewer');
        expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 403, code: 'FORBIDDEN' });
      }
    });
  });

  it('never writes a token into a log line', () => {
    const all = logs.lines.join('\n');
    for (const t of Object.values(tokens)) expect(all).not.toContain(t.split('.')[1]);
    expect(all).not.toContain(server.adminToken.split('.')[1]);
  });
});
