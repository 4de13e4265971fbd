import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Clock, PlatformModule, Principal, startTelemetry } from '@ampora/platform';
import { GovernanceModule, Role } from '@ampora/governance';
import { AGENT_DISPATCHER, AgentDispatcher, DesiredConfig, DispatchOutcome } from '@ampora/opamp';
import { ConfigurationsService, GroupsService } from '@ampora/fleet';
import { RolloutEngine, RolloutsModule, RolloutsService } from '@ampora/rollouts';
import { createTestDatabase, defaultTenantCaller, TestClock, TestDatabase, testEnv } from '@ampora/testing';

const yaml = (name: string) => `receivers:\n  otlp: {}\nexporters:\n  debug/${name}: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug/${name}]\n`;

/**
 * Records what the engine pushes and answers `delivered`, as a live WebSocket session would (or
 * `unchanged`, for the agents in `alreadyThere`: a session that already reports the config).
 */
export class RecordingDispatcher implements AgentDispatcher {
  readonly pushes: Array<{ agentId: string; hash: string }> = [];
  readonly alreadyThere = new Set<string>();
  async pushRemoteConfig(target: { agentId: string }, config: DesiredConfig): Promise<DispatchOutcome> {
    this.pushes.push({ agentId: target.agentId, hash: config.hash });
    return this.alreadyThere.has(target.agentId) ? 'unchanged' : 'delivered';
  }
  async pushConnectionSettings(): Promise<DispatchOutcome> {
    return 'no_session';
  }
  async pushPackages(): Promise<DispatchOutcome> {
    return 'no_session';
  }
  async disconnect(): Promise<DispatchOutcome> {
    return 'no_session';
  }
}

/** The rollouts module on a fresh database, its time a TestClock, its pushes recorded (no HTTP, no worker). */
export interface RolloutKit {
  app: INestApplication;
  db: TestDatabase;
  ds: DataSource;
  clock: TestClock;
  dispatcher: RecordingDispatcher;
  engine: RolloutEngine;
  rollouts: RolloutsService;
  operator: Principal;
  as<T>(fn: () => Promise<T>): Promise<T>;
  /** A Static group of `count` agents running v1, and a Published v2 (the hashes as agents report them). */
  fleet(count: number): Promise<{ groupId: string; configurationId: string; v2: { number: number; configHash: string }; agents: string[] }>;
  close(): Promise<void>;
}

export async function startRolloutKit(): Promise<RolloutKit> {
  const db = await createTestDatabase();
  const { config } = testEnv(db.url);
  startTelemetry(config, 'worker');
  const clock = new TestClock(Date.parse('2026-03-01T00:00:00Z'));
  const dispatcher = new RecordingDispatcher();
  const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), GovernanceModule, RolloutsModule] })
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(AGENT_DISPATCHER)
    .useValue(dispatcher)
    .compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  const ds = app.get(DataSource);
  const { tenantId, principal: operator, as } = await defaultTenantCaller(ds, Role.Operator, 'kit-operator');
  return {
    app,
    db,
    ds,
    clock,
    dispatcher,
    engine: app.get(RolloutEngine),
    rollouts: app.get(RolloutsService),
    operator,
    as,
    async fleet(count) {
      const configs = app.get(ConfigurationsService);
      const groups = app.get(GroupsService);
      return as(async () => {
        const c = await configs.create(operator, { name: `cfg-${randomUUID().slice(0, 8)}` });
        const published = [];
        for (const tag of ['v1', 'v2']) {
          const v = await configs.createVersion(operator, c.id, yaml(tag));
          await configs.publish(operator, c.id, v.number);
          published.push(v);
        }
        const group = await groups.create(operator, { name: `g-${randomUUID().slice(0, 8)}`, kind: 'Static', priority: 0 });
        await groups.setAssignment(operator, group.id, { configurationId: c.id, version: published[0]!.number });
        // agents as enrolment leaves them (fleet has no service that makes an agent without an OpAMP session)
        const agents = Array.from({ length: count }, () => randomUUID());
        await ds.query(
          `INSERT INTO agents (id, tenant_id, instance_uid, identity_kind, labels, capabilities, display_name)
           SELECT id, $2, gen_random_uuid(), 'token', '{}'::jsonb, $3, 'host-' || ord FROM unnest($1::uuid[]) WITH ORDINALITY AS a(id, ord)`,
          [agents, tenantId, 0x2 | 0x1000],
        );
        await groups.addMembers(operator, group.id, agents);
        const v2 = published[1]!;
        return { groupId: group.id, configurationId: c.id, v2: { number: v2.number, configHash: String(v2.configHash).trim() }, agents };
      });
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
