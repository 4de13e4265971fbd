import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { FleetModule } from '@ampora/fleet';
import { AGENT_DISPATCHER, AgentDispatcher, desiredConfig } from '@ampora/opamp';
import { AmporaConfig, NestLoggerAdapter, PlatformModule } from '@ampora/platform';
import { GovernanceModule } from '@ampora/governance';
import { loadAmporaConfig } from '../apps/composition/src/config';
import { encodeAgentToServer, eventually, SseClient, sseJson, TestAgent, TestDatabase } from '@ampora/testing';
import { BACKPLANE_MODES, backplanePair, configText, Instance } from './support/backplane-kit';

/**
 * Several server instances as real processes on one PostgreSQL and one Redis (or PostgreSQL alone):
 * forwarding with its trace, no-session pushes, pushes from a process without sessions, bootstrap
 * tokens revoked elsewhere, assignments made while an agent connected. Leases, a crash and a graceful
 * shutdown: backplane-leases.e2e-spec.ts.
 */
/** A process that holds no sessions, like the worker: platform + fleet (which brings the dispatcher). */
@Module({})
class WorkerLikeModule {
  static forRoot(config: AmporaConfig): DynamicModule {
    return { module: WorkerLikeModule, imports: [PlatformModule.forRoot(config), GovernanceModule, FleetModule] };
  }
}

