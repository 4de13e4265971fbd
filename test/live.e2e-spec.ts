import { LiveBus, LiveStreamService } from '@ampora/platform';
import { Role, TenantService, TokenService } from '@ampora/governance';
import { eventually, metricValue, scrape, SseClient, sseJson, TestAgent } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

const BUFFER = 50;
const REPLAY = 100;

/** The live-update bus as operators see it: `GET /api/live` (Server-Sent Events). */
describe('GET /api/live', () => {
  let server: TestServer;
  let bus: LiveBus;
  let viewer: string;
  let tenantId: string;
  let otherTenantId: string;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { AMPORA_LIVE_SUBSCRIBER_BUFFER: String(BUFFER), AMPORA_LIVE_REPLAY_EVENTS: String(REPLAY), AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' } });
    bus = server.app.get(LiveBus);
    viewer = await createToken(server, 'Viewer', 'live-viewer');
    const tenants = server.app.get(TenantService);
    tenantId = (await tenants.getByName('default')).id;
    otherTenantId = (await tenants.create('live-other')).id;
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await server.close();
  });

  async function open(options: { token?: string; lastEventId?: string; query?: string } = {}): Promise<SseClient> {
    const stream = await SseClient.open(`${server.url}/api/live${options.query ?? ''}`, { token: options.token ?? viewer, lastEventId: options.lastEventId });
    streams.push(stream);
    return stream;
  }

  function publish(type: string, payload: unknown, tenant = tenantId, entityId?: string) {
    return bus.publish({ type, tenantId: tenant, entityId, payload });
  }

  it('streams the events of the caller\'s tenant to a Viewer, as text/event-stream with ids and JSON data', async () => {
    const stream = await open();
    const otherToken = (await server.app.get(TokenService).createForTenantName('live-other', { name: 'other-viewer', role: Role.Viewer })).plaintext;
    const other = await open({ token: otherToken });
    expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(stream.response.headers['cache-control']).toContain('no-cache');
    const theirs = publish('rollout.progressed', { step: 1 }, otherTenantId);
    const sent = publish('group.membership_changed', { added: ['a1'] }, tenantId, 'g1');
    const e = await stream.waitFor((x) => x.event === 'group.membership_changed');
    expect(e.id).toBe(sent.id);
    expect(sseJson(e)).toEqual({ id: sent.id, type: 'group.membership_changed', tenantId, entityId: 'g1', at: sent.at, origin: server.config.app.instanceId, payload: { added: ['a1'] } });
    expect(stream.events.some((x) => x.event === 'rollout.progressed')).toBe(false);
    await other.waitFor((x) => x.id === theirs.id);
    expect(other.events.map((x) => x.event)).toEqual(['rollout.progressed']);
  });

  it('refuses anonymous callers and bad filters with problem documents', async () => {
    await expect(SseClient.open(`${server.url}/api/live`)).rejects.toMatchObject({ status: 401 });
    const bad = await SseClient.open(`${server.url}/api/live?types=agent.connected,Not%20A%20Type`, { token: viewer }).catch((e: { status: number; body: string; headers: Record<string, string> }) => e);
    expect(bad).toMatchObject({ status: 400 });
    const problem = JSON.parse((bad as { body: string }).body);
    expect((bad as { headers: Record<string, string> }).headers['content-type']).toContain('application/problem+json');
    expect(problem).toMatchObject({ code: 'VALIDATION_FAILED', errors: [expect.objectContaining({ message: expect.stringContaining('Not A Type') })] });
  });

  it('filters by type: exact names and prefixes, repeated or comma-separated', async () => {
    const stream = await open({ query: '?types=agent.*&types=group.membership_changed' });
    publish('configuration.version_published', { n: 1 });
    publish('agent.status_changed', { n: 2 });
    publish('group.membership_changed', { n: 3 });
    publish('agentx.other', { n: 4 });
    await stream.waitUntil((events) => events.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.events.map((e) => e.event)).toEqual(['agent.status_changed', 'group.membership_changed']);
  });

  it('shows agents connecting and disconnecting, with the instance that holds them', async () => {
    const stream = await open({ query: '?types=agent.connected,agent.disconnected' });
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'live' }).expect(201)).body.token as string;
    const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token });
    await agent.connect();
    agent.hello();
    await agent.next();
    const connected = await stream.waitFor((e) => e.event === 'agent.connected');
    expect(sseJson(connected).payload).toMatchObject({ transport: 'ws', instance: server.config.app.instanceId, agentId: expect.any(String) });
    await agent.close();
    const disconnected = await stream.waitFor((e) => e.event === 'agent.disconnected');
    expect(sseJson(disconnected).entityId).toBe(sseJson(connected).entityId);
  });

  it('resumes after Last-Event-ID with what was missed, then continues live', async () => {
    const first = await open({ query: '?types=resume.test' });
    const seen = publish('resume.test', { n: 0 });
    await first.waitFor((e) => e.id === seen.id);
    first.close();
    const missed = [1, 2, 3].map((n) => publish('resume.test', { n }));
    publish('other.type', { ignored: true });
    const again = await open({ query: '?types=resume.test', lastEventId: seen.id });
    const live = publish('resume.test', { n: 4 });
    await again.waitUntil((events) => events.some((e) => e.id === live.id));
    expect(again.events.map((e) => e.id)).toEqual([...missed.map((m) => m.id), live.id]);
    // the query parameter works too, for clients that cannot set headers
    const viaQuery = await open({ query: `?types=resume.test&lastEventId=${encodeURIComponent(missed[1]!.id)}` });
    await viaQuery.waitUntil((events) => events.length >= 2);
    expect(viaQuery.events.map((e) => e.id)).toEqual([missed[2]!.id, live.id]);
  });

  it('says reset when the events after Last-Event-ID are no longer known', async () => {
    const old = publish('window.test', { n: -1 });
    for (let i = 0; i < REPLAY + 5; i++) publish('window.test', { n: i });
    const stream = await open({ query: '?types=window.test', lastEventId: old.id });
    const reset = await stream.waitFor((e) => e.event === 'reset');
    expect(sseJson(reset)).toEqual({ reason: 'outside_window', lastEventId: old.id });
    expect(stream.of('window.test')).toHaveLength(0);
    const garbage = await open({ lastEventId: 'not-one-of-ours' });
    expect(sseJson(await garbage.waitFor((e) => e.event === 'reset'))).toMatchObject({ reason: 'unknown_event_id' });
  });

  it('drops for a slow subscriber only, tells it how many, counts them; a fast one on the same instance loses nothing', async () => {
    for (const s of streams.splice(0)) s.close();
    await eventually(() => server.app.get(LiveStreamService).size === 0);
    const fast = await open({ query: '?types=flood' });
    const slow = await open({ token: await createToken(server, 'Viewer', 'slow-reader'), query: '?types=flood' });
    slow.pause();
    const payload = 'x'.repeat(16 * 1024);
    const total = 2500;
    const ids: string[] = [];
    for (let i = 0; i < total; i += 10) {
      for (let j = i; j < i + 10; j++) ids.push(publish('flood', { n: j, payload }).id);
      await new Promise((r) => setTimeout(r, 2));
    }
    // the fast reader got every event, in order, and was never told of a drop
    await fast.waitUntil((events) => events.length >= total, 30000);
    expect(fast.events.map((e) => e.id)).toEqual(ids);
    expect(fast.of('dropped')).toHaveLength(0);

    slow.resume();
    await slow.waitUntil((events) => events.some((e) => e.id === ids[total - 1]), 30000);
    const dropped = slow.of('dropped');
    expect(dropped.length).toBeGreaterThanOrEqual(1);
    const droppedCount = dropped.reduce((n, e) => n + sseJson<{ count: number }>(e).count, 0);
    const delivered = slow.of('flood');
    expect(droppedCount).toBeGreaterThan(0);
    expect(delivered.length + droppedCount).toBe(total);
    // what it did get is in order, and the newest events (the last buffer full) all arrived
    const positions = delivered.map((e) => ids.indexOf(e.id!));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(delivered.slice(-BUFFER).map((e) => e.id)).toEqual(ids.slice(-BUFFER));
    // the drop marker sits exactly where the gap is, naming the last event before it
    const marker = slow.events.findIndex((e) => e.event === 'dropped');
    expect(sseJson(slow.events[marker]!).lastEventId).toBe(slow.events[marker - 1]?.id ?? null);

    const metrics = await scrape(server.url);
    expect(metricValue(metrics, 'ampora_live_bus_dropped_total', { tenant: 'default', subscriber: 'sse:slow-reader' })).toBe(droppedCount);
    expect(metricValue(metrics, 'ampora_live_bus_dropped_total', { subscriber: 'sse:live-viewer' })).toBe(0);
    expect(metricValue(metrics, 'ampora_live_bus_events_total', { tenant: 'default', event_type: 'flood', direction: 'published' })).toBe(total);
    expect(metricValue(metrics, 'ampora_live_bus_events_total', { tenant: 'default', event_type: 'flood', direction: 'consumed' })).toBe(2 * total);
  }, 90000);

  it('ends a stream whose token is revoked', async () => {
    server.app.get(LiveStreamService).reauthIntervalMs = 200;
    const created = (await server.as().post('/api/tokens').send({ name: 'short-lived', role: 'Viewer' }).expect(201)).body as { id: string; token: string };
    const stream = await open({ token: created.token });
    await new Promise((r) => setTimeout(r, 500));
    expect(stream.ended).toBe(false);
    await server.as().delete(`/api/tokens/${created.id}`).expect((res) => expect(res.status).toBeLessThan(300));
    await stream.waitForEnd(5000);
    expect(stream.ended).toBe(true);
    await expect(SseClient.open(`${server.url}/api/live`, { token: created.token })).rejects.toMatchObject({ status: 401 });
  });

  it('ends every stream when the server shuts down, so clients reconnect elsewhere', async () => {
    const own = await startTestServer();
    const token = await createToken(own, 'Viewer');
    const stream = await SseClient.open(`${own.url}/api/live`, { token });
    await own.close();
    await stream.waitForEnd(5000);
    expect(stream.ended).toBe(true);
  });
});
