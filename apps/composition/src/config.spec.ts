import { ConfigValidationError, DEFAULT_DATABASE_URL } from '@ampora/platform';
// platform's sections and every lib's, as the apps read them
import { loadAmporaConfig as loadConfig } from './config';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(4320);
    expect(c.database.url).toBe(DEFAULT_DATABASE_URL);
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
    expect(c.logging.level).toBe('Information');
    expect(c.opamp.maxMessageBytes).toBe(10 * 1024 * 1024);
    expect(c.opamp.heartbeatWindowSeconds).toBe(90);
    expect(c.app.instanceId).toMatch(/-\d+$/);
    expect(c.auth.oidc.roleClaim).toBe('ampora:role');
    expect(c.auth.oidc.tenantClaim).toBe('tenant');
  });

  it('reads the parsing limits, with the documented defaults (README, decision 0130)', () => {
    expect(loadConfig({}).limits).toEqual({
      bodyMaxBytes: 1024 * 1024,
      jsonMaxDepth: 64,
      jsonMaxKeys: 20_000,
      configMaxBytes: 512 * 1024,
      configMaxDepth: 64,
      configMaxNodes: 25_000,
      configMaxAliases: 200,
      configMaxAliasExpansion: 100_000,
      configMaxTokens: 100_000,
      configParseTimeoutMs: 10_000,
      configParseMaxHeapMb: 256,
    });
    expect(loadConfig({ AMPORA_CONFIG_MAX_DEPTH: '128', AMPORA_HTTP_MAX_BODY_BYTES: '4194304' }).limits).toMatchObject({ configMaxDepth: 128, bodyMaxBytes: 4 * 1024 * 1024 });
    expect(() => loadConfig({ AMPORA_CONFIG_MAX_DEPTH: '1' })).toThrow(/AMPORA_CONFIG_MAX_DEPTH/);
  });

  it('reports every bad variable in one error, naming each', () => {
    let error: unknown;
    try {
      loadConfig({ AMPORA_HTTP_PORT: 'abc', LOG_LEVEL: 'loud', REDIS_URL: 'http://x', AMPORA_OPAMP_MAX_MESSAGE_BYTES: '-1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const names = (error as ConfigValidationError).issues.map((i) => i.variable);
    expect(names).toEqual(expect.arrayContaining(['AMPORA_HTTP_PORT', 'LOG_LEVEL', 'REDIS_URL', 'AMPORA_OPAMP_MAX_MESSAGE_BYTES']));
    expect((error as Error).message).toContain('AMPORA_HTTP_PORT');
    expect((error as Error).message).toContain('"abc"');
  });

  it('requires a 32-byte master key in production and never echoes secret values', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AMPORA_MASTER_KEY is required/);
    try {
      loadConfig({ AMPORA_MASTER_KEY: 'c2hvcnQ=' });
      throw new Error('expected a validation error');
    } catch (e) {
      expect((e as Error).message).toContain('AMPORA_MASTER_KEY');
      expect((e as Error).message).not.toContain('c2hvcnQ=');
    }
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ NODE_ENV: 'production', AMPORA_MASTER_KEY: key }).security.masterKey).toHaveLength(32);
  });

  it('accepts .NET and short log level names', () => {
    expect(loadConfig({ LOG_LEVEL: 'warn' }).logging.level).toBe('Warning');
    expect(loadConfig({ LOG_LEVEL: 'Critical' }).logging.level).toBe('Critical');
    expect(loadConfig({ LOG_LEVEL: 'debug' }).logging.level).toBe('Debug');
  });

  it('needs an audience with an OIDC issuer and a well-formed bootstrap token', () => {
    expect(() => loadConfig({ AMPORA_OIDC_ISSUER: 'https://idp.example.com' })).toThrow(/AMPORA_OIDC_AUDIENCE/);
    expect(() => loadConfig({ AMPORA_BOOTSTRAP_ADMIN_TOKEN: 'hunter2' })).toThrow(/AMPORA_BOOTSTRAP_ADMIN_TOKEN/);
  });

  it('takes the console\'s OIDC client only with an issuer, with the default scopes', () => {
    expect(() => loadConfig({ AMPORA_OIDC_CLIENT_ID: 'ampora-console' })).toThrow(/AMPORA_OIDC_ISSUER is required when AMPORA_OIDC_CLIENT_ID is set/);
    const oidc = loadConfig({ AMPORA_OIDC_ISSUER: 'https://idp.example.com', AMPORA_OIDC_AUDIENCE: 'ampora-api', AMPORA_OIDC_CLIENT_ID: 'ampora-console' }).auth.oidc;
    expect(oidc).toMatchObject({ clientId: 'ampora-console', scopes: 'openid profile email' });
    expect(loadConfig({}).auth.oidc.clientId).toBeUndefined();
  });

  it('takes the mTLS OpAMP URL for certificate offers only as wss or https', () => {
    expect(loadConfig({}).opamp.mtlsUrl).toBeUndefined();
    expect(loadConfig({ AMPORA_OPAMP_MTLS_URL: 'wss://opamp.example.com:4322/v1/opamp' }).opamp.mtlsUrl).toBe('wss://opamp.example.com:4322/v1/opamp');
    expect(() => loadConfig({ AMPORA_OPAMP_MTLS_URL: 'ws://opamp.example.com/v1/opamp' })).toThrow(/AMPORA_OPAMP_MTLS_URL expected a URL with scheme wss or https/);
  });

  it('reads the backplane and live-update settings, with their defaults and bounds', () => {
    const d = loadConfig({ DATABASE_URL: 'postgres://db/ampora' });
    expect(d.dispatch).toEqual({ backplane: 'redis', ownershipTtlSeconds: 60, forwardTimeoutMs: 5000 });
    // without DATABASE_URL, Ampora is embedded: one process, in-process backplane, queues in PostgreSQL
    expect(loadConfig({}).dispatch.backplane).toBe('inprocess');
    expect(loadConfig({}).queue.kind).toBe('postgres');
    expect(d.live).toEqual({ subscriberBuffer: 1000, replayEvents: 1000, replaySeconds: 300 });
    const c = loadConfig({ AMPORA_BACKPLANE: 'Postgres', AMPORA_DISPATCH_FORWARD_TIMEOUT_MS: '250', AMPORA_LIVE_SUBSCRIBER_BUFFER: '16', AMPORA_LIVE_REPLAY_EVENTS: '0' });
    expect(c.dispatch.backplane).toBe('postgres');
    expect(c.dispatch.forwardTimeoutMs).toBe(250);
    expect(c.live.subscriberBuffer).toBe(16);
    expect(c.live.replayEvents).toBe(0);
    let error: unknown;
    try {
      loadConfig({ AMPORA_BACKPLANE: 'kafka', AMPORA_LIVE_SUBSCRIBER_BUFFER: '0', AMPORA_DISPATCH_FORWARD_TIMEOUT_MS: 'soon' });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigValidationError).issues.map((i) => i.variable).sort()).toEqual(['AMPORA_BACKPLANE', 'AMPORA_DISPATCH_FORWARD_TIMEOUT_MS', 'AMPORA_LIVE_SUBSCRIBER_BUFFER']);
  });

  it('lets the TLS listener run on a certificate Ampora issues, and reads the refusal back-off (decision 0120)', () => {
    const issued = loadConfig({ AMPORA_OPAMP_TLS_PORT: '4321', AMPORA_PUBLIC_URL: 'https://ampora.example.com' }).opamp;
    expect(issued.tlsCertFile).toBeUndefined();
    expect(issued.tlsHostnames.slice(0, 3)).toEqual(['ampora.example.com', 'localhost', '127.0.0.1']);
    expect(loadConfig({ AMPORA_OPAMP_TLS_HOSTNAMES: 'opamp.internal, 10.0.0.5 ,[::1]' }).opamp.tlsHostnames).toEqual(['opamp.internal', '10.0.0.5', '::1']);
    expect(() => loadConfig({ AMPORA_OPAMP_TLS_PORT: '4321', AMPORA_OPAMP_TLS_CERT_FILE: '/etc/ampora/tls.crt' })).toThrow(/AMPORA_OPAMP_TLS_KEY_FILE/);
    const defaults = loadConfig({}).opamp;
    expect([defaults.refusalBackoffSeconds, defaults.refusalBackoffMaxSeconds]).toEqual([5, 300]);
    expect(loadConfig({ AMPORA_OPAMP_REFUSAL_BACKOFF_SECONDS: '0' }).opamp.refusalBackoffSeconds).toBe(0);
    expect(loadConfig({}).pki.offerTimeoutSeconds).toBe(120);
  });
});

describe('the composed configuration', () => {
  it("holds every lib's section, read by the lib", () => {
    const c = loadConfig({});
    expect(Object.keys(c)).toEqual(expect.arrayContaining(['opamp', 'pki', 'fleet', 'rollouts']));
    expect(c.fleet.reconcileIntervalSeconds).toBe(30);
    expect(c.rollouts.tickMs).toBe(2000);
  });
});
