import { hashToken, LiveBus, prometheusExporter } from '@ampora/platform';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AGENT_AUTHENTICATOR, AgentAuthenticator, SessionLeaseKeeper, SessionRegistry } from '@ampora/opamp';
import { AgentCapability, eventually, TestAgent } from '@ampora/testing';
import { apiClient, assignGroup, collectorYaml, createStaticGroup, publishVersions } from './support/rollout-kit';
import { startTestServer, TestServer } from './support/test-server';

/** Every statement the server has timed so far, by its `query` label (`ampora_db_query_duration_seconds`). */
async function statementsByLabel(): Promise<Map<string, number>> {
  const { resourceMetrics } = await prometheusExporter().collect();
  const counts = new Map<string, number>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== 'ampora_db_query_duration_seconds') continue;
      for (const point of metric.dataPoints as Array<{ attributes: Record<string, unknown>; value: { count: number } }>) {
        const label = String(point.attributes.query);
        counts.set(label, (counts.get(label) ?? 0) + point.value.count);
      }
    }
  }
  return counts;
}

function difference(after: Map<string, number>, before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, n] of [...after].sort(([a], [b]) => a.localeCompare(b))) if (n !== (before.get(label) ?? 0)) out[label] = n - (before.get(label) ?? 0);
  return out;
}

/** One first connection of a new agent (a token from `body`, or `body.token`), and the statements it cost the server. */
async function enrolOne(
  server: TestServer,
  body: Record<string, unknown>,
  agentOptions: { instanceUid?: Buffer; capabilities?: number } = {},
): Promise<{ statements: Record<string, number>; total: number; agent: TestAgent; reply: Awaited<ReturnType<TestAgent['next']>> }> {
  const token = typeof body.token === 'string' ? body.token : ((await server.as().post('/api/bootstrap-tokens').send(body).expect(201)).body.token as string);
  const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, ...agentOptions });
  const leases = server.app.get(SessionLeaseKeeper);
  await leases.settled();
  await new Promise((r) => setTimeout(r, 50)); // the token request's own statements are counted
  const before = await statementsByLabel();
  await agent.connect();
  agent.hello();
  const reply = await agent.next();
  await leases.settled();
  await new Promise((r) => setTimeout(r, 50));
  const statements = difference(await statementsByLabel(), before);
  return { statements, total: Object.values(statements).reduce((a, b) => a + b, 0), agent, reply };
}

/**
 * Issue 23 item 5 (decision 0415): what the first connection of a new agent costs the database, end
 * to end: the token lookup before the upgrade, the redemption (token, group placement, agent row,
 * audit event: one statement), the session lease and the assignment read after it. Counted from the
 * server's own statement metric around one enrolment, with nothing else running (the state writer's
 * flush and the lease renewal pushed out of the way); the first-status UPDATE is the writer's, shared
 * by every agent of a flush, and not part of it. Adding a statement to this path fails here.
 */
