import { GroupsService } from '@ampora/fleet';
import { ApprovalRuleService } from '@ampora/governance';
import { SourcesService, SweepService } from '@ampora/gitops';
import { collectorYaml, GitFixture } from './git-fixture';
import { GitopsKit, startGitopsKit } from './gitops-kit';

/** autoPublish: imported versions become Published, and a group's path prefix starts a rollout. */
describe('GitOps auto-publish', () => {
  let kit: GitopsKit;
  let repo: GitFixture;

  beforeAll(async () => {
    kit = await startGitopsKit();
    repo = new GitFixture();
  });
  afterAll(async () => {
    repo.close();
    await kit.close();
  });

  async function versionRows(name: string) {
    return (await kit.ds.query(
      `SELECT v.number, v.status FROM configuration_versions v JOIN configurations c ON c.id = v.configuration_id WHERE c.name = $1 ORDER BY v.number`,
      [name],
    )) as Array<{ number: number; status: string }>;
  }

  it('publishes imported versions, rolls out those under a group prefix, and leaves Error versions as Drafts', async () => {
    const group = await kit.as(() => kit.app.get(GroupsService).create(kit.admin, { name: 'edge-eu', kind: 'Static', priority: 0 }));
    repo.write({ 'eu/edge.yaml': collectorYaml(), 'us/edge-us.yaml': collectorYaml(), 'eu/broken.yaml': 'receivers: [\n' }).commit();
    const sources = kit.app.get(SourcesService);
    await expect(
      kit.as(() => sources.create(kit.admin, { name: 'no-publish', repositoryUrl: repo.url, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'None', pollIntervalSeconds: 60, autoPublish: false, groupAssignments: [{ pathPrefix: 'eu/', groupId: group.id }] }).then((o) => o.source)),
    ).rejects.toMatchObject({ code: 'GIT_SOURCE_INVALID' });
    const s = await kit.as(() => sources.create(kit.admin, { name: 'publishing', repositoryUrl: repo.url, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'None', pollIntervalSeconds: 60, autoPublish: true, groupAssignments: [{ pathPrefix: 'eu/', groupId: group.id }] }).then((o) => o.source));

    const result = await kit.app.get(SweepService).sweep(s.id, 'webhook');
    expect(result.run!.filesImported).toBe(3);
    expect(await versionRows('edge')).toEqual([{ number: 1, status: 'Published' }]);
    expect(await versionRows('edge-us')).toEqual([{ number: 1, status: 'Published' }]);
    expect(await versionRows('broken')).toEqual([{ number: 1, status: 'Draft' }]);
    const rollouts = (await kit.ds.query(`SELECT r.group_id, r.version_number, r.state, c.name FROM rollouts r JOIN configurations c ON c.id = r.configuration_id`)) as Array<{ group_id: string; version_number: number; state: string; name: string }>;
    expect(rollouts).toEqual([expect.objectContaining({ group_id: group.id, version_number: 1, name: 'edge' })]);
    expect(rollouts[0]!.state).not.toBe('Pending');
    expect(result.run!.errors.map((e) => e.path)).toEqual(['eu/broken.yaml']);

    // the next change to the group's file finds its rollout still running: published, the refusal recorded
    repo.write({ 'eu/edge.yaml': collectorYaml('otlp') }).commit();
    const next = await kit.app.get(SweepService).sweep(s.id, 'webhook');
    expect(await versionRows('edge')).toEqual([
      { number: 1, status: 'Published' },
      { number: 2, status: 'Published' },
    ]);
    // (no engine runs in this test: the first rollout stays InProgress)
    expect(next.run!.errors).toEqual([{ path: 'eu/edge.yaml', error: expect.stringMatching(/^published as version 2; no rollout to group .*ROLLOUT_GROUP_BUSY/) }]);
    expect(await kit.ds.query(`SELECT version_number FROM rollouts`)).toHaveLength(1);
  });

  it('leaves a version an approval rule holds as a Draft, says why in the run, and starts no rollout (decision 0400)', async () => {
    const rules = kit.app.get(ApprovalRuleService);
    const rule = await kit.as(() => rules.create(kit.admin, { name: 'held imports', operation: 'configuration.publish', condition: 'configuration.name matches "held-.*"' }));
    try {
      const group = await kit.as(() => kit.app.get(GroupsService).create(kit.admin, { name: 'held-group', kind: 'Static', priority: 0 }));
      const held = new GitFixture();
      try {
        held.write({ 'eu/held-edge.yaml': collectorYaml(), 'eu/free-edge.yaml': collectorYaml() }).commit();
        const s = await kit.as(() => kit.app.get(SourcesService).create(kit.admin, { name: 'held-source', repositoryUrl: held.url, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'None', pollIntervalSeconds: 60, autoPublish: true, groupAssignments: [{ pathPrefix: 'eu/held', groupId: group.id }] }).then((o) => o.source));
        const result = await kit.app.get(SweepService).sweep(s.id, 'webhook');
        expect(await versionRows('held-edge')).toEqual([{ number: 1, status: 'Draft' }]);
        expect(await versionRows('free-edge')).toEqual([{ number: 1, status: 'Published' }]);
        expect(result.run!.errors).toEqual([{ path: 'eu/held-edge.yaml', error: expect.stringMatching(/^imported as Draft version 1; its publication waits for approval [0-9a-f-]{36}$/) }]);
        expect(await kit.ds.query(`SELECT id FROM rollouts WHERE group_id = $1`, [group.id])).toHaveLength(0);
        expect(await kit.ds.query(`SELECT subject_id FROM approval_requests WHERE status = 'Pending' AND subject_id LIKE 'configuration.publish:%'`)).toHaveLength(1);
      } finally {
        held.close();
      }
    } finally {
      await kit.as(() => rules.delete(kit.admin, rule.id));
    }
  });
});
