import { Module } from '@nestjs/common';
import { Processor } from '@nestjs/bullmq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AgentCapabilities, createOpAMPClient, RemoteConfigStatuses } from '@elastic/opamp-client-node';
import { defineQueue, JobProcessor, JobProducer, JobRegistry, QueueModule, TransactionRunner } from '@ampora/platform';
import { eventually, TestAgent } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

const PARKED = defineQueue('parked', { later: 'parked.later' });

@Processor(PARKED.name)
class ParkedProcessor extends JobProcessor<typeof PARKED> {
  constructor(registry: JobRegistry) {
    super(registry, PARKED);
  }
  protected handlers() {
    return { 'parked.later': async () => 'done' };
  }
}

@Module({ imports: [QueueModule.forFeature(PARKED)], providers: [ParkedProcessor] })
class ParkedModule {}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Embedded storage: one in-process PGlite carries the data and BullMQ; no PostgreSQL, no Redis. */
describe('embedded storage', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ampora-embedded-'));
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ embedded: { dataDir, keep: true }, modules: [ParkedModule], env: { AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100', AMPORA_ROLLOUT_TICK_MS: '300', REDIS_URL: 'redis://127.0.0.1:1' } });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs without Redis: queues and readiness are on the embedded database', async () => {
    expect(server.config.storage.mode).toBe('embedded');
    expect(server.config.queue.kind).toBe('postgres');
    expect(server.config.dispatch.backplane).toBe('inprocess');
    const ready = await server.http.get('/health/ready').expect(200);
    // the embedded server runs the worker's jobs itself: its heartbeat is there from the start
    expect(ready.body.checks).toEqual({ database: { status: 'up' }, backplane: { status: 'up' }, worker: { status: 'up', advisory: true } });
  });

  it('enrols the real HTTP client and a WebSocket agent, assigns, and records APPLIED', async () => {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'embedded' }).expect(201)).body.token as string;
    const client = createOpAMPClient({
      endpoint: `${server.url}/v1/opamp`,
      headers: { authorization: `Bearer ${token}` },
      heartbeatIntervalSeconds: 0.2,
      capabilities: BigInt(AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig as unknown as bigint) | BigInt(AgentCapabilities.AgentCapabilities_ReportsRemoteConfig as unknown as bigint),
      onMessage: ({ remoteConfig }: { remoteConfig?: { configHash: Uint8Array } }) => {
        if (remoteConfig) client.setRemoteConfigStatus({ status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, lastRemoteConfigHash: remoteConfig.configHash });
      },
      log: quiet,
    } as never);
    client.setAgentDescription({ identifyingAttributes: { 'service.name': 'embedded-http' }, nonIdentifyingAttributes: {} });
    client.start();
    try {
      const agent = await eventually(async () => (await server.as().get('/api/agents?label=service.name=embedded-http').expect(200)).body.items[0]);
      const assigned = await server.as().post(`/api/agents/${agent.id}/assign`).send({ yaml: 'receivers: {}\n' }).expect(200);
      await eventually(async () => {
        const d = (await server.as().get(`/api/agents/${agent.id}`).expect(200)).body;
        return d.remoteConfig.status === 'APPLIED' && d.remoteConfig.hash === assigned.body.configHash;
      });
    } finally {
      await client.shutdown();
    }

    const ws = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token: (await server.as().post('/api/bootstrap-tokens').send({ label: 'ws' }).expect(201)).body.token, autoApply: true, identifying: { 'service.name': 'embedded-ws' } });
    await ws.connect();
    ws.hello();
    await ws.next();
    const id = await eventually(async () => (await server.as().get('/api/agents?label=service.name=embedded-ws').expect(200)).body.items[0]?.id as string);
    const res = await server.as().post(`/api/agents/${id}/assign`).send({ yaml: 'exporters: {debug: {}}\n' }).expect(200);
    expect(res.body.delivery).toBe('delivered');
    await eventually(async () => (await server.as().get(`/api/agents/${id}`).expect(200)).body.remoteConfig.status === 'APPLIED');
    await ws.close();
  });

  it('keeps transactions isolated: a rolled-back transaction leaves nothing, also under concurrency', async () => {
    const tx = server.app.get(TransactionRunner);
    const ds = server.app.get(DataSource);
    let releaseA!: () => void;
    const aMayFinish = new Promise<void>((r) => (releaseA = r));
    let aInserted!: () => void;
    const aHasInserted = new Promise<void>((r) => (aInserted = r));
    const a = tx.run(async ({ manager }) => {
      await manager.query(`INSERT INTO tenants (name, display_name) VALUES ('rolled-back', 'A')`);
      aInserted();
      await aMayFinish;
      throw new Error('A fails after its insert');
    });
    await aHasInserted;
    // while A is open: B commits, and a plain read waits for A rather than seeing its row
    const b = tx.run(async ({ manager }) => manager.query(`INSERT INTO tenants (name, display_name) VALUES ('committed', 'B')`));
    const read = ds.query(`SELECT name FROM tenants WHERE name IN ('rolled-back', 'committed') ORDER BY name`);
    setTimeout(releaseA, 200);
    await expect(a).rejects.toThrow('A fails');
    await b;
    expect(await read).toEqual(expect.not.arrayContaining([{ name: 'rolled-back' }]));
    const after = await ds.query(`SELECT name FROM tenants WHERE name IN ('rolled-back', 'committed') ORDER BY name`);
    expect(after).toEqual([{ name: 'committed' }]);
    // many concurrent transactions, every other one failing
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        tx.run(async ({ manager }) => {
          await manager.query(`INSERT INTO tenants (name, display_name) VALUES ($1, 'x')`, [`c-${i}`]);
          if (i % 2) throw new Error('odd ones fail');
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(10);
    const kept = (await ds.query(`SELECT name FROM tenants WHERE name LIKE 'c-%'`)) as Array<{ name: string }>;
    expect(kept.map((r) => Number(r.name.slice(2))).sort((x, y) => x - y)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  });

  it('runs a rollout on the embedded store: its ticks, steps and pushes need no Redis', async () => {
    const yaml = (n: number) => `# rollout v${n}\nreceivers:\n  otlp: {protocols: {grpc: {}}}\nexporters:\n  debug: {verbosity: ${n === 1 ? 'basic' : 'detailed'}}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n`;
    const configuration = (await server.as().post('/api/configurations').send({ name: 'embedded-rollout' }).expect(201)).body;
    const hashes: string[] = [];
    for (const n of [1, 2]) {
      const v = (await server.as().post(`/api/configurations/${configuration.id}/versions`).send({ yaml: yaml(n) }).expect(201)).body;
      await server.as().post(`/api/configurations/${configuration.id}/versions/${n}/publish`).expect(200);
      hashes.push(v.configHash);
    }
    const group = (await server.as().post('/api/groups').send({ name: 'embedded-rollout', kind: 'Static' }).expect(201)).body;
    await server.as().put(`/api/groups/${group.id}/assignment`).send({ configurationId: configuration.id, version: 1 }).expect(200);
    const agents: TestAgent[] = [];
    for (let i = 0; i < 4; i++) {
      const token = (await server.as().post('/api/bootstrap-tokens').send({ label: `rollout ${i}`, groupId: group.id }).expect(201)).body.token;
      const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, autoApply: true, reportEffective: true });
      await agent.connect();
      agent.hello();
      agents.push(agent);
    }
    try {
      await eventually(() => agents.every((a) => a.appliedHash?.toString('hex') === hashes[0]), 20000);
      const rollout = (
        await server
          .as()
          .post('/api/rollouts')
          .send({ name: 'embedded', configurationId: configuration.id, version: 2, groupId: group.id, strategy: { type: 'Percentage', steps: [50, 100] }, autoAdvance: true })
          .expect(201)
      ).body;
      await server.as().post(`/api/rollouts/${rollout.id}/start`).expect(200);
      const done = await eventually(async () => {
        const r = (await server.as().get(`/api/rollouts/${rollout.id}`).expect(200)).body;
        return r.state === 'Completed' ? r : undefined;
      }, 30000);
      expect(done.steps.map((s: { counts: { applied: number } }) => s.counts.applied)).toEqual([2, 2]);
      expect(agents.map((a) => a.appliedHash?.toString('hex'))).toEqual(agents.map(() => hashes[1]));
    } finally {
      for (const a of agents) await a.close();
    }
  });

  it('comes back after a restart with its agents, configurations and queued jobs', async () => {
    const before = (await server.as().get('/api/agents').expect(200)).body.items.map((a: { id: string }) => a.id).sort();
    expect(before.length).toBeGreaterThanOrEqual(2);
    const yaml = '# kept across restarts\nreceivers:\n  otlp: &otlp\n    protocols: {grpc: {}}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n';
    const configuration = (await server.as().post('/api/configurations').send({ name: 'survivor' }).expect(201)).body;
    await server.as().post(`/api/configurations/${configuration.id}/versions`).send({ yaml }).expect(201);
    await server.as().post(`/api/configurations/${configuration.id}/versions/1/publish`).expect(200);
    const jobId = await server.app.get(JobProducer).enqueue(PARKED.name, 'parked.later', { n: 7 }, { delay: 3_600_000, tenantId: 'x' });
    const adminToken = server.adminToken;
    const masterKey = server.env.AMPORA_MASTER_KEY!;
    await server.close();

    // the same deployment again: same data directory, same master key (it unseals the CA key)
    server = await startTestServer({ embedded: { dataDir, keep: true }, modules: [ParkedModule], env: { AMPORA_BOOTSTRAP_ADMIN_TOKEN: adminToken, AMPORA_MASTER_KEY: masterKey } });
    const after = (await server.as(adminToken).get('/api/agents').expect(200)).body.items.map((a: { id: string }) => a.id).sort();
    expect(after).toEqual(before);
    const version = (await server.as(adminToken).get(`/api/configurations/${configuration.id}/versions/1`).expect(200)).body;
    expect(version).toMatchObject({ number: 1, status: 'Published', yaml });
    const job = await server.app.get(JobProducer).queue(PARKED.name).getJob(jobId!);
    expect(job?.data.payload).toEqual({ n: 7 });
    expect(await job!.getState()).toBe('delayed');
  }, 120_000);
});