describe('the statements of one enrolment', () => {
  let server: TestServer;
  let url: string;

  beforeAll(async () => {
    // a pool of 40: 20 redemptions at once through the admission gate (decision 0392), for the race below
    server = await startTestServer({ env: { AMPORA_OPAMP_FLUSH_INTERVAL_MS: '3600000', AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '3600', AMPORA_DB_POOL_MAX: '40' } });
    url = `${server.url.replace('http', 'ws')}/v1/opamp`;
  });
  afterAll(async () => {
    await server.close();
    await server.db.drop();
  });


  const expected = {
    'select bootstrap_tokens': 1, // the token, before the upgrade
    'with bootstrap_tokens': 1, // the redemption: token, uid, placement, agent, token update, audit event
    'with agent_session_ownership': 1, // the lease
    'select agents': 1, // the assignment since the attach, once the lease is held
  };

  it('costs four statements without a group, the same each time', async () => {
    for (let i = 0; i < 3; i++) {
      const { statements, total, agent } = await enrolOne(server, { label: `count-${i}` });
      expect(statements).toEqual(expected);
      expect(total).toBe(4);
      await agent.close();
    }
  });

  it('costs four statements into a group with an assigned config, which the agent receives in its first reply', async () => {
    const api = apiClient(server.url, server.adminToken);
    const [version] = await publishVersions(api, [collectorYaml('enrolment')]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, version!);
    const { statements, total, agent, reply } = await enrolOne(server, { label: 'count-group', groupId: group.id });
    expect(statements).toEqual(expected);
    expect(total).toBe(4);
    expect(reply.remote_config?.config_hash?.toString('hex')).toBe(version!.configHash);
    const agents = await server.as().get(`/api/agents?groupId=${group.id}`).expect(200);
    expect(agents.body.items).toHaveLength(1);
    const audit = await server.as().get(`/api/audit/events?entityType=BootstrapToken&action=Redeemed`).expect(200);
    const events = (audit.body.items as Array<{ actor: string; entityType: string; additional: Record<string, unknown> }>).filter((e) => e.additional.agentId === agents.body.items[0].id);
    expect(events).toEqual([
      expect.objectContaining({ actor: `agent:${agents.body.items[0].instanceUid}`, additional: { agentId: agents.body.items[0].id, groupId: group.id, instanceUid: agents.body.items[0].instanceUid, transport: 'ws' } }),
    ]);
    await agent.close();
  });

  it('a token whose group was deleted makes an agent in no group, in the same four statements', async () => {
    const api = apiClient(server.url, server.adminToken);
    const group = await createStaticGroup(api);
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'count-deleted-group', groupId: group.id }).expect(201)).body.token as string;
    await server.as().delete(`/api/groups/${group.id}`).expect((r) => expect(r.status).toBeLessThan(300));
    const { statements, agent } = await enrolOne(server, { token });
    expect(statements).toEqual(expected);
    const made = (await server.as().get(`/api/agents?limit=100`).expect(200)).body.items.find((a: { instanceUid: string }) => a.instanceUid.replace(/-/g, '') === agent.uid.toString('hex'));
    expect(made).toMatchObject({ groupId: null });
    await agent.close();
  });

  it('a uid another agent has: one more redemption statement, and the agent is given a new uid', async () => {
    const first = await enrolOne(server, { label: 'count-uid-1' });
    const taken = Buffer.from(first.agent.uid);
    const { statements, reply, agent } = await enrolOne(server, { label: 'count-uid-2' }, { instanceUid: taken });
    expect(statements).toEqual({ ...expected, 'with bootstrap_tokens': 2 });
    const fresh = reply.agent_identification?.new_instance_uid;
    expect(fresh).toHaveLength(16);
    expect(Buffer.from(fresh!).equals(taken)).toBe(false);
    await first.agent.close();
    await agent.close();
  });

  it('40 agents connecting at once take their leases and read their assignments in fewer statements than agents, each its own token (decisions 0421, 0425)', async () => {
    const leases = server.app.get(SessionLeaseKeeper);
    const tokens: string[] = [];
    for (let i = 0; i < 40; i++) tokens.push((await server.as().post('/api/bootstrap-tokens').send({ label: `storm-${i}` }).expect(201)).body.token as string);
    await leases.settled();
    const before = await statementsByLabel();
    const statementsBefore = leases.totals.acquireStatements;
    const agents = tokens.map((token) => new TestAgent({ url, token }));
    // every socket open first, then every first frame in one go: the storm of a restart
    await Promise.all(agents.map((agent) => agent.connect()));
    for (const agent of agents) agent.hello();
    for (const reply of await Promise.all(agents.map((agent) => agent.next()))) expect(reply.error_response).toBeUndefined();
    await leases.settled();
    const counted = difference(await statementsByLabel(), before);
    const taken = counted['with agent_session_ownership'] ?? 0;
    // the redemptions of first connections that arrive together share statements (decision 0440)
    expect(counted['with bootstrap_tokens'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(counted['with bootstrap_tokens'] ?? 0).toBeLessThanOrEqual(20);
    // and the assignment reads after the leases (decision 0425)
    expect(counted['select agents'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(counted['select agents'] ?? 0).toBeLessThanOrEqual(20);
    expect(taken).toBe(leases.totals.acquireStatements - statementsBefore);
    expect(taken).toBeGreaterThanOrEqual(1);
    expect(taken).toBeLessThanOrEqual(20);
    // every agent holds its own lease on this instance, under the token its session knows
    const sessions = [...server.app.get(SessionRegistry).all()].filter((session) => agents.some((a) => a.uid.equals(session.instanceUid)));
    expect(sessions).toHaveLength(40);
    const rows = (await server.app.get(DataSource).query(`SELECT agent_id, instance_id, fencing_token::text AS token FROM agent_session_ownership WHERE agent_id = ANY($1::uuid[])`, [
      sessions.map((session) => session.agentId),
    ])) as Array<{ agent_id: string; instance_id: string; token: string }>;
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.token)).size).toBe(40);
    // each agent made from its own token, with its own audit event (its uid as the actor, its agent and the trace of its own frame)
    const made = (await server.app.get(DataSource).query(
      `SELECT a.id, a.instance_uid::text AS instance_uid, replace(a.instance_uid::text, '-', '') AS uid, t.token_hash, e.actor, e.additional->>'agentId' AS audited_agent, e.trace_id
       FROM agents a JOIN bootstrap_tokens t ON t.id = a.bootstrap_token_id AND t.agent_id = a.id
       LEFT JOIN audit_events e ON e.entity_id = t.id::text AND e.action = 'Redeemed'
       WHERE a.id = ANY($1::uuid[])`,
      [sessions.map((session) => session.agentId)],
    )) as Array<{ id: string; instance_uid: string; uid: string; token_hash: string; actor: string | null; audited_agent: string | null; trace_id: string | null }>;
    expect(made).toHaveLength(40);
    expect(new Set(made.map((m) => m.token_hash)).size).toBe(40);
    for (const m of made) {
      expect(m.token_hash).toBe(hashToken(tokens[agents.findIndex((a) => a.uid.toString('hex') === m.uid)]!));
      expect(m.actor).toBe(`agent:${m.instance_uid}`);
      expect(m.audited_agent).toBe(m.id);
    }
    expect(new Set(made.map((m) => m.trace_id)).size).toBe(40);
    for (const row of rows) {
      expect(row.instance_id).toBe(server.config.app.instanceId);
      expect(sessions.find((session) => session.agentId === row.agent_id)?.fencingToken?.toString()).toBe(row.token);
    }

    // the storm after a restart: the same 40 come back at once with their bound tokens; each agent's
    // row and its certificates are read with the others' (decision 0425), and each is itself again
    await Promise.all(agents.map((agent) => agent.close()));
    await eventually(() => [...server.app.get(SessionRegistry).all()].filter((session) => agents.some((a) => a.uid.equals(session.instanceUid))).length === 0);
    await leases.settled();
    await new Promise((r) => setTimeout(r, 50));
    const beforeBack = await statementsByLabel();
    await Promise.all(agents.map((agent) => agent.connect()));
    for (const agent of agents) agent.hello();
    for (const reply of await Promise.all(agents.map((agent) => agent.next()))) expect(reply.error_response).toBeUndefined();
    await leases.settled();
    const back = difference(await statementsByLabel(), beforeBack);
    expect(back['with bootstrap_tokens'] ?? 0).toBe(0); // nothing redeemed again
    expect(back['select pki_certificates'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(back['select pki_certificates'] ?? 0).toBeLessThanOrEqual(20);
    // the agents' rows and their assignment reads
    expect(back['select agents'] ?? 0).toBeGreaterThanOrEqual(2);
    expect(back['select agents'] ?? 0).toBeLessThanOrEqual(20);
    const again = [...server.app.get(SessionRegistry).all()].filter((session) => agents.some((a) => a.uid.equals(session.instanceUid)));
    expect(again.map((session) => session.agentId).sort()).toEqual(sessions.map((session) => session.agentId).sort());
    for (const agent of agents) await agent.close();
  });

  it('first connections redeemed together are each placed on their own: a group with a config, no group, a deleted group, and two agents with one uid (decision 0440)', async () => {
    const api = apiClient(server.url, server.adminToken);
    const [version] = await publishVersions(api, [collectorYaml('batch-placement')]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, version!);
    const gone = await createStaticGroup(api);
    const token = async (body: Record<string, unknown>) => (await server.as().post('/api/bootstrap-tokens').send(body).expect(201)).body.token as string;
    const inGroup = await token({ label: 'batch-group', groupId: group.id });
    const plain = await token({ label: 'batch-plain' });
    const deleted = await token({ label: 'batch-deleted', groupId: gone.id });
    const twinA = await token({ label: 'batch-twin-a' });
    const twinB = await token({ label: 'batch-twin-b' });
    await server.as().delete(`/api/groups/${gone.id}`).expect((r) => expect(r.status).toBeLessThan(300));
    const shared = randomBytes(16);
    const agents = [
      new TestAgent({ url, token: inGroup }),
      new TestAgent({ url, token: plain }),
      new TestAgent({ url, token: deleted }),
      new TestAgent({ url, token: twinA, instanceUid: Buffer.from(shared) }),
      new TestAgent({ url, token: twinB, instanceUid: Buffer.from(shared) }),
    ];
    await Promise.all(agents.map((agent) => agent.connect()));
    const before = await statementsByLabel();
    for (const agent of agents) agent.hello();
    const replies = await Promise.all(agents.map((agent) => agent.next()));
    for (const reply of replies) expect(reply.error_response).toBeUndefined();
    const counted = difference(await statementsByLabel(), before);
    // one statement for the five (one more for the twin given a new uid), not one each
    expect(counted['with bootstrap_tokens'] ?? 0).toBeLessThanOrEqual(3);
    expect(replies[0]!.remote_config?.config_hash?.toString('hex')).toBe(version!.configHash);
    expect(replies[1]!.remote_config).toBeUndefined();
    // one twin keeps the uid, the other is given a new one
    const renamed = replies.slice(3).filter((r) => r.agent_identification?.new_instance_uid?.length);
    expect(renamed).toHaveLength(1);
    const rows = (await server.app.get(DataSource).query(
      `SELECT t.label, a.group_id, a.assigned_config_hash, replace(a.instance_uid::text, '-', '') AS uid,
              (SELECT count(*)::int FROM audit_events e WHERE e.entity_id = t.id::text AND e.action = 'Redeemed' AND e.additional->>'agentId' = a.id::text) AS events
       FROM bootstrap_tokens t JOIN agents a ON a.id = t.agent_id WHERE t.label LIKE 'batch-%' ORDER BY t.label`,
    )) as Array<{ label: string; group_id: string | null; assigned_config_hash: string | null; uid: string; events: number }>;
    expect(rows.map((r) => [r.label, r.group_id, r.assigned_config_hash, r.events])).toEqual([
      ['batch-deleted', null, null, 1],
      ['batch-group', group.id, version!.configHash, 1],
      ['batch-plain', null, null, 1],
      ['batch-twin-a', null, null, 1],
      ['batch-twin-b', null, null, 1],
    ]);
    const twins = rows.slice(3).map((r) => r.uid);
    expect(twins).toContain(shared.toString('hex'));
    expect(new Set(twins).size).toBe(2);
    for (const agent of agents) await agent.close();
  });

  it('first connections into a group redeemed together publish one group.membership_changed per batch, naming every agent once (decision 0449)', async () => {
    const api = apiClient(server.url, server.adminToken);
    const group = await createStaticGroup(api);
    const tokens: string[] = [];
    for (let i = 0; i < 30; i++) tokens.push((await server.as().post('/api/bootstrap-tokens').send({ label: `membership-${i}`, groupId: group.id }).expect(201)).body.token as string);
    const events: Array<{ added: string[]; addedCount: number; removedCount: number; reason: string }> = [];
    const stop = server.app.get(LiveBus).subscribe((event) => {
      if (event.type === 'group.membership_changed' && event.entityId === group.id) events.push(event.payload as (typeof events)[number]);
    });
    try {
      const before = await statementsByLabel();
      const agents = tokens.map((token) => new TestAgent({ url, token }));
      await Promise.all(agents.map((agent) => agent.connect()));
      for (const agent of agents) agent.hello();
      for (const reply of await Promise.all(agents.map((agent) => agent.next()))) expect(reply.error_response).toBeUndefined();
      const redemptions = difference(await statementsByLabel(), before)['with bootstrap_tokens'] ?? 0;
      const members = ((await server.as().get(`/api/agents?groupId=${group.id}&limit=100`).expect(200)).body.items as Array<{ id: string }>).map((a) => a.id);
      expect(members).toHaveLength(30);
      // one event per redemption statement at most, together naming each new member exactly once
      expect(events.length).toBeGreaterThanOrEqual(1);
      expect(events.length).toBeLessThanOrEqual(redemptions);
      expect(events.length).toBeLessThan(30);
      expect(events.flatMap((e) => e.added).sort()).toEqual([...members].sort());
      expect(events.reduce((n, e) => n + e.addedCount, 0)).toBe(30);
      expect(events.every((e) => e.removedCount === 0 && e.reason === 'enrolled with a bootstrap token')).toBe(true);
      for (const agent of agents) await agent.close();
    } finally {
      stop();
    }
  });

  it('looks up the tokens of connections that arrive in one turn in one statement, each answered with its own token (decision 0425)', async () => {
    const made: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < 40; i++) made.push((await server.as().post('/api/bootstrap-tokens').send({ label: `lookup-${i}` }).expect(201)).body as { id: string; token: string });
    const authenticator = server.app.get<AgentAuthenticator>(AGENT_AUTHENTICATOR, { strict: false });
    await new Promise((r) => setTimeout(r, 50));
    const before = await statementsByLabel();
    // 40 tokens and the first again, in one turn: one statement, each connection answered with its own token
    const outcomes = await Promise.all(
      [...made.map((m) => m.token), made[0]!.token].map((token) => authenticator.authenticate({ transport: 'ws', headers: { authorization: `Bearer ${token}` }, remoteAddress: '127.0.0.1' })),
    );
    const counted = difference(await statementsByLabel(), before);
    expect(counted['select bootstrap_tokens']).toBe(1);
    outcomes.forEach((outcome, i) => expect(outcome).toMatchObject({ ok: true, credential: { kind: 'bootstrap', tokenId: made[i % 40]!.id } }));
  });

  it('one token, 60 first connections at once: one agent, one redemption, one audit event', async () => {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'race' }).expect(201)).body.token as string;
    const racers = Array.from({ length: 60 }, () => new TestAgent({ url, token }));
    const outcomes = await Promise.all(
      racers.map(async (agent) => {
        try {
          await agent.connect();
          agent.ws!.on('error', () => undefined);
          agent.hello();
          const reply = await Promise.race([agent.next(15_000), agent.closed(15_000).then(() => undefined)]);
          return reply && !reply.error_response ? 'enrolled' : 'refused';
        } catch {
          return 'refused';
        }
      }),
    );
    expect(outcomes.filter((o) => o === 'enrolled')).toHaveLength(1);
    const agents = (await server.as().get('/api/agents?limit=100').expect(200)).body.items as Array<{ id: string; instanceUid: string }>;
    const winner = racers.find((_, i) => outcomes[i] === 'enrolled')!;
    const made = agents.filter((a) => racers.some((r) => r.uid.toString('hex') === a.instanceUid.replace(/-/g, '')));
    expect(made).toHaveLength(1);
    expect(made[0]!.instanceUid.replace(/-/g, '')).toBe(winner.uid.toString('hex'));
    const audit = (await server.as().get('/api/audit/events?entityType=BootstrapToken&action=Redeemed&limit=100').expect(200)).body.items as Array<{ additional: { agentId?: string } }>;
    expect(audit.filter((e) => e.additional.agentId === made[0]!.id)).toHaveLength(1);
    for (const r of racers) await r.close();
  });
});

