import { randomBytes } from 'node:crypto';
import { mintToken, RedisService } from '@ampora/platform';
import { captureLogs, encodeAgentToServer, metricValue, scrape, TestAgent } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Issue 25 item 3: refusals that slow clients down (decision 0120). opamp-go reconnects at once after a
 * server-side close and honours Retry-After only on a refused upgrade, so every refusal carries
 * Retry-After, and a refusal remembered for a credential and source turns the next attempts into 429
 * at the upgrade, with a Retry-After that grows (here from 1 s, doubling).
 */
describe('refusals that slow OpAMP clients down', () => {
  captureLogs('Information');
  let server: TestServer;
  const agents: TestAgent[] = [];
  const track = (a: TestAgent) => (agents.push(a), a);
  const wsUrl = () => `ws://127.0.0.1:${server.port}/v1/opamp`;
  const authFailed = async () => metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason: 'auth_failed' });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const refusal = (token: string) => track(new TestAgent({ url: wsUrl(), token })).connect().then(
    () => ({ status: 101, retryAfter: undefined as number | undefined }),
    (e: { status?: number; retryAfter?: number }) => ({ status: e.status, retryAfter: e.retryAfter }),
  );
  const newToken = async () => (await server.as().post('/api/bootstrap-tokens').send({ label: 'refusals' }).expect(201)).body as { id: string; token: string };

  beforeAll(async () => {
    server = await startTestServer({ env: { AMPORA_OPAMP_REFUSAL_BACKOFF_SECONDS: '1', AMPORA_OPAMP_REFUSAL_BACKOFF_MAX_SECONDS: '8' } });
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server.close();
  });

  it('refuses an unknown token at the upgrade with 401 and Retry-After, then 429 while remembered, longer each time', async () => {
    const before = await authFailed();
    const token = mintToken('amp-bs');
    expect(await refusal(token)).toEqual({ status: 401, retryAfter: 1 });
    expect(await refusal(token)).toEqual({ status: 429, retryAfter: 1 });
    await sleep(1100);
    expect(await refusal(token)).toEqual({ status: 401, retryAfter: 2 });
    expect(await refusal(token)).toEqual({ status: 429, retryAfter: 2 });
    await sleep(2100);
    expect(await refusal(token)).toEqual({ status: 401, retryAfter: 4 });
    // another credential from the same source is not slowed down by this one
    expect(await refusal(mintToken('amp-bs'))).toEqual({ status: 401, retryAfter: 1 });
    expect(await authFailed()).toBe(before + 6);
  });

  it('remembers a refusal that needed the first frame (a redeemed token from another instance uid), in Redis, so the next attempts are refused at the upgrade', async () => {
    const { token } = await newToken();
    const owner = track(new TestAgent({ url: wsUrl(), token }));
    await owner.connect();
    owner.hello();
    expect((await owner.next()).error_response).toBeUndefined();
    await owner.close();
    const before = await authFailed();

    const other = track(new TestAgent({ url: wsUrl(), token, instanceUid: randomBytes(16) }));
    await other.connect();
    other.hello();
    expect(await other.closed()).toBe(1008);
    // what opamp-go does next (reconnect at once) is refused before the upgrade
    expect(await refusal(token)).toEqual({ status: 429, retryAfter: 1 });
    const redis = server.app.get(RedisService);
    expect((await redis.client().keys(`${redis.prefix}:opamp:refused:*`)).length).toBeGreaterThanOrEqual(1);

    await sleep(1100);
    const again = track(new TestAgent({ url: wsUrl(), token, instanceUid: other.uid }));
    await again.connect();
    again.hello();
    expect(await again.closed()).toBe(1008);
    const second = await refusal(token);
    expect(second.status).toBe(429);
    expect(second.retryAfter).toBe(2);
    expect(await authFailed()).toBe(before + 4);
  });

  it('shares remembered refusals between instances over Redis: the next attempt at another instance is refused 429', async () => {
    const other = await startTestServer({ db: server.db, env: { AMPORA_REDIS_PREFIX: server.env.AMPORA_REDIS_PREFIX!, AMPORA_OPAMP_REFUSAL_BACKOFF_SECONDS: '1', AMPORA_OPAMP_REFUSAL_BACKOFF_MAX_SECONDS: '8' } });
    try {
      const { token } = await newToken();
      const owner = track(new TestAgent({ url: wsUrl(), token }));
      await owner.connect();
      owner.hello();
      expect((await owner.next()).error_response).toBeUndefined();
      await owner.close();
      const stranger = track(new TestAgent({ url: wsUrl(), token, instanceUid: randomBytes(16) }));
      await stranger.connect();
      stranger.hello();
      expect(await stranger.closed()).toBe(1008);
      const elsewhere = await track(new TestAgent({ url: `ws://127.0.0.1:${other.port}/v1/opamp`, token })).connect().then(
        () => ({ status: 101 }),
        (e: { status?: number; retryAfter?: number }) => ({ status: e.status, retryAfter: e.retryAfter }),
      );
      expect(elsewhere).toEqual({ status: 429, retryAfter: 1 });
    } finally {
      await other.close();
    }
  });

  it('refuses a revoked token 403 with Retry-After', async () => {
    const { id, token } = await newToken();
    await server.as().delete(`/api/bootstrap-tokens/${id}`).expect((r) => expect(r.status).toBeLessThan(300));
    expect(await refusal(token)).toEqual({ status: 403, retryAfter: 1 });
    expect(await refusal(token)).toEqual({ status: 429, retryAfter: 1 });
  });

  it('answers plain HTTP agents the same way: 401 then 429, with Retry-After, for the upgrade-time and the first-frame refusals', async () => {
    const post = (token: string, uid: Buffer) =>
      fetch(`${server.url}/v1/opamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
        body: encodeAgentToServer({ instance_uid: uid, sequence_num: 1, capabilities: 0x1 }),
      });
    const before = await authFailed();
    const unknown = mintToken('amp-bs');
    const first = await post(unknown, randomBytes(16));
    expect([first.status, first.headers.get('retry-after')]).toEqual([401, '1']);
    const second = await post(unknown, randomBytes(16));
    expect([second.status, second.headers.get('retry-after')]).toEqual([429, '1']);

    const { token } = await newToken();
    expect((await post(token, randomBytes(16))).status).toBe(200);
    const stranger = await post(token, randomBytes(16));
    expect([stranger.status, stranger.headers.get('retry-after')]).toEqual([401, '1']);
    const next = await post(token, randomBytes(16));
    expect([next.status, next.headers.get('retry-after')]).toEqual([429, '1']);
    expect(await authFailed()).toBe(before + 4);
  });
});
