import { eventually, TestAgent, TestClock } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/**
 * WebSocket pings (decision 0424): an agent heard from since the last round (a frame or a pong) is
 * not pinged; one not heard from is pinged; one that answers neither frames nor pings for a round
 * after its ping is cut. The rounds run on the server's Clock.
 */
describe('OpAMP WebSocket pings find dead peers and leave talking ones alone', () => {
  let server: TestServer;
  const clock = new TestClock(Date.now());

  beforeAll(async () => {
    // the heartbeat window (which ends silent sessions on its own) is far beyond these rounds
    server = await startTestServer({ clock, env: { AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS: '3600' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** A connected agent whose pings and closes are counted; `answersPings` false: it never sends a pong. */
  async function agent(answersPings: boolean) {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'ping' }).expect(201)).body.token as string;
    const a = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, wsOptions: { autoPong: answersPings } });
    await a.connect();
    a.hello();
    await a.next();
    const seen = { pings: 0, closed: false };
    a.ws!.on('ping', () => seen.pings++);
    a.ws!.on('close', () => (seen.closed = true));
    return { a, seen };
  }

  /** One ping round, and time for what it sends to cross loopback (what must arrive is waited for below). */
  async function round() {
    // frames and pongs in flight reach the server first
    await new Promise((r) => setTimeout(r, 200));
    await clock.advance(30_000);
    await new Promise((r) => setTimeout(r, 300));
  }

  it('pings only the silent, and cuts the silent that do not answer', async () => {
    const talking = await agent(false); // heartbeats every round, never answers a ping
    const silentAnswering = await agent(true); // never sends a frame, answers pings
    const silentDead = await agent(false); // neither

    const heartbeat = async () => {
      talking.a.heartbeat();
      await talking.a.next();
    };

    // round 1: everyone was heard at connection: nobody pinged
    await heartbeat();
    await round();
    expect([talking.seen.pings, silentAnswering.seen.pings, silentDead.seen.pings]).toEqual([0, 0, 0]);

    // round 2: the talking agent sent a frame since; the two silent ones are pinged
    await heartbeat();
    await round();
    await eventually(() => silentAnswering.seen.pings === 1 && silentDead.seen.pings === 1);
    expect([talking.seen.pings, silentAnswering.seen.pings, silentDead.seen.pings]).toEqual([0, 1, 1]);
    expect(silentDead.seen.closed).toBe(false);

    // round 3: the one that answered its ping stays (not pinged: it was heard); the other is cut
    await heartbeat();
    await round();
    await eventually(() => silentDead.seen.closed);
    expect(silentDead.seen.closed).toBe(true);
    expect(silentAnswering.seen.closed).toBe(false);
    expect(talking.seen.closed).toBe(false);
    expect(talking.seen.pings).toBe(0);

    // round 4: the answering one was not heard since round 3 reset it: pinged again, and stays
    await heartbeat();
    await round();
    await eventually(() => silentAnswering.seen.pings === 2);
    expect(silentAnswering.seen.pings).toBe(2);
    expect(silentAnswering.seen.closed).toBe(false);
    expect(talking.seen.closed).toBe(false);
    // the talking agent is still served
    talking.a.heartbeat();
    await talking.a.next();
    await Promise.all([talking.a.close(), silentAnswering.a.close()]);
  });
});