/**
 * Decision 0416: the frame of an enrolment knows it is one (`justEnrolled`), so a token agent offered a
 * certificate is not looked up for certificates it cannot have yet.
 */
describe('the statements of one enrolment offered a certificate', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({
      env: { AMPORA_OPAMP_TLS_PORT: '0', AMPORA_OPAMP_REQUIRE_MTLS: 'true', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '3600000', AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '3600' },
    });
  });
  afterAll(async () => {
    await server.close();
    await server.db.drop();
  });

  it('reads no certificates of the agent it has just made', async () => {
    for (let i = 0; i < 2; i++) {
      const { statements, reply, agent } = await enrolOne(
        server,
        { label: `offered-${i}` },
        { capabilities: AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.AcceptsOpAMPConnectionSettings },
      );
      expect(reply.connection_settings?.opamp?.certificate?.cert).toBeDefined();
      // the four of every enrolment, and the certificate's transaction: signing key, INSERT (with the
      // offer), its audit event; no read of the agent's certificates, no SELECT before the INSERT
      expect(statements).toEqual({
        'select bootstrap_tokens': 1,
        'with bootstrap_tokens': 1,
        'with agent_session_ownership': 1,
        'select agents': 1,
        start: 1,
        'select pki_signing_keys': 1,
        'insert pki_certificates': 1,
        'insert audit_events': 1,
        commit: 1,
      });
      await agent.close();
    }
  });
});
