import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Clock, PlatformModule, Principal, startTelemetry } from '@ampora/platform';
import { GovernanceModule, Role } from '@ampora/governance';
import { GIT_SPAWN_HOOK, GitInvocation, GitopsModule } from '@ampora/gitops';
import { createTestDatabase, defaultTenantCaller, TestClock, TestDatabase, testEnv } from '@ampora/testing';

/** GitOps' services on a fresh database, a data directory of their own, a test clock and a recorder of git processes. */
export interface GitopsKit {
  app: INestApplicationContext;
  db: TestDatabase;
  ds: DataSource;
  clock: TestClock;
  dataDir: string;
  spawned: GitInvocation[];
  admin: Principal;
  as<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function startGitopsKit(): Promise<GitopsKit> {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'ampora-gitops-data-'));
  const { config } = testEnv(db.url, { AMPORA_DATA_DIR: dataDir });
  startTelemetry(config, 'worker');
  const clock = new TestClock(Date.now());
  const spawned: GitInvocation[] = [];
  const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), GovernanceModule, GitopsModule] })
    .overrideProvider(Clock)
    .useValue(clock)
    .overrideProvider(GIT_SPAWN_HOOK)
    .useValue((i: GitInvocation) => spawned.push(i))
    .compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  const ds = app.get(DataSource);
  const { principal: admin, as } = await defaultTenantCaller(ds, Role.Admin, 'kit-admin');
  return {
    app,
    db,
    ds,
    clock,
    dataDir,
    spawned,
    admin,
    as,
    async close() {
      await app.close();
      await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
