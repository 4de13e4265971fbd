import { randomBytes } from 'node:crypto';
import { AgentRef } from '@ampora/opamp';
import { AgentStateWriter } from '@ampora/fleet';
import { AgentCapability, captureLogs, decodeServerToAgent, encodeAgentToServer, eventually, metricValue, scrape, SseClient, sseJson, TestAgent } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Issue 25: one agent reporting strings PostgreSQL cannot store (NUL, lone surrogates, invalid UTF-8)
 * in any field, while others heartbeat and change health. The others' updates land, the hostile
 * agent's state is stored neutralised and readable, nothing logs an error, the process lives.
 */
const logs = captureLogs('Information');

// Markers of three ASCII bytes, replaced in the encoded frame by three bytes that are not UTF-8 (the
// test agent's encoder cannot produce them): invalid bytes, and a UTF-8-encoded lone surrogate.
const INVALID = '~i~';
const SURROGATE = '~s~';
const EVIL = `a\u0000b${INVALID}c${SURROGATE}d`;
const R = '\uFFFD';
/** What EVIL is stored as: NUL → U+FFFD, each undecodable byte → U+FFFD. */
const STORED = `a${R}b${R}${R}${R}c${R}${R}${R}d`;

function poison(frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  for (const [marker, bytes] of [
    [INVALID, [0xff, 0xfe, 0xfd]],
    [SURROGATE, [0xed, 0xa0, 0x80]],
  ] as const) {
    for (let at = out.indexOf(marker); at >= 0; at = out.indexOf(marker, at + 3)) out.set(bytes, at);
  }
  return out;
}

const CAPS =
  AgentCapability.ReportsStatus |
  AgentCapability.AcceptsRemoteConfig |
  AgentCapability.ReportsEffectiveConfig |
  AgentCapability.ReportsHealth |
  AgentCapability.ReportsRemoteConfig |
  AgentCapability.ReportsHeartbeat;

const str = (s: string) => ({ string_value: s });

function description(instanceId: string, evil = false) {
  const identifying = [
    { key: 'service.name', value: str('io.opentelemetry.collector') },
    { key: 'service.instance.id', value: str(instanceId) },
  ];
  if (!evil) return { identifying_attributes: identifying, non_identifying_attributes: [{ key: 'host.name', value: str(`host-${instanceId}`) }] };
  return {
    identifying_attributes: [
      ...identifying,
      { key: `k${EVIL}`, value: str(EVIL) },
      { key: 'nested', value: { array_value: { values: [str(EVIL), { kvlist_value: { values: [{ key: EVIL, value: { array_value: { values: [str(EVIL)] } } }] } }] } } },
    ],
    non_identifying_attributes: [{ key: 'host.name', value: str(EVIL) }],
  };
}

function health(healthy: boolean, lastError: string, status = healthy ? 'StatusOK' : 'StatusRecoverableError') {
  return { healthy, status, last_error: lastError, component_health_map: { [`pipeline:${lastError}`]: { healthy, status, last_error: lastError } } };
}

/** Every kind of string an agent reports, each one hostile. */
function everything(instanceId: string) {
  return {
    agent_description: description(instanceId, true),
    health: health(false, EVIL, EVIL),
    remote_config_status: { status: 3, last_remote_config_hash: Buffer.alloc(32, 9), error_message: EVIL },
    effective_config: { config_map: { config_map: { [EVIL]: { body: Buffer.from(`receivers: {}\n# ${EVIL}\n`), content_type: EVIL } } } },
    package_statuses: { packages: { [EVIL]: { name: EVIL, agent_has_version: EVIL, error_message: EVIL } }, error_message: EVIL },
    available_components: { components: { [EVIL]: { sub_component_map: { [EVIL]: {} } } }, hash: Buffer.alloc(8, 1) },
    custom_capabilities: { capabilities: [EVIL] },
    connection_settings_status: { status: 3, error_message: EVIL },
  };
}

/** The hostile frames: everything at once, then each kind alone (the shape of a bystander's update). */
function hostileFrames(instanceId: string): Array<Record<string, unknown>> {
  const all = everything(instanceId);
  return [all, ...Object.entries(all).map(([k, v]) => ({ [k]: v }))];
}