describe.each(BACKPLANE_MODES)('two server instances over the $kind backplane', ({ kind, extra }) => {
  let a: Instance, b: Instance, db: TestDatabase, pg: Client, env: Record<string, string>, admin: string;
  const { otlp, tag, agents, api, enroll, reconnect, lease, metric } = backplanePair(kind, extra, (pair) => ({ a, b, db, pg, env, admin } = pair));

  it('delivers a config assigned through B to an agent on A, counts the forward, and traces it end to end', async () => {
    const live = await SseClient.open(`${b.url}/api/live?types=agent.connected`, { token: admin });
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);

    // the agent's connection on A reaches operators watching B
    const connected = await live.waitFor((e) => sseJson<{ entityId: string }>(e).entityId === id);
    expect(sseJson(connected)).toMatchObject({ origin: a.id, payload: { instance: a.id, transport: 'ws' } });
    live.close();

    const traceId = randomBytes(16).toString('hex');
    const yaml = `receivers:\n  otlp: {}\n# via ${b.id}\n`;
    const assigned = await api(b, 'POST', `/api/agents/${id}/assign`, { yaml }, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    expect(assigned.status).toBe(200);
    expect(assigned.body.delivery).toBe('delivered');
    const pushed = await agent.nextMatching((m) => Boolean(m.remote_config));
    expect(configText(pushed)).toBe(yaml);

    expect(await metric(b, 'ampora_dispatch_forwarded_total', { tenant: 'default', target_instance: a.id })).toBeGreaterThanOrEqual(1);
    expect(await metric(b, 'ampora_dispatch_local_total')).toBe(0);
    expect(await metric(a, 'ampora_dispatch_envelope_age_seconds_count', { tenant: 'default' })).toBeGreaterThanOrEqual(1);

    // one trace: the REST call on B → opamp.dispatch on B → (envelope) → receive on A → frame sent on A
    const spans = await eventually(() => {
      const t = otlp.trace(traceId);
      const names = new Set(t.map((s) => s.name));
      return ['opamp.frame_sent', 'opamp.dispatch.receive', 'opamp.dispatch', 'POST /api/agents/:id/assign'].every((n) => names.has(n)) ? t : undefined;
    }, 15000);
    const http = spans.find((s) => s.name === 'POST /api/agents/:id/assign')!;
    const dispatch = spans.find((s) => s.name === 'opamp.dispatch')!;
    const receive = spans.find((s) => s.name === 'opamp.dispatch.receive')!;
    const sent = spans.find((s) => s.name === 'opamp.frame_sent' && s.attributes['agent.id'] === id)!;
    expect(http.resource['service.instance.id']).toBe(b.id);
    expect(dispatch).toMatchObject({ resource: { 'service.instance.id': b.id }, attributes: { 'dispatch.target_instance': a.id, 'dispatch.outcome': 'delivered' } });
    expect(receive).toMatchObject({ resource: { 'service.instance.id': a.id }, parentSpanId: dispatch.spanId, attributes: { 'dispatch.source_instance': b.id, 'dispatch.outcome': 'delivered' } });
    expect(sent).toMatchObject({ resource: { 'service.instance.id': a.id }, parentSpanId: receive.spanId, attributes: { 'frame.kind': expect.any(String) } });
    expect(spans.map((s) => s.parentSpanId)).toContain(http.spanId);

    // the live event crossed instances in its trace too: publish on A, consume on B
    const publish = await eventually(() => otlp.spans.find((s) => s.name === 'live_update.publish' && s.resource['service.instance.id'] === a.id && s.attributes['event.type'] === 'agent.connected'));
    const consumed = await eventually(() => otlp.trace(publish.traceId).find((s) => s.name === 'live_update.consume' && s.resource['service.instance.id'] === b.id));
    expect(consumed).toMatchObject({ parentSpanId: publish.spanId, attributes: { 'event.type': 'agent.connected', subscriber: expect.stringMatching(/^sse:bootstrap-admin-/) } });
  });

  it('counts a push to an agent with no session anywhere, and the agent gets its config when it connects', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id)) !== undefined);
    await agent.close();
    await eventually(async () => (await lease(id)) === undefined);
    const before = await metric(b, 'ampora_dispatch_no_session_total', { tenant: 'default' });
    const yaml = 'exporters:\n  debug: {}\n';
    const assigned = await api(b, 'POST', `/api/agents/${id}/assign`, { yaml });
    expect(assigned.body.delivery).toBe('no_session');
    expect(await metric(b, 'ampora_dispatch_no_session_total', { tenant: 'default' })).toBe(before + 1);
    const back = await reconnect(agent, b);
    expect(configText(await back.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
  });

  it('forwards from a process that holds no sessions (the worker) to the instance that does', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    const config = loadAmporaConfig({ ...env, AMPORA_INSTANCE_ID: `worker-${kind}-${tag}`, LOG_LEVEL: 'Warning' });
    const worker: INestApplicationContext = await NestFactory.createApplicationContext(WorkerLikeModule.forRoot(config), { logger: new NestLoggerAdapter() });
    try {
      await worker.init();
      const tenantId = (await pg.query<{ tenant_id: string }>('SELECT tenant_id FROM agents WHERE id = $1', [id])).rows[0]!.tenant_id;
      const desired = desiredConfig({ '': { body: Buffer.from('processors:\n  batch: {}\n'), contentType: 'text/yaml' } });
      const outcome = await worker.get<AgentDispatcher>(AGENT_DISPATCHER).pushRemoteConfig({ agentId: id, tenantId }, desired, { force: true });
      expect(outcome).toBe('delivered');
      expect(configText(await agent.nextMatching((m) => Boolean(m.remote_config)))).toBe('processors:\n  batch: {}\n');
    } finally {
      await worker.close();
    }
  });

  it('pushes one config to agents on both instances, from a process without sessions, as one envelope per instance (decision 0390)', async () => {
    const onA = await enroll(a);
    const onB = await enroll(b);
    const gone = await enroll(a);
    await eventually(async () => (await lease(onA.id))?.instance_id === a.id && (await lease(onB.id))?.instance_id === b.id && (await lease(gone.id)) !== undefined);
    await gone.agent.close();
    await eventually(async () => (await lease(gone.id)) === undefined);
    const config = loadAmporaConfig({ ...env, AMPORA_INSTANCE_ID: `batcher-${kind}-${tag}`, LOG_LEVEL: 'Warning' });
    const worker: INestApplicationContext = await NestFactory.createApplicationContext(WorkerLikeModule.forRoot(config), { logger: new NestLoggerAdapter() });
    try {
      await worker.init();
      const tenantId = (await pg.query<{ tenant_id: string }>('SELECT tenant_id FROM agents WHERE id = $1', [onA.id])).rows[0]!.tenant_id;
      const envelopes = async () => [await metric(a, 'ampora_dispatch_envelope_age_seconds_count', { tenant: 'default' }), await metric(b, 'ampora_dispatch_envelope_age_seconds_count', { tenant: 'default' })];
      const before = await envelopes();
      const yaml = 'processors:\n  batch: {}\n# many\n';
      const desired = desiredConfig({ '': { body: Buffer.from(yaml), contentType: 'text/yaml' } });
      const dispatcher = worker.get<AgentDispatcher>(AGENT_DISPATCHER);
      const outcomes = await dispatcher.pushRemoteConfigMany!([onA, gone, onB].map((x) => ({ agentId: x.id, tenantId })), desired);
      expect(outcomes).toEqual(['delivered', 'no_session', 'delivered']);
      expect(configText(await onA.agent.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
      expect(configText(await onB.agent.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
      // one envelope reached each instance, however many of its agents it carried
      expect(await envelopes()).toEqual([before[0]! + 1, before[1]! + 1]);
      // an agent that already has the config is told nothing (unless forced)
      expect(await dispatcher.pushRemoteConfigMany!([{ agentId: onA.id, tenantId }, { agentId: onB.id, tenantId }], desired)).toEqual(['unchanged', 'unchanged']);
    } finally {
      await worker.close();
    }
  });

  it('offers a package assigned through B to an agent on A at once (decision 0376), without waiting for its next frame', async () => {
    const token = (await api(a, 'POST', '/api/bootstrap-tokens', { label: 'packages' })).body.token as string;
    // accepts and reports packages; it sends nothing after its hello
    const agent = new TestAgent({ url: a.ws, token, capabilities: 0x1 | 0x8 | 0x10 | 0x2000 });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    expect((await agent.next()).error_response).toBeUndefined();
    const id = await eventually(async () => (await api(a, 'GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    const content = Buffer.from(`otelcol via ${b.id} ${tag}`);
    const { privateKey } = generateKeyPairSync('ed25519');
    const name = `otelcol-${kind}-${tag}`;
    const uploaded = await fetch(`${b.url}/api/packages/${name}/versions/1.0.0?type=TopLevel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/octet-stream', 'ampora-package-signature': sign(null, content, privateKey).toString('base64') },
      body: content,
    });
    expect(uploaded.status).toBe(201);
    const assigned = await api(b, 'POST', `/api/packages/${name}/versions/1.0.0/assign`, { agentIds: [id] });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ agents: 1, delivery: { delivered: 1 } });
    const offer = (await agent.nextMatching((m) => Boolean((m as { packages_available?: unknown }).packages_available), 10000)) as { packages_available: { packages: Record<string, { version: string; file: { download_url: string } }> } };
    expect(offer.packages_available.packages[name]).toMatchObject({ version: '1.0.0', file: { download_url: expect.stringMatching(/\/v1\/packages\/[0-9a-f]{64}\?expires=/) } });
    expect(await metric(b, 'ampora_dispatch_forwarded_total', { tenant: 'default', target_instance: a.id })).toBeGreaterThanOrEqual(1);
  });

  it('forgets a bootstrap token revoked on another instance at once', async () => {
    const token = (await api(b, 'POST', '/api/bootstrap-tokens', { label: 'revoked elsewhere' })).body as { id: string; token: string };
    const uid = randomBytes(16);
    let seq = 0;
    const poll = () =>
      fetch(`${a.url}/v1/opamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token.token}` },
        body: encodeAgentToServer({ instance_uid: uid, sequence_num: ++seq, capabilities: 0x1 | 0x2 | 0x1000, agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'poller' } }] } }),
      });
    expect((await poll()).status).toBe(200);
    expect((await poll()).status).toBe(200); // A now holds the token in its cache
    expect((await api(b, 'DELETE', `/api/bootstrap-tokens/${token.id}`)).status).toBe(204);
    // well inside the 5 s cache lifetime: the revocation travelled over the backplane
    const refused = await eventually(async () => ((await poll()).status === 403 ? true : undefined), 2000, 50);
    expect(refused).toBe(true);
  });

  it('closes the live WebSocket session of a bootstrap token revoked on another instance, and only that one', async () => {
    const issued = (await api(b, 'POST', '/api/bootstrap-tokens', { label: 'revoked while connected' })).body as { id: string; token: string };
    const agent = new TestAgent({ url: a.ws, token: issued.token, autoApply: true });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    expect((await agent.next()).error_response).toBeUndefined();
    const bystander = await enroll(a); // another token, same instance
    const id = await eventually(async () => (await api(a, 'GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);

    expect((await api(b, 'DELETE', `/api/bootstrap-tokens/${issued.id}`)).status).toBe(204);
    expect(await agent.closed(3000)).toBe(4001);
    await eventually(async () => ((await api(b, 'GET', `/api/agents/${id}`)).body.status === 'disconnected' ? true : undefined), 5000);
    // the agent cannot come back with the token
    const again = new TestAgent({ ...agent.opts, url: a.ws, instanceUid: agent.uid });
    agents.push(again);
    await expect(again.connect()).rejects.toMatchObject({ status: 403 });
    // the bystander's session is untouched and still reachable
    await new Promise((r) => setTimeout(r, 300));
    expect(bystander.agent.closeCode).toBeUndefined();
    const yaml = 'receivers: {}\n# still here\n';
    expect((await api(b, 'POST', `/api/agents/${bystander.id}/assign`, { yaml })).body.delivery).toBe('delivered');
    expect(configText(await bystander.agent.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
  });

  it('sends an agent what it was assigned while it connected, when the push from the other instance found no session yet', async () => {
    // hold the lease table: the agent attaches on A (no assignment yet) but A cannot take its lease
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE agent_session_ownership IN SHARE MODE');
      const token = (await api(a, 'POST', '/api/bootstrap-tokens', { label: 'assigned while connecting' })).body.token as string;
      const agent = new TestAgent({ url: a.ws, token, autoApply: true });
      agents.push(agent);
      await agent.connect();
      agent.hello();
      const first = await agent.next();
      expect(first.error_response).toBeUndefined();
      expect(first.remote_config).toBeUndefined();
      const id = await eventually(async () => (await api(b, 'GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);
      // assigned through B meanwhile: B finds no lease, so the push reaches nobody
      const yaml = 'receivers: {}\n# assigned while connecting\n';
      const assigned = await api(b, 'POST', `/api/agents/${id}/assign`, { yaml });
      expect(assigned.body.delivery).toBe('no_session');
      await expect(agent.nextMatching((m) => Boolean(m.remote_config), 500)).rejects.toThrow();
      await locker.query('COMMIT');
      // A takes the lease, reads the agent's assignment again and sends what changed
      expect(configText(await agent.nextMatching((m) => Boolean(m.remote_config), 5000))).toBe(yaml);
      await eventually(async () => (await lease(id))?.instance_id === a.id);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });
});
