import { RunRetentionService, SourcesService } from '@ampora/gitops';
import { GitopsKit, startGitopsKit } from './gitops-kit';

describe('GitOps sync-run retention', () => {
  let kit: GitopsKit;

  beforeAll(async () => {
    kit = await startGitopsKit();
  });
  afterAll(() => kit.close());

  it('prunes runs that started more than 30 days before the clock, and keeps the rest', async () => {
    const s = await kit.as(() => kit.app.get(SourcesService).create(kit.admin, { name: 'retained', repositoryUrl: 'file:///nowhere', branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'None', pollIntervalSeconds: 60 }).then((o) => o.source));
    const day = 24 * 3600 * 1000;
    const now = kit.clock.nowMs();
    for (const age of [31 * day, 30 * day + 60_000, 29 * day, 0]) {
      await kit.ds.query(`INSERT INTO gitops_sync_runs (tenant_id, source_id, trigger, outcome, started_at, finished_at) VALUES ($1, $2, 'schedule', 'success', $3, $3)`, [kit.admin.tenantId, s.id, new Date(now - age)]);
    }
    const first = await kit.app.get(RunRetentionService).prune();
    expect(first.deleted).toBe(2);
    await kit.clock.advance(day + 1000);
    expect((await kit.app.get(RunRetentionService).prune()).deleted).toBe(1);
    expect((await kit.ds.query(`SELECT count(*)::int AS n FROM gitops_sync_runs WHERE source_id = $1`, [s.id]))[0].n).toBe(1);
  });
});
