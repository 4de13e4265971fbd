import { DynamicModule, INestApplication, Type } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AmporaConfig, Clock, closeStorage, startTelemetry } from '@ampora/platform';
import { createTestDatabase, TestDatabase, testEnv } from '@ampora/testing';
import { createServer } from '../../apps/server/src/server.factory';
import { WORKER_MODULES } from '../../apps/composition/src/worker-modules';

export interface TestServer {
  app: INestApplication;
  url: string;
  port: number;
  config: AmporaConfig;
  env: Record<string, string>;
  adminToken: string;
  db: TestDatabase;
  http: ReturnType<typeof request>;
  /** supertest agent pre-authenticated with the given token (the admin token by default). */
  as(token?: string): { get(p: string): request.Test; post(p: string): request.Test; put(p: string): request.Test; patch(p: string): request.Test; delete(p: string): request.Test };
  close(): Promise<void>;
}

/**
 * Boots the real server application in this process on a free port, against a fresh database
 * cloned from the migrated template and a Redis prefix of its own.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    db?: TestDatabase;
    modules?: Array<Type | DynamicModule>;
    /** Also run the worker's processors (every queue of the app) in this process. */
    withWorker?: boolean;
    /** Embedded storage (PGlite in this process) in this data directory (a new temporary one by default). */
    embedded?: { dataDir?: string; keep?: boolean };
    /** The server's Clock (a TestClock from @ampora/testing to drive domain time); the host's by default. */
    clock?: Clock;
  } = {},
): Promise<TestServer> {
  let db: TestDatabase;
  let envBase: Record<string, string> = {};
  if (options.embedded) {
    const dataDir = options.embedded.dataDir ?? mkdtempSync(join(tmpdir(), 'ampora-embedded-'));
    envBase = { AMPORA_STORAGE: 'embedded', AMPORA_DATA_DIR: dataDir };
    db = { name: 'embedded', url: dataDir, drop: async () => (options.embedded?.keep ? undefined : rmSync(dataDir, { recursive: true, force: true })) };
  } else {
    db = options.db ?? (await createTestDatabase());
  }
  const { env, config, adminToken } = testEnv(options.embedded ? undefined : db.url, { ...envBase, ...options.env });
  startTelemetry(config, 'server');
  // embedded mode already runs the worker's modules inside the server
  const worker = options.withWorker && config.storage.mode !== 'embedded' ? WORKER_MODULES : [];
  const app = await createServer(config, [...worker, ...(options.modules ?? [])], { clock: options.clock });
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const http = request(url);
  const as = (token = adminToken) => ({
    get: (p: string) => http.get(p).set('Authorization', `Bearer ${token}`),
    post: (p: string) => http.post(p).set('Authorization', `Bearer ${token}`),
    put: (p: string) => http.put(p).set('Authorization', `Bearer ${token}`),
    patch: (p: string) => http.patch(p).set('Authorization', `Bearer ${token}`),
    delete: (p: string) => http.delete(p).set('Authorization', `Bearer ${token}`),
  });
  return {
    app,
    url,
    port,
    config,
    env,
    adminToken,
    db,
    http,
    as,
    async close() {
      await app.close();
      await closeStorage(config);
      if (!options.db) await db.drop();
    },
  };
}

/** Creates a PAT with the given role through the API and returns it. */
export async function createToken(server: TestServer, role: 'Viewer' | 'Operator' | 'Admin', name = `${role.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`): Promise<string> {
  const res = await server.as().post('/api/tokens').send({ name, role }).expect(201);
  return (res.body as { token: string }).token;
}
