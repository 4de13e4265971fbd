import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { desiredConfig, DISPATCH_REPLY_TOPIC, DISPATCH_TOPIC, DispatchEnvelope, remoteConfigCommand } from '@ampora/opamp';
import { Backplane, buildDataSourceOptions, createBackplane, RedisService } from '@ampora/platform';
import { loadAmporaConfig } from '../apps/composition/src/config';
import { eventually } from '@ampora/testing';
import { BACKPLANE_MODES, backplanePair, configText, Instance, TTL_SECONDS } from './support/backplane-kit';

/**
 * Several server instances as real processes on one PostgreSQL and one Redis (or PostgreSQL alone):
 * session leases taken over on reconnect or moved without a word, a crash of one instance and the
 * takeover of its leases with fencing, and a graceful shutdown.
 */
describe.each(BACKPLANE_MODES)('two server instances over the $kind backplane', ({ kind, extra }) => {
  let a: Instance, b: Instance, pg: Client, env: Record<string, string>;
  const { tag, expectedExits, start, api, enroll, reconnect, lease, metric } = backplanePair(kind, extra, (pair) => ({ a, b, pg, env } = pair));

  it('takes a lease over when the agent reconnects elsewhere: the old instance closes its stale socket and forwards from then on', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    const lostBefore = await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' });
    // the agent comes back through B while A still believes its old socket is alive
    const moved = await reconnect(agent, b);
    await moved.next();
    expect(await agent.closed()).toBe(4002);
    await eventually(async () => (await lease(id))?.instance_id === b.id);
    expect(await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' })).toBe(lostBefore + 1);
    // A did not record the agent as disconnected over B's connect
    await new Promise((r) => setTimeout(r, 500));
    expect((await api(b, 'GET', `/api/agents/${id}`)).body).toMatchObject({ status: 'connected', connection: { connected: true, ownerInstance: b.id } });
    const yaml = 'connectors: {}\n# via A\n';
    const assigned = await api(a, 'POST', `/api/agents/${id}/assign`, { yaml });
    expect(assigned.body.delivery).toBe('delivered');
    expect(configText(await moved.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
  });

  it('closes a session whose lease moved without a word (a lost notice) at the next renewal', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    const lostBefore = await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' });
    await pg.query(`UPDATE agent_session_ownership SET instance_id = 'elsewhere', fencing_token = nextval('agent_session_fencing_seq') WHERE agent_id = $1`, [id]);
    const started = Date.now();
    expect(await agent.closed(TTL_SECONDS * 1000)).toBe(4002);
    expect(Date.now() - started).toBeLessThan((TTL_SECONDS * 1000) / 3 + 1500);
    expect(await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' })).toBe(lostBefore + 1);
    expect((await lease(id))?.instance_id).toBe('elsewhere');
  });

  it('sends a push that found no owner while the lease had lapsed at the next renewal (decision 0426)', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    // A's renewal came late (a loaded instance): the lease lapsed, nobody took it, the socket lives on
    await pg.query(`UPDATE agent_session_ownership SET lease_expires_at = now() - interval '1 second' WHERE agent_id = $1`, [id]);
    const yaml = 'receivers: {}\n# while the lease had lapsed\n';
    const assigned = await api(b, 'POST', `/api/agents/${id}/assign`, { yaml });
    expect(assigned.body.delivery).toBe('no_session');
    const started = Date.now();
    expect(configText(await agent.nextMatching((m) => Boolean(m.remote_config), TTL_SECONDS * 1000))).toBe(yaml);
    expect(Date.now() - started).toBeLessThan((TTL_SECONDS * 1000) / 3 + 1500);
    expect((await lease(id))?.instance_id).toBe(a.id);
  });

  it('survives a crash of A: its agents reconnect to B, B takes the leases over in time, pushes reach them, and a late push under A\'s token is fenced', async () => {
    const first = await enroll(a);
    const second = await enroll(a);
    await eventually(async () => (await lease(first.id))?.instance_id === a.id && (await lease(second.id))?.instance_id === a.id);
    const oldToken = (await lease(first.id))!.token;
    const takenOverBefore = await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' });

    expectedExits.add(a.id);
    a.process.child.kill('SIGKILL');
    await a.process.exited;
    const killedAt = Date.now();
    await Promise.all([first.agent.closed(), second.agent.closed()]);

    // before the second agent comes back, its lease still names A: the forward goes unanswered
    const unanswered = await api(b, 'POST', `/api/agents/${second.id}/assign`, { yaml: 'service: {}\n# while A is gone\n' });
    expect(unanswered.body.delivery).toBe('unconfirmed');

    const firstBack = await reconnect(first.agent, b);
    await firstBack.next();
    const secondBack = await reconnect(second.agent, b);
    // the assignment made while it was away is what it gets on connecting
    expect(configText(await secondBack.nextMatching((m) => Boolean(m.remote_config)))).toBe('service: {}\n# while A is gone\n');
    await eventually(async () => (await lease(first.id))?.instance_id === b.id && (await lease(second.id))?.instance_id === b.id);
    expect(Date.now() - killedAt).toBeLessThan(TTL_SECONDS * 1000);
    const newToken = (await lease(first.id))!.token;
    expect(BigInt(newToken) > BigInt(oldToken)).toBe(true);
    expect(await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' })).toBe(takenOverBefore + 2);

    const yaml = 'extensions:\n  health_check: {}\n';
    const assigned = await api(b, 'POST', `/api/agents/${first.id}/assign`, { yaml });
    expect(assigned.body.delivery).toBe('delivered');
    expect(configText(await firstBack.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);

    // a push that A sent before it died (its token, its name) arrives late at B: refused, not delivered
    const config = loadAmporaConfig({ ...env, AMPORA_INSTANCE_ID: a.id, LOG_LEVEL: 'Warning' });
    const ds = new DataSource(buildDataSourceOptions(config, { entities: [], extra: { max: 2 } }));
    await ds.initialize();
    const redis = new RedisService(config);
    const ghost: Backplane = createBackplane(config, redis, ds);
    await ghost.start();
    try {
      const replies: unknown[] = [];
      ghost.on(DISPATCH_REPLY_TOPIC, (body) => replies.push(body));
      const tenantId = (await pg.query<{ tenant_id: string }>('SELECT tenant_id FROM agents WHERE id = $1', [first.id])).rows[0]!.tenant_id;
      const fencedBefore = await metric(b, 'ampora_dispatch_fenced_total', { tenant: 'default' });
      const envelope: DispatchEnvelope = {
        v: 1,
        id: randomUUID(),
        tenantId,
        agentId: first.id,
        fencingToken: oldToken,
        publishedAt: Date.now() - 3000,
        from: a.id,
        trace: {},
        command: remoteConfigCommand(desiredConfig({ '': { body: Buffer.from('# stale\n'), contentType: 'text/yaml' } }), true),
      };
      await ghost.send(b.id, DISPATCH_TOPIC, envelope);
      await eventually(() => replies.length === 1);
      expect(replies[0]).toEqual({ v: 1, id: envelope.id, outcome: 'stale' });
      expect(await metric(b, 'ampora_dispatch_fenced_total', { tenant: 'default' })).toBe(fencedBefore + 1);
      await expect(firstBack.nextMatching((m) => configText(m) === '# stale\n', 1000)).rejects.toThrow();
    } finally {
      await ghost.stop();
      await redis.onApplicationShutdown();
      await ds.destroy();
    }
  });

  it('shuts down gracefully: stops taking agents, releases its leases and sends its agents elsewhere at once', async () => {
    const c = await start(`c-${kind}-${tag}`);
    const { agent, id } = await enroll(c);
    await eventually(async () => (await lease(id))?.instance_id === c.id);
    const acquiredBefore = await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'acquired' });
    const takenOverBefore = await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' });

    expectedExits.add(c.id);
    const stopped = c.process.stop('SIGTERM');
    expect(await agent.closed()).toBe(1001); // going away
    // the lease is gone long before it would have expired
    await eventually(async () => (await lease(id)) === undefined, 3000);
    expect(await stopped).toBe(0);
    expect(c.process.records.some((r) => r.category === 'Ampora.OpAmp.Ownership.SessionLeaseKeeper' && r.Count === 1)).toBe(true);

    const moved = await reconnect(agent, b);
    await moved.next();
    await eventually(async () => (await lease(id))?.instance_id === b.id);
    expect(await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'acquired' })).toBe(acquiredBefore + 1);
    expect(await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' })).toBe(takenOverBefore);
    const ready = await fetch(`${b.url}/health/ready`);
    expect(((await ready.json()) as { checks: Record<string, { status: string }> }).checks.backplane).toEqual({ status: 'up' });
  });
});
