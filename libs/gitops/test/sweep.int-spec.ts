import { ConfigurationsService } from '@ampora/fleet';
import { CreateGitSourceInput, GitopsQueries, SourcesService, SweepService } from '@ampora/gitops';
import { collectorYaml, GitFixture } from './git-fixture';
import { GitopsKit, startGitopsKit } from './gitops-kit';

/**
 * Sweeps against real repositories made with the git CLI (file://), on a real PostgreSQL: first
 * import, the unchanged tip, one changed file of three, naming, collisions, bad YAML, deletions, a
 * force-pushed branch, two sweeps at once.
 */
describe('GitOps sweeps', () => {
  let kit: GitopsKit;
  let sources: SourcesService;
  let sweeps: SweepService;
  let queries: GitopsQueries;
  let configurations: ConfigurationsService;
  const repos: GitFixture[] = [];

  beforeAll(async () => {
    kit = await startGitopsKit();
    sources = kit.app.get(SourcesService);
    sweeps = kit.app.get(SweepService);
    queries = kit.app.get(GitopsQueries);
    configurations = kit.app.get(ConfigurationsService);
  });
  afterAll(async () => {
    for (const r of repos) r.close();
    await kit.close();
  });

  function repo(): GitFixture {
    const r = new GitFixture();
    repos.push(r);
    return r;
  }

  async function source(r: GitFixture, overrides: Partial<CreateGitSourceInput> = {}) {
    const input: CreateGitSourceInput = { name: `src-${repos.length}-${Math.random().toString(36).slice(2, 7)}`, repositoryUrl: r.url, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'None', pollIntervalSeconds: 3600, ...overrides };
    const s = await kit.as(() => sources.create(kit.admin, input).then((o) => o.source));
    return s;
  }

  async function versions(name: string): Promise<Array<{ number: number; source_ref: string; created_by: string; yaml: string; error_count: number }>> {
    return kit.ds.query(
      `SELECT v.number, v.source_ref, v.created_by, v.yaml, v.error_count FROM configuration_versions v JOIN configurations c ON c.id = v.configuration_id WHERE c.name = $1 AND c.tenant_id = $2 ORDER BY v.number`,
      [name, kit.admin.tenantId],
    );
  }

  async function runCount(sourceId: string): Promise<number> {
    return Number((await kit.ds.query(`SELECT count(*)::int AS n FROM gitops_sync_runs WHERE source_id = $1`, [sourceId]))[0].n);
  }

  it('imports every matched file on the first sweep, then does nothing while the tip stays', async () => {
    const r = repo().write({ 'edge-a.yaml': collectorYaml(), 'edge-b.yaml': collectorYaml('otlp'), 'eu/edge-c.yaml': collectorYaml(), 'README.md': '# not a config\n' });
    const tip = r.commit('first');
    const s = await source(r);

    const first = await sweeps.sweep(s.id, 'manual');
    expect(first).toMatchObject({ outcome: 'success', tipSha: tip });
    expect(first.run).toMatchObject({ filesSeen: 3, filesImported: 3, filesUnchanged: 0, errors: [] });
    const v = await versions('edge-c');
    expect(v).toEqual([expect.objectContaining({ number: 1, source_ref: `git:${tip}`, created_by: 'Ada Lovelace <ada@example.test>', yaml: collectorYaml() })]);
    const [config] = (await kit.ds.query(`SELECT source FROM configurations WHERE name = 'edge-c' AND tenant_id = $1`, [kit.admin.tenantId])) as Array<{ source: string }>;
    expect(config!.source).toBe('git');
    expect((await sources.get(kit.admin.tenantId, s.id)).lastSyncedSha).toBe(tip);

    const writesBefore = await runCount(s.id);
    const again = await sweeps.sweep(s.id, 'schedule');
    expect(again).toEqual({ outcome: 'noop', tipSha: tip, run: null });
    expect(await runCount(s.id)).toBe(writesBefore);
    expect(await versions('edge-a')).toHaveLength(1);
  });

  it('imports exactly one version when one of three files changes, and refuses API edits of Git-managed configurations', async () => {
    const r = repo().write({ 'one.yaml': collectorYaml(), 'two.yaml': collectorYaml(), 'three.yaml': collectorYaml() });
    r.commit();
    const s = await source(r);
    await sweeps.sweep(s.id, 'manual');
    r.write({ 'two.yaml': collectorYaml('otlp') });
    const tip = r.commit('change two');

    const result = await sweeps.sweep(s.id, 'webhook');
    expect(result.run).toMatchObject({ filesSeen: 3, filesImported: 1, filesUnchanged: 2, tipSha: tip, trigger: 'webhook' });
    expect((await versions('two')).map((v) => v.number)).toEqual([1, 2]);
    expect(await versions('one')).toHaveLength(1);

    const [{ id }] = (await kit.ds.query(`SELECT id FROM configurations WHERE name = 'two' AND tenant_id = $1`, [kit.admin.tenantId])) as Array<{ id: string }>;
    await expect(kit.as(() => configurations.createVersion(kit.admin, id, collectorYaml()))).rejects.toMatchObject({ code: 'configuration_managed_by_git', status: 409 });
    await expect(kit.as(() => configurations.updateDraft(kit.admin, id, 2, collectorYaml()))).rejects.toMatchObject({ code: 'configuration_managed_by_git' });
  });

  it('names by frontmatter, refuses two files of one name and a name an API configuration holds, and records bad YAML', async () => {
    await kit.as(() => configurations.create(kit.admin, { name: 'api-owned' }));
    const r = repo().write({
      'x/prod.yaml': collectorYaml(),
      'y/prod.yaml': collectorYaml(),
      'z/prod.yaml': `# ampora.name: prod-z\n${collectorYaml()}`,
      'api-owned.yaml': collectorYaml(),
      'broken.yaml': 'receivers: [unclosed\n',
    });
    r.commit();
    const s = await source(r);

    const result = await sweeps.sweep(s.id, 'manual');
    expect(result.outcome).toBe('partial');
    const errors = Object.fromEntries(result.run!.errors.map((e) => [e.path, e.error]));
    expect(Object.keys(errors).sort()).toEqual(['api-owned.yaml', 'broken.yaml', 'x/prod.yaml', 'y/prod.yaml']);
    expect(errors['api-owned.yaml']).toMatch(/created through the API/);
    expect(errors['x/prod.yaml']).toMatch(/2 files resolve to the name "prod"/);
    expect(errors['broken.yaml']).toMatch(/error finding/);
    expect(await versions('prod-z')).toHaveLength(1);
    expect(await versions('prod')).toHaveLength(0);
    expect(await versions('api-owned')).toHaveLength(0);
    expect((await versions('broken'))[0]!.error_count).toBeGreaterThan(0);
  });

  it('orphans the configuration of a deleted file and keeps it', async () => {
    const r = repo().write({ 'keep.yaml': collectorYaml(), 'drop-me.yaml': collectorYaml() });
    r.commit();
    const s = await source(r);
    await sweeps.sweep(s.id, 'manual');
    r.remove('drop-me.yaml');
    r.commit('delete');

    const result = await sweeps.sweep(s.id, 'manual');
    expect(result.run).toMatchObject({ filesSeen: 1, filesOrphaned: 1, filesImported: 0, filesUnchanged: 1 });
    const files = await queries.files(kit.admin.tenantId, s.id);
    expect(files.map((f) => [f.path, f.status])).toEqual([
      ['drop-me.yaml', 'orphaned'],
      ['keep.yaml', 'tracked'],
    ]);
    expect(await versions('drop-me')).toHaveLength(1);
  });

  it('follows a force-pushed branch', async () => {
    const r = repo().write({ 'fp.yaml': collectorYaml() });
    r.commit('base');
    r.write({ 'fp.yaml': collectorYaml('otlp') });
    r.commit('to be rewritten');
    const s = await source(r);
    await sweeps.sweep(s.id, 'manual');
    const tip = r.rewrite({ 'fp.yaml': collectorYaml('otlphttp') });

    const result = await sweeps.sweep(s.id, 'manual');
    expect(result).toMatchObject({ outcome: 'success', tipSha: tip });
    expect((await versions('fp')).map((v) => v.yaml)).toEqual([collectorYaml('otlp'), collectorYaml('otlphttp')]);
  });

  it('runs one sweep of a source at a time: concurrent sweeps import a change once', async () => {
    const r = repo().write({ 'race.yaml': collectorYaml() });
    r.commit();
    const s = await source(r);
    const results = await Promise.all(Array.from({ length: 5 }, () => sweeps.sweep(s.id, 'webhook')));
    expect(results.map((x) => x.outcome).sort()).toEqual(['noop', 'noop', 'noop', 'noop', 'success']);
    expect(await versions('race')).toHaveLength(1);
  });

  it('records a failed run when the branch does not exist, and skips a paused source', async () => {
    const r = repo().write({ 'x.yaml': collectorYaml() });
    r.commit();
    const s = await source(r, { branch: 'nope' });
    const failed = await sweeps.sweep(s.id, 'manual');
    expect(failed.outcome).toBe('failed');
    expect(failed.run!.failure).toMatch(/git fetch failed/);
    await kit.as(() => sources.pause(kit.admin, s.id));
    expect((await sweeps.sweep(s.id, 'schedule')).outcome).toBe('skipped');
  });

  it('updates a source: a new branch is swept in full, a new credential kind needs its credential, names stay unique', async () => {
    const r = repo().write({ 'upd.yaml': collectorYaml() });
    r.commit();
    r.git('branch', 'release');
    const s = await source(r, { name: 'to-update' });
    await sweeps.sweep(s.id, 'manual');
    expect((await sources.get(kit.admin.tenantId, s.id)).lastSyncedSha).not.toBeNull();

    const moved = await kit.as(() => sources.update(kit.admin, s.id, { branch: 'release', pollIntervalSeconds: 120 }).then((o) => o.source));
    expect(moved).toMatchObject({ branch: 'release', pollIntervalSeconds: 120, lastSyncedSha: null });
    expect((await sweeps.sweep(s.id, 'manual')).outcome).toBe('success');

    await expect(kit.as(() => sources.update(kit.admin, s.id, { credentialKind: 'Pat' }).then((o) => o.source))).rejects.toMatchObject({ code: 'GIT_SOURCE_INVALID' });
    await expect(kit.as(() => sources.update(kit.admin, s.id, { pathGlob: '/abs/*.yaml' }).then((o) => o.source))).rejects.toMatchObject({ code: 'GIT_SOURCE_INVALID' });
    await source(r, { name: 'other-name' });
    await expect(kit.as(() => sources.update(kit.admin, s.id, { name: 'other-name' }).then((o) => o.source))).rejects.toMatchObject({ code: 'GIT_SOURCE_NAME_TAKEN', status: 409 });
  });
});
