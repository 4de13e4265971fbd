import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { GITOPS_QUEUE } from '@ampora/gitops';
import { createTestDatabase, eventually, RunningProcess, startProcess, TestDatabase, testEnv } from '@ampora/testing';
import { collectorYaml, GitFixture } from '../libs/gitops/test/git-fixture';

const FILES = 240;

/**
 * A sweep in built worker processes (npm run build first): the worker is SIGKILLed in the middle of
 * a large import; another worker retries the stalled job, and every file is imported exactly once.
 */
describe('a GitOps sweep across worker processes', () => {
  let db: TestDatabase;
  let pg: Client;
  let env: Record<string, string>;
  let queue: Queue;
  let dataDir: string;
  let repo: GitFixture;
  const workers: RunningProcess[] = [];

  async function startWorker(id: string): Promise<RunningProcess> {
    const worker = startProcess('worker', { ...env, AMPORA_INSTANCE_ID: id });
    workers.push(worker);
    await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 60000);
    return worker;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    dataDir = mkdtempSync(join(tmpdir(), 'ampora-gitops-workers-'));
    const t = testEnv(db.url, { AMPORA_DATA_DIR: dataDir, AMPORA_AUTO_MIGRATE: 'false' });
    env = t.env;
    queue = new Queue(GITOPS_QUEUE.name, { connection: { url: env.REDIS_URL! }, prefix: `${t.config.redis.keyPrefix}:bull` });
    repo = new GitFixture();
  }, 60000);
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL');
    await queue?.close();
    await pg?.end();
    await db?.drop();
    repo?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('retries a sweep whose worker was killed mid-way and imports each file once', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`configs/edge-${String(i).padStart(3, '0')}.yaml`] = collectorYaml(`debug/${i}`);
    const tip = repo.write(files).commit('many');
    const [{ id: tenantId }] = (await pg.query(`SELECT id FROM tenants WHERE name = 'default'`)).rows as Array<{ id: string }>;
    const [{ id: sourceId }] = (
      await pg.query(
        `INSERT INTO gitops_sources (tenant_id, name, repository_url, branch, path_glob, credential_kind, poll_interval_seconds, created_by)
         VALUES ($1, 'killed', $2, 'main', '**/*.yaml', 'None', 3600, 'test') RETURNING id`,
        [tenantId, repo.url],
      )
    ).rows as Array<{ id: string }>;
    const imported = async () => Number((await pg.query(`SELECT count(*)::int AS n FROM configuration_versions v JOIN configurations c ON c.id = v.configuration_id WHERE c.source = 'git'`)).rows[0].n);

    const first = await startWorker('gitops-worker-a');
    await queue.add(GITOPS_QUEUE.jobs.sweep, { tenantId, trace: {}, payload: { sourceId, trigger: 'manual' } }, { attempts: 5, backoff: { type: 'fixed', delay: 500 } });
    await eventually(async () => (await imported()) >= 10, 60000, 20);
    expect(await first.stop('SIGKILL')).toBe(-1);
    const atKill = await imported();
    expect(atKill).toBeLessThan(FILES);
    expect((await pg.query(`SELECT last_synced_sha FROM gitops_sources WHERE id = $1`, [sourceId])).rows[0].last_synced_sha).toBeNull();

    // the stalled job goes back to the queue once its lock lapses; the next worker finishes it
    await startWorker('gitops-worker-b');
    await eventually(async () => (await pg.query(`SELECT last_synced_sha FROM gitops_sources WHERE id = $1`, [sourceId])).rows[0].last_synced_sha === tip, 120000, 200);
    // eslint-disable-next-line no-console
    console.log(`GitOps sweep killed after ${atKill} of ${FILES} imports; the retry finished the rest`);

    const perConfig = (await pg.query(`SELECT c.name, c.latest_version, count(v.id)::int AS versions FROM configurations c JOIN configuration_versions v ON v.configuration_id = c.id WHERE c.source = 'git' GROUP BY c.id`)).rows as Array<{ latest_version: number; versions: number }>;
    expect(perConfig).toHaveLength(FILES);
    expect(perConfig.every((c) => c.versions === 1 && c.latest_version === 1)).toBe(true);
    const runs = (await pg.query(`SELECT outcome, files_seen, files_imported, files_unchanged, errors FROM gitops_sync_runs WHERE source_id = $1`, [sourceId])).rows;
    expect(runs).toEqual([expect.objectContaining({ outcome: 'success', files_seen: FILES, errors: [] })]);
    expect(runs[0].files_imported + runs[0].files_unchanged).toBe(FILES);
    expect(Number((await pg.query(`SELECT count(*)::int AS n FROM gitops_files WHERE source_id = $1 AND status = 'tracked'`, [sourceId])).rows[0].n)).toBe(FILES);
  }, 240000);
});
