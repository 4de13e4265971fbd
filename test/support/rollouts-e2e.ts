import { createOpAMPClient } from '@elastic/opamp-client-node';
import { captureLogs, eventually, LogCapture, metricValue, scrape } from '@ampora/testing';
import { Api, apiClient, assignGroup, collectorYaml, createStaticGroup, enrollAgents, PublishedVersion, publishVersions, SimAgent } from './rollout-kit';
import { startTestServer, TestServer } from './test-server';

export type ElasticClient = ReturnType<typeof createOpAMPClient>;

type EnrolOptions = Parameters<typeof enrollAgents>[3];

/** What a rollouts end-to-end suite shares: its server (with every worker module), API, agents and logs. */
export interface RolloutsEndToEnd {
  server: TestServer;
  api: Api;
  wsUrl: string;
  logs: LogCapture;
  sims: SimAgent[];
  clients: ElasticClient[];
  /** Enrols `count` simulated WebSocket agents (closed after the suite). */
  agents(count: number, options: EnrolOptions): Promise<SimAgent[]>;
  /** A group running v1 with `count` agents that applied it, and a Published v2. */
  fleet(count: number, tag: string, options?: Partial<EnrolOptions>): Promise<{ v1: PublishedVersion; v2: PublishedVersion; group: { id: string; name: string }; sims: SimAgent[] }>;
  metric(name: string, labels: Record<string, string>): Promise<number>;
}

/**
 * Registers a rollouts suite's hooks (call it inside `describe`): the real server and every worker
 * module in this process, real PostgreSQL and Redis; after each test, no mutating route may have
 * broken the one-audit-event rule. The returned object is filled in by its `beforeAll`.
 */
export function rolloutsEndToEnd(env: Record<string, string> = {}): RolloutsEndToEnd {
  const e2e = { sims: [] as SimAgent[], clients: [] as ElasticClient[] } as RolloutsEndToEnd;
  beforeAll(async () => {
    e2e.logs = captureLogs('Information');
    e2e.server = await startTestServer({
      env: {
        AMPORA_ROLLOUT_TICK_MS: '300',
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
        AMPORA_FLEET_DISPATCH_RATE: '1000',
        // small chunks: a step's pushes take several rounds, so a pause can land between them
        AMPORA_ROLLOUT_PUSH_CONCURRENCY: '4',
        // a lease removed by a test is not noticed by the lease keeper's renewal (every TTL/3) meanwhile
        AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '3600',
        ...env,
      },
      withWorker: true,
    });
    e2e.api = apiClient(e2e.server.url, e2e.server.adminToken);
    e2e.wsUrl = `${e2e.server.url.replace('http', 'ws')}/v1/opamp`;
  });
  afterAll(async () => {
    for (const c of e2e.clients) await c.shutdown().catch(() => undefined);
    await Promise.all(e2e.sims.map((s) => s.close()));
    await e2e.server.close();
  });
  // every mutating route writes exactly one audit event (docs/DEVELOPING.md): judged per test
  let seen = 0;
  beforeEach(() => {
    seen = e2e.logs.records.length;
  });
  afterEach(() => {
    expect(e2e.logs.records.slice(seen).find((r) => r.category === 'Ampora.Platform.Audit.Discipline')).toBeUndefined();
  });
  e2e.agents = async (count, options) => {
    const list = await enrollAgents(e2e.api, e2e.wsUrl, count, options);
    e2e.sims.push(...list);
    return list;
  };
  e2e.fleet = async (count, tag, options = {}) => {
    const [v1, v2] = await publishVersions(e2e.api, [collectorYaml(`${tag}-v1`), collectorYaml(`${tag}-v2`)]);
    const group = await createStaticGroup(e2e.api);
    await assignGroup(e2e.api, group.id, v1!);
    const list = await e2e.agents(count, { groupId: group.id, hostPrefix: tag, ...options } as EnrolOptions);
    const accepting = list.filter((_, i) => (options.capabilities?.(i) ?? 0x2) & 0x2);
    await eventually(() => accepting.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash), 20000);
    return { v1: v1!, v2: v2!, group, sims: list };
  };
  e2e.metric = async (name, labels) => metricValue(await scrape(e2e.server.url), name, labels);
  return e2e;
}
