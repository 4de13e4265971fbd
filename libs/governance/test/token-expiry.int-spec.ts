import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AccessPolicy, Clock, PlatformModule, startTelemetry } from '@ampora/platform';
import { createTestDatabase, TestClock, TestDatabase, testEnv } from '@ampora/testing';
import { DEFAULT_TENANT, GovernanceModule, Role, TokenService } from '../src';

const HOUR = 3_600_000;

/** Token expiry is read from the injected Clock: moving the test clock expires a token, without sleeping. */
describe('token expiry on the injected clock', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let clock: TestClock;

  beforeAll(async () => {
    db = await createTestDatabase();
    const { config } = testEnv(db.url);
    startTelemetry(config, 'worker');
    clock = new TestClock(Date.now());
    const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), GovernanceModule] })
      .overrideProvider(Clock)
      .useValue(clock)
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });
  afterAll(async () => {
    await app?.close();
    await db.drop();
  });

  it('accepts a token until its expiry on the clock, then refuses it (401 through the AccessPolicy)', async () => {
    const tokens = app.get(TokenService);
    const access = app.get(AccessPolicy);
    const { plaintext, token } = await tokens.createForTenantName(DEFAULT_TENANT, { name: 'expiring', role: Role.Operator, expiresAt: new Date(clock.nowMs() + HOUR) });
    expect(token.createdBy).toBe('cli');

    expect(await tokens.authenticate(plaintext)).toMatchObject({ kind: 'pat', role: Role.Operator, actor: 'expiring' });
    expect(await access.authenticate(`Bearer ${plaintext}`)).toMatchObject({ ok: true });

    await clock.advance(HOUR - 1);
    expect(await tokens.authenticate(plaintext)).toBeDefined();

    await clock.advance(1);
    expect(await tokens.authenticate(plaintext)).toBeUndefined();
    expect(await access.authenticate(`Bearer ${plaintext}`)).toEqual({ ok: false, status: 401, reason: 'The access token is unknown, revoked, expired or malformed' });
  });

  it('refuses to create a token whose expiry is not after the clock\'s now', async () => {
    const tokens = app.get(TokenService);
    // an hour ahead of the wall clock, but behind the test clock once it has moved two hours on
    const expiresAt = new Date(clock.nowMs() + HOUR);
    await clock.advance(2 * HOUR);
    await expect(tokens.createForTenantName(DEFAULT_TENANT, { name: 'too-late', role: Role.Viewer, expiresAt })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
