import { collectMetric, eventually, TestAgent } from '@ampora/testing';
import { DataSource } from 'typeorm';
import { rawRequest, RawResponse } from './support/raw-http';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Bounded parsing of untrusted texts (issue 25, decision 0130): every class of hostile input is
 * refused quickly with a problem+json carrying a stable code, and the OpAMP heartbeat of an agent on
 * the same instance stays fast while the worst of them is being refused.
 */

const ORDINARY = `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "0.0.0.0:4317" }
processors:
  filter:
    logs:
      log_record: ['IsMatch(body, "[[[[[[[[[[[[[[[[[[[[")']
exporters:
  debug: {}
service:
  pipelines:
    logs:
      receivers: [otlp]
      processors: [filter]
      exporters: [debug]
`;

const deepFlow = (n: number) => `a: ${'['.repeat(n)}${']'.repeat(n)}\n`;
const billionLaughs = () => {
  const lines = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
};

/** Each class of bad YAML, with the code that names the limit it exceeds. */
const BAD_YAML: Array<[string, () => string, string]> = [
  ['10,000-deep flow sequences (20 kB)', () => deepFlow(10_000), 'CONFIG_TOO_DEEP'],
  ['100,000-deep flow sequences (200 kB)', () => deepFlow(100_000), 'CONFIG_TOO_DEEP'],
  ['100,000-deep flow maps', () => `a: ${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}\n`, 'CONFIG_TOO_DEEP'],
  ['compact block sequences 50,000 deep', () => `${'- '.repeat(50_000)}x\n`, 'CONFIG_TOO_DEEP'],
  ['a text over the size limit', () => `a: "${'é'.repeat(300 * 1024)}"\n`, 'CONFIG_TOO_LARGE'],
  ['a billion laughs', billionLaughs, 'CONFIG_ALIAS_EXPANSION_TOO_LARGE'],
  ['an alias to its own enclosing node', () => 'a: &a [x, *a]\n', 'CONFIG_ALIAS_EXPANSION_TOO_LARGE'],
  ['too many aliases', () => `a: &a x\nb: [${Array(300).fill('*a').join(', ')}]\n`, 'CONFIG_TOO_MANY_ALIASES'],
  ['too many keys and values', () => `a: [${Array(60_000).fill('1').join(',')}]\n`, 'CONFIG_TOO_MANY_NODES'],
  ['too many tokens (comment lines)', () => '#\n'.repeat(200_000), 'CONFIG_TOO_COMPLEX'],
];

