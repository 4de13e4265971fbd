import fc from 'fast-check';
import { encodeAgentToServer, metricValue, scrape, TestAgent } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Property: whatever bytes an agent sends, the server answers each frame exactly once, either by
 * handling it or with an error response that is counted as a rejection, keeps the connection, and
 * other agents never notice.
 */
describe('random and damaged frames through the whole server', () => {
  let server: TestServer;
  let url: string;
  let fuzzer: TestAgent;
  let bystander: TestAgent;
  let token: string;

  async function agent(t: string, uid?: Buffer): Promise<TestAgent> {
    const a = new TestAgent({ url, token: t, instanceUid: uid });
    await a.connect();
    a.hello();
    await a.next();
    return a;
  }

  beforeAll(async () => {
    server = await startTestServer();
    url = `${server.url.replace('http', 'ws')}/v1/opamp`;
    token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'fuzz' }).expect(201)).body.token;
    fuzzer = await agent(token);
    bystander = await agent((await server.as().post('/api/bootstrap-tokens').send({ label: 'bystander' }).expect(201)).body.token);
  });
  afterAll(async () => {
    await fuzzer.close();
    await bystander.close();
    await server.close();
  });

  it('answers or rejects (and counts) every frame, and disturbs nobody', async () => {
    const template = () =>
      encodeAgentToServer({
        instance_uid: fuzzer.uid,
        sequence_num: fuzzer.seq + 1,
        capabilities: 0x3007,
        agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'fuzzed' } }] },
        remote_config_status: { status: 1, last_remote_config_hash: Buffer.alloc(32, 1) },
      });
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
      fc
        .record({
          header: fc.boolean(),
          flips: fc.array(fc.record({ at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
          cut: fc.option(fc.nat()),
        })
        .map(({ header, flips, cut }) => {
          let bytes = Buffer.from(template());
          for (const f of flips) bytes[f.at % bytes.length] = f.to;
          if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          return header ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
        }),
    );
    const before = metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason: 'malformed' });
    let handled = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(frame, async (bytes) => {
        if (fuzzer.closeCode !== undefined) fuzzer = await agent(token, fuzzer.uid); // a frame may carry AgentDisconnect
        fuzzer.seq += 1;
        fuzzer.sendRaw(bytes);
        const reply = await fuzzer.next(5000);
        if (reply.error_response) rejected++;
        else handled++;
      }),
      { numRuns: 150 },
    );
    expect(handled + rejected).toBe(150);
    expect(rejected).toBeGreaterThan(0);
    expect(handled).toBeGreaterThan(0);
    const after = metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason: 'malformed' });
    expect(after - before).toBe(rejected);
    bystander.heartbeat();
    expect((await bystander.next()).error_response).toBeUndefined();
    const ready = await server.http.get('/health/ready');
    expect(ready.status).toBe(200);
  });
});