describe('hostile strings reported over OpAMP', () => {
  let server: TestServer;
  let wsUrl: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' } });
    wsUrl = `${server.url.replace('http', 'ws')}/v1/opamp`;
  });
  afterAll(async () => {
    await server.close();
  });

  const token = async (label: string) => (await server.as().post('/api/bootstrap-tokens').send({ label }).expect(201)).body.token as string;
  const agentId = async (instanceId: string) =>
    (await eventually(async () => (await server.as().get(`/api/agents?label=service.instance.id=${instanceId}`).expect(200)).body.items[0]))
      .id as string;
  const detail = async (id: string) => (await server.as().get(`/api/agents/${id}`).expect(200)).body;

  async function wsAgent(instanceId: string): Promise<{ agent: TestAgent; id: string }> {
    const agent = new TestAgent({ url: wsUrl, token: await token(instanceId), capabilities: CAPS });
    await agent.connect();
    agent.send({ agent_description: description(instanceId), health: health(true, '') });
    expect((await agent.next()).error_response).toBeUndefined();
    return { agent, id: await agentId(instanceId) };
  }

  /** A plain HTTP agent: every poll is a POST /v1/opamp. */
  async function httpAgent(instanceId: string) {
    const bearer = await token(instanceId);
    const uid = randomBytes(16);
    let seq = 0;
    const post = async (fields: Record<string, unknown>, mangle = false) => {
      const frame = encodeAgentToServer({ instance_uid: uid, sequence_num: ++seq, capabilities: CAPS, ...fields });
      const res = await fetch(`${server.url}/v1/opamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${bearer}` },
        body: mangle ? poison(frame) : frame,
      });
      const reply = decodeServerToAgent(Buffer.from(await res.arrayBuffer()));
      return { status: res.status, reply };
    };
    const hello = await post({ agent_description: description(instanceId), health: health(true, '') });
    expect(hello.status).toBe(200);
    return { post, id: await agentId(instanceId) };
  }

  it('stores the hostile agent neutralised and every other agent as reported, with no error and no 5xx', async () => {
    const live = await SseClient.open(`${server.url}/api/live?types=agent.status_changed`, { token: server.adminToken });
    const scraped = await scrape(server.url);
    const before = { nul: metricValue(scraped, 'ampora_opamp_strings_neutralised_total', { reason: 'nul' }), utf8: metricValue(scraped, 'ampora_opamp_strings_neutralised_total', { reason: 'invalid_utf8' }) };
    const bystanders = await Promise.all(['calm-ws-1', 'calm-ws-2'].map(wsAgent));
    const calmHttp = await httpAgent('calm-http');
    const evilWs = await wsAgent('evil-ws');
    const evilHttp = await httpAgent('evil-http');

    const rounds = 3;
    for (let round = 1; round <= rounds; round++) {
      const healthy = round % 2 === 0;
      // each hostile frame is sent while the others report, so they share flushes (and statements)
      for (const fields of hostileFrames(`evil-${round}`)) {
        evilWs.agent.seq += 1;
        evilWs.agent.sendRaw(Buffer.concat([Buffer.from([0]), poison(encodeAgentToServer({ instance_uid: evilWs.agent.uid, sequence_num: evilWs.agent.seq, capabilities: CAPS, ...fields }))]));
        const [ws, http] = await Promise.all([evilWs.agent.next(), evilHttp.post(fields, true)]);
        expect(ws.error_response).toBeUndefined();
        expect(http.status).toBe(200);
        expect(http.reply.error_response).toBeUndefined();
        for (const b of bystanders) b.agent.send({ health: health(healthy, `round ${round}`) });
        for (const b of bystanders) b.agent.heartbeat();
        expect((await calmHttp.post({ health: health(healthy, `round ${round}`) })).status).toBe(200);
        for (const b of bystanders) for (let i = 0; i < 2; i++) expect((await b.agent.next()).error_response).toBeUndefined();
      }
      await new Promise((r) => setTimeout(r, 150));
    }

    // every bystander's last change landed
    for (const id of [...bystanders.map((b) => b.id), calmHttp.id]) {
      const d = await eventually(async () => {
        const x = await detail(id);
        return x.health?.lastError === `round ${rounds}` ? x : undefined;
      });
      expect(d).toMatchObject({ healthy: false, status: 'connected', health: { healthy: false, status: 'StatusRecoverableError' } });
      expect(d.health.components).toEqual({ [`pipeline:round ${rounds}`]: expect.objectContaining({ lastError: `round ${rounds}` }) });
    }

    // the hostile agents are stored neutralised, every field, and readable
    for (const { id, transport } of [
      { id: evilWs.id, transport: 'ws' },
      { id: evilHttp.id, transport: 'http' },
    ]) {
      const d = await eventually(async () => {
        const x = await detail(id);
        return x.remoteConfig.errorMessage === STORED && x.customCapabilities.length ? x : undefined;
      });
      expect(d.connection).toMatchObject({ connected: true, transport });
      expect(d.identifyingAttributes).toMatchObject({ [`k${STORED}`]: STORED, nested: [STORED, { [STORED]: [STORED] }], 'service.instance.id': `evil-${rounds}` });
      expect(d.nonIdentifyingAttributes).toEqual({ 'host.name': STORED });
      expect(d.labels).toMatchObject({ [`k${STORED}`]: STORED, 'host.name': STORED });
      expect(d.health).toMatchObject({ healthy: false, status: STORED, lastError: STORED, components: { [`pipeline:${STORED}`]: { lastError: STORED } } });
      expect(d.remoteConfig).toMatchObject({ status: 'FAILED', errorMessage: STORED });
      expect(d.effectiveConfig.files).toEqual([{ name: STORED, contentType: STORED, body: `receivers: {}\n# a\u0000b${R}${R}${R}c${R}${R}${R}d\n` }]);
      expect(d.packageStatuses).toMatchObject({ packages: { [STORED]: { name: STORED, agentHasVersion: STORED, errorMessage: STORED } }, errorMessage: STORED });
      expect(d.availableComponents).toMatchObject({ components: [STORED], subComponents: { [STORED]: [STORED] } });
      expect(d.customCapabilities).toEqual([STORED]);
      expect(d.connectionSettings).toMatchObject({ status: 'FAILED', errorMessage: STORED });
      expect(JSON.stringify(d)).not.toContain('\\u0000"');
    }
    const list = await server.as().get('/api/agents?limit=100').expect(200);
    expect(list.body.items).toHaveLength(5);
    expect((await server.as().get(`/api/agents?text=${encodeURIComponent(STORED)}`)).status).toBeLessThan(500);

    // the live stream carried the neutralised status
    await live.waitFor((e) => sseJson<{ payload?: { agentId?: string; remoteConfigStatus?: { errorMessage?: string } } }>(e).payload?.remoteConfigStatus?.errorMessage === STORED);
    live.close();

    const after = await scrape(server.url);
    expect(metricValue(after, 'ampora_opamp_strings_neutralised_total', { reason: 'nul' }) - before.nul).toBeGreaterThanOrEqual(2 * rounds * 9);
    expect(metricValue(after, 'ampora_opamp_strings_neutralised_total', { reason: 'invalid_utf8' }) - before.utf8).toBe(2 * rounds * 9);
    expect(logs.records.filter((r) => r.level === 'Error' || r.level === 'Critical')).toEqual([]);
    expect(logs.lines.some((l) => l.includes('\\u0000') || l.includes('~i~'))).toBe(false);
    expect(logs.find((r) => r.level === 'Warning' && r.AgentId === evilWs.id && /neutralised/.test(r.message))).toBeDefined();
    expect((await server.http.get('/health/ready')).status).toBe(200);
    for (const b of [...bystanders, evilWs]) await b.agent.close();
  });

  it('writes the rest of a batch when PostgreSQL refuses one agent\'s update, and drops only that one', async () => {
    // a report that reached the writer unneutralised (a new field someone forgot): one row of the batch
    // PostgreSQL refuses, in a jsonb column and in a text column, next to ordinary rows of the same shape
    const writer = server.app.get(AgentStateWriter);
    const ids = await Promise.all(['batch-evil-json', 'batch-evil-text', 'batch-calm-1', 'batch-calm-2'].map(async (n) => (await wsAgent(n)).id));
    const tenantId = (await detail(ids[0]!)).tenantId as string;
    const ref = (agentId: string): AgentRef => ({ agentId, tenantId });
    await writer.flush();
    const droppedBefore = writer.totals.dropped;
    const metricBefore = metricValue(await scrape(server.url), 'ampora_agent_state_updates_dropped_total');
    const now = new Date();
    const h = (lastError: string) => ({ healthy: true, status: 'ok', lastError, startTime: null, statusTime: null, components: {} });
    const rc = (errorMessage: string) => ({ status: 'FAILED' as const, hash: 'ab', errorMessage });
    writer.report(ref(ids[0]!), { health: h('json \u0000 nul') }, now);
    writer.report(ref(ids[1]!), { remoteConfigStatus: rc('text \u0000 nul') }, now);
    writer.report(ref(ids[2]!), { health: h('calm json') }, now);
    writer.report(ref(ids[3]!), { remoteConfigStatus: rc('calm text') }, now);
    await writer.flush();
    await writer.flush();

    expect(writer.pendingAgents).toBe(0);
    expect(writer.totals.dropped - droppedBefore).toBe(2);
    expect((await detail(ids[2]!)).health.lastError).toBe('calm json');
    expect((await detail(ids[3]!)).remoteConfig.errorMessage).toBe('calm text');
    expect((await detail(ids[0]!)).health.lastError).toBe('');
    expect((await detail(ids[1]!)).remoteConfig.errorMessage).toBeNull();
    expect(metricValue(await scrape(server.url), 'ampora_agent_state_updates_dropped_total') - metricBefore).toBe(2);
    const warned = logs.records.filter((r) => r.level === 'Warning' && /refused by the database/.test(r.message));
    expect(warned.map((r) => r.AgentId).sort()).toEqual([ids[0], ids[1]].sort());
    expect(warned.map((r) => JSON.stringify(r)).join('\n')).not.toMatch(/nul|\\u0000/);
    // and the writer goes on: a later update of the hostile agent lands
    writer.report(ref(ids[0]!), { health: h('recovered') }, new Date());
    await writer.flush();
    expect((await detail(ids[0]!)).health.lastError).toBe('recovered');
    expect((await server.http.get('/health/ready')).status).toBe(200);
  });
});
