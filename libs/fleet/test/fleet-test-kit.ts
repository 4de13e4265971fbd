import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Clock, PlatformModule, Principal, startTelemetry } from '@ampora/platform';
import { GovernanceModule, Role } from '@ampora/governance';
import { ConfigurationsService, FleetModule } from '@ampora/fleet';
import { createTestDatabase, defaultTenantCaller, TestDatabase, testEnv } from '@ampora/testing';

/** A Nest context with the fleet's services on a fresh database and Redis prefix (no HTTP). */
export interface FleetKit {
  app: INestApplicationContext;
  db: TestDatabase;
  ds: DataSource;
  tenantId: string;
  operator: Principal;
  /** Runs `fn` as an Operator of the default tenant (audit events need an actor). */
  as<T>(fn: () => Promise<T>): Promise<T>;
  /** Inserts agents directly (as enrolment would), with the given labels. */
  insertAgents(labels: Array<Record<string, unknown>>, capabilities?: number): Promise<string[]>;
  /** Creates a configuration with one Published version and returns its id. */
  publishedConfig(yaml?: string): Promise<{ configurationId: string; versionId: string; number: number }>;
  close(): Promise<void>;
}

export const MINIMAL_YAML = 'receivers:\n  otlp: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n';

/** `clock`: the services' Clock (a TestClock to drive expiry and retention); the host's by default. */
export async function startFleetKit(overrides: Record<string, string> = {}, options: { clock?: Clock } = {}): Promise<FleetKit> {
  const db = await createTestDatabase();
  const { config } = testEnv(db.url, overrides);
  startTelemetry(config, 'worker');
  const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config, { clock: options.clock }), GovernanceModule, FleetModule] }).compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  const ds = app.get(DataSource);
  const { tenantId, principal: operator, as } = await defaultTenantCaller(ds, Role.Operator, 'kit-operator');
  return {
    app,
    db,
    ds,
    tenantId,
    operator,
    as,
    async insertAgents(labels, capabilities = 0x2 | 0x1000) {
      const ids = labels.map(() => randomUUID());
      await ds.query(
        `INSERT INTO agents (id, tenant_id, instance_uid, identity_kind, labels, capabilities)
         SELECT unnest($1::uuid[]), $2, gen_random_uuid(), 'token', unnest($3::jsonb[]), $4`,
        [ids, tenantId, labels.map((l) => JSON.stringify(l)), capabilities],
      );
      return ids;
    },
    async publishedConfig(yaml = MINIMAL_YAML) {
      const configs = app.get(ConfigurationsService);
      return as(async () => {
        const c = await configs.create(operator, { name: `cfg-${randomUUID().slice(0, 8)}` });
        const v = await configs.createVersion(operator, c.id, yaml);
        await configs.publish(operator, c.id, v.number);
        return { configurationId: c.id, versionId: v.id, number: v.number };
      });
    },
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