describe('bounded parsing of untrusted texts', () => {
  let server: TestServer;
  let configId: string;
  let agent: TestAgent;

  const versions = () => `${server.url}/api/configurations/${configId}/versions`;
  const postJson = (url: string, body: Buffer | string, contentType = 'application/json') => rawRequest(url, { body, contentType, token: server.adminToken });

  function expectProblem(res: RawResponse, status: number, code: string): void {
    expect({ status: res.status, code: res.json?.code }).toEqual({ status, code });
    expect(res.contentType).toContain('application/problem+json');
    expect(res.ms).toBeLessThan(2000);
  }

  beforeAll(async () => {
    server = await startTestServer();
    configId = (await server.as().post('/api/configurations').send({ name: 'limits' }).expect(201)).body.id;
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'limits' }).expect(201)).body.token;
    agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token });
    await agent.connect();
    agent.hello();
    await agent.next();
  });
  afterAll(async () => {
    await agent?.close();
    await server?.close();
  });

  it('accepts an ordinary configuration (brackets inside quoted strings are not nesting)', async () => {
    const res = await postJson(versions(), JSON.stringify({ yaml: ORDINARY }));
    expect(res.status).toBe(201);
    expect(res.json?.errorCount).toBe(0);
  });

  it.each(BAD_YAML)('refuses a version with %s: 422 naming the limit, in under 2 s', async (_name, text, code) => {
    const res = await postJson(versions(), JSON.stringify({ yaml: text() }));
    expectProblem(res, 422, code);
    expect(res.json?.limit).toEqual(expect.any(String));
  });

  it('refuses them when replacing a Draft too, and keeps the Draft as it was', async () => {
    const res = await rawRequest(`${versions()}/1`, { method: 'PUT', body: JSON.stringify({ yaml: deepFlow(100_000) }), contentType: 'application/json', token: server.adminToken });
    expectProblem(res, 422, 'CONFIG_TOO_DEEP');
    expect((await server.as().get(`/api/configurations/${configId}/versions/1`).expect(200)).body.yaml).toBe(ORDINARY);
  });

  it('refuses the same texts as a raw assignment to an agent', async () => {
    const agentId = await eventually(async () => (await server.as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    for (const [, text, code] of BAD_YAML) {
      expectProblem(await postJson(`${server.url}/api/agents/${agentId}/assign`, JSON.stringify({ yaml: text() })), 422, code);
    }
    expect(await collectMetric('ampora_config_limit_exceeded_total', { source: 'assignment', limit: 'depth' })).toBeGreaterThanOrEqual(4);
  });

  it('answers JSON bodies with invalid UTF-8 at once: 400 INVALID_ENCODING', async () => {
    const small = Buffer.concat([Buffer.from('{"yaml":"a: '), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]);
    expectProblem(await postJson(versions(), small), 400, 'INVALID_ENCODING');
    const large = Buffer.concat([Buffer.from('{"yaml":"a: '), Buffer.alloc(1_000_000, 0xff), Buffer.from('"}')]);
    expectProblem(await postJson(versions(), large), 400, 'INVALID_ENCODING');
    // an overlong encoding and a lone surrogate encoded in UTF-8 are not UTF-8 either
    expectProblem(await postJson(versions(), Buffer.concat([Buffer.from('{"yaml":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')])), 400, 'INVALID_ENCODING');
    expectProblem(await postJson(versions(), Buffer.concat([Buffer.from('{"yaml":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])), 400, 'INVALID_ENCODING');
  });

  it('answers other charsets with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectProblem(await postJson(versions(), Buffer.from('{"yaml":"a: \xe9"}', 'latin1'), 'application/json; charset=latin1'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await postJson(versions(), Buffer.from('{"yaml":"a: b"}', 'utf16le'), 'application/json; charset=utf-16'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await postJson(versions(), Buffer.from('{"yaml":"a: b"}'), 'application/json; charset=no-such-charset'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    // UTF-8 declared explicitly is fine
    expect((await postJson(versions(), JSON.stringify({ yaml: ORDINARY }), 'application/json; charset=UTF-8')).status).toBe(201);
  });

  it('bounds JSON bodies: size (413), nesting depth and member count (400), malformed (400)', async () => {
    expectProblem(await postJson(versions(), JSON.stringify({ yaml: 'a: ' + 'x'.repeat(3 * 1024 * 1024) })), 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await postJson(versions(), `{"yaml":"a: b","x":${'['.repeat(400_000)}${']'.repeat(400_000)}}`), 400, 'JSON_TOO_DEEP');
    expectProblem(await postJson(versions(), `{"yaml":"a: b","x":[${Array(30_000).fill('1').join(',')}]}`), 400, 'JSON_TOO_MANY_KEYS');
    expectProblem(await postJson(versions(), '{"yaml": "a: b",'), 400, 'VALIDATION_FAILED');
    expectProblem(await postJson(versions(), '"just a string"'), 400, 'VALIDATION_FAILED');
  });

  it('bounds the selector language: size and nesting are refused, not evaluated', async () => {
    const deep = `${'('.repeat(200)}a == "b"${')'.repeat(200)}`;
    const res = await postJson(`${server.url}/api/groups/preview`, JSON.stringify({ selector: deep }));
    expectProblem(res, 422, 'INVALID_SELECTOR');
    expectProblem(await postJson(`${server.url}/api/groups/preview`, JSON.stringify({ selector: `a == "${'x'.repeat(10_000)}"` })), 400, 'VALIDATION_FAILED');
  });

  it('stores an effective config over a limit flagged too large to analyse: drift unknown, counted, never parsed on read', async () => {
    const agentId = await eventually(async () => (await server.as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    await server.as().post(`/api/agents/${agentId}/assign`).send({ yaml: ORDINARY }).expect(200);
    const before = await collectMetric('ampora_config_limit_exceeded_total', { source: 'effective_config', limit: 'depth' });
    agent.reportEffective(deepFlow(100_000));
    await agent.next();
    const detail = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${agentId}`).expect(200)).body;
      return d.effectiveConfig?.tooLargeToAnalyse ? d : undefined;
    });
    expect(detail.drift).toBe('unknown');
    expect(detail.effectiveConfig.files[0].body).toBe(deepFlow(100_000));
    expect(await collectMetric('ampora_config_limit_exceeded_total', { source: 'effective_config', limit: 'depth' })).toBe(before + 1);
    const started = performance.now();
    const drift = (await server.as().get(`/api/agents/${agentId}/drift`).expect(200)).body;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(drift).toMatchObject({ drift: 'unknown', semantic: null, unified: '' });
    // the drift filters list it as unknown only
    const listed = async (d: boolean | 'unknown') => (await server.as().get(`/api/agents?drift=${d}`).expect(200)).body.items.map((a: { id: string }) => a.id);
    expect(await listed(true)).not.toContain(agentId);
    expect(await listed(false)).not.toContain(agentId);
    expect(await listed('unknown')).toContain(agentId);

    // an ordinary effective config clears the flag and is analysed again
    agent.reportEffective(ORDINARY);
    await agent.next();
    const cleared = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${agentId}`).expect(200)).body;
      return d.effectiveConfig?.tooLargeToAnalyse === false ? d : undefined;
    });
    expect(cleared.drift).toBe(false);
    const [row] = await server.app.get(DataSource).query('SELECT effective_config_too_large FROM agents WHERE id = $1', [agentId]);
    expect(row.effective_config_too_large).toBe(false);
  });

  it('keeps the OpAMP heartbeat of an agent on the same instance under 100 ms while the worst inputs are refused', async () => {
    const rtt = async () => {
      const t = performance.now();
      agent.heartbeat();
      await agent.next();
      return performance.now() - t;
    };
    // warm up, then a baseline on this (loaded) machine
    for (let i = 0; i < 5; i++) await rtt();
    const baseline: number[] = [];
    for (let i = 0; i < 10; i++) baseline.push(await rtt());

    let attacking = true;
    const worst = [deepFlow(100_000), `${'- '.repeat(200_000)}x\n`, '#\n'.repeat(200_000), billionLaughs()];
    const statuses: number[] = [];
    const slow: number[] = [];
    const attack = (async () => {
      for (let i = 0; attacking; i++) {
        const res = await postJson(versions(), JSON.stringify({ yaml: worst[i % worst.length] }));
        statuses.push(res.status);
        if (res.ms > 2000) slow.push(res.ms);
      }
    })();
    const during: number[] = [];
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      during.push(await rtt());
      await new Promise((r) => setTimeout(r, 20));
    }
    attacking = false;
    await attack;

    expect(statuses.length).toBeGreaterThan(4);
    expect(statuses.every((s) => s === 422)).toBe(true);
    expect(slow).toEqual([]);
    const sorted = [...during].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
    // the figure of the issue is 100 ms; on a loaded 2-core CI box the baseline itself is added as a margin
    const base = Math.max(...baseline);
    expect(p95).toBeLessThan(100 + base);
    expect(Math.max(...during)).toBeLessThan(250 + base);
  });
});
