import { randomBytes } from 'node:crypto';
import { GroupsService, RolloutSupportService } from '@ampora/fleet';
import { FleetKit, MINIMAL_YAML, startFleetKit } from './fleet-test-kit';

const yaml = (tag: string) => MINIMAL_YAML.replace('debug: {}', `debug/${tag}: {}`).replace('exporters: [debug]', `exporters: [debug/${tag}]`);

describe("fleet's RolloutSupportService (what rollouts may know and change of the fleet)", () => {
  let kit: FleetKit;
  let fleet: RolloutSupportService;
  let groups: GroupsService;

  beforeAll(async () => {
    kit = await startFleetKit();
    fleet = kit.app.get(RolloutSupportService);
    groups = kit.app.get(GroupsService);
  });
  afterAll(() => kit.close());

  async function groupOf(count: number) {
    const v1 = await kit.publishedConfig(yaml('v1'));
    const group = await kit.as(() => groups.create(kit.operator, { name: `g-${Math.random().toString(36).slice(2, 8)}`, kind: 'Static', priority: 0 }));
    await kit.as(() => groups.setAssignment(kit.operator, group.id, { configurationId: v1.configurationId, version: v1.number }));
    const agents = await kit.insertAgents(Array.from({ length: count }, () => ({})));
    await kit.as(() => groups.addMembers(kit.operator, group.id, agents));
    return { group, agents, v1 };
  }

  const tx = <T>(fn: (manager: import('typeorm').EntityManager) => Promise<T>) => kit.ds.transaction(fn);

  it('gives the members, a cohort in its order, member counts, and hides a deleted group', async () => {
    const { group, agents } = await groupOf(3);
    expect((await fleet.members(kit.tenantId, group.id)).map((c) => c.id).sort()).toEqual([...agents].sort());
    // what a step's targets start from (decision 0434): the reported health and effective config
    await kit.ds.query(`UPDATE agents SET healthy = false, effective_config_hash = repeat('e', 64) WHERE id = $1`, [agents[0]]);
    expect((await fleet.members(kit.tenantId, group.id)).find((c) => c.id === agents[0])).toMatchObject({ healthy: false, effectiveConfigHash: 'e'.repeat(64) });
    expect((await fleet.members(kit.tenantId, group.id)).find((c) => c.id === agents[1])).toMatchObject({ healthy: null, effectiveConfigHash: null });
    expect((await fleet.cohort(kit.tenantId, [agents[2]!, agents[0]!])).map((c) => c.id)).toEqual([agents[2], agents[0]]);
    expect((await fleet.memberCounts(kit.tenantId, [group.id, group.id])).get(group.id)).toBe(3);
    expect((await fleet.displayNames(agents)).size).toBe(3);
    expect(await tx((m) => fleet.liveGroup(m, kit.tenantId, group.id))).toEqual({ id: group.id, name: group.name });
    await kit.as(() => groups.delete(kit.operator, group.id));
    expect(await tx((m) => fleet.liveGroup(m, kit.tenantId, group.id))).toBeNull();
  });

  it('assigns a version as a rollout, keeps only agents still in the group, and reverts an aborted rollout to the group’s version', async () => {
    const { group, agents, v1 } = await groupOf(3);
    const v2 = await kit.as(async () => {
      const { ConfigurationsService } = await import('@ampora/fleet');
      const configs = kit.app.get(ConfigurationsService);
      const v = await configs.createVersion(kit.operator, v1.configurationId, yaml('v2'));
      await configs.publish(kit.operator, v1.configurationId, v.number);
      return v;
    });
    const version = await tx((m) => fleet.publishedVersion(m, kit.tenantId, v1.configurationId, v2.number));
    expect(version).toMatchObject({ id: v2.id, number: v2.number, configHash: v2.configHash.trim() });
    expect(version.desired.hash).toBe(version.configHash);
    expect(await tx((m) => fleet.previousPublishedNumber(m, v1.configurationId, v2.number))).toBe(v1.number);
    expect(await tx((m) => fleet.previousPublishedNumber(m, v1.configurationId, v1.number))).toBeNull();
    expect((await fleet.versionHashes([v2.id])).get(v2.id)).toEqual({ configHash: version.configHash, contentHash: version.contentHash });

    const outsider = (await kit.insertAgents([{}]))[0]!;
    const staying = await tx((m) => fleet.lockInGroup(m, kit.tenantId, group.id, [agents[1]!, outsider, agents[0]!]));
    expect(staying).toEqual([agents[1], agents[0]]);
    const changed = await tx((m) => fleet.assignVersion(m, kit.tenantId, staying, version.id));
    expect(changed.sort()).toEqual([...staying].sort());
    const states = await fleet.agentStates([...agents, outsider], kit.tenantId);
    expect(states.get(agents[0]!)).toMatchObject({ groupId: group.id, assignmentSource: 'rollout' });
    expect(states.get(agents[0]!)!.assignedConfigHash!.trim()).toBe(version.configHash);
    expect(states.get(agents[2]!)).toMatchObject({ groupId: group.id, assignmentSource: 'group' });
    expect(states.get(outsider)).toMatchObject({ groupId: null });

    const back = await tx((m) => fleet.revertRolloutAssignment(m, kit.tenantId, agents, version.id));
    expect(back.sort()).toEqual([...staying].sort());
    const after = await fleet.agentStates(agents);
    expect([...after.values()].every((a) => a.assignmentSource === 'group' && a.assignedConfigHash!.trim() !== version.configHash)).toBe(true);
  });

  it("hands a completed rollout's agents back to the group: they keep their copy of the config, late joiners get the version, a direct assignment stays", async () => {
    const { group, agents, v1 } = await groupOf(4);
    const { ConfigurationsService } = await import('@ampora/fleet');
    const configs = kit.app.get(ConfigurationsService);
    const v2 = await kit.as(async () => {
      // a config large enough to live out of line (TOAST): a rewritten copy shows as new chunks
      const v = await configs.createVersion(kit.operator, v1.configurationId, yaml('v2').replace('debug/v2: {}', `debug/v2: { note: "${randomBytes(6000).toString('base64')}" }`));
      await configs.publish(kit.operator, v1.configurationId, v.number);
      return v;
    });
    const version = await tx((m) => fleet.publishedVersion(m, kit.tenantId, v1.configurationId, v2.number));
    const [byRollout1, byRollout2, lateJoiner, direct] = agents as [string, string, string, string];
    await tx((m) => fleet.assignVersion(m, kit.tenantId, [byRollout1, byRollout2], version.id));
    await kit.ds.query(`UPDATE agents SET assignment_source = 'direct' WHERE id = $1`, [direct]);
    const row = async (id: string) =>
      (await kit.ds.query(`SELECT assignment_source, assigned_version_id, assigned_config_hash, assigned_at, assigned_config, failed_config_hash FROM agents WHERE id = $1`, [id]))[0];
    await kit.ds.query(`UPDATE agents SET failed_config_hash = repeat('f', 64) WHERE id = $1`, [byRollout2]);
    const before = await row(byRollout1);

    const [{ toast }]: Array<{ toast: string }> = await kit.ds.query(`SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE oid = 'agents'::regclass`);
    const { changed, xid } = await tx(async (m) => ({
      changed: await fleet.adoptGroupVersion(m, kit.tenantId, group.id, version.id),
      xid: String(BigInt((await m.query(`SELECT txid_current()::text AS x`))[0].x) % 2n ** 32n),
    }));
    expect(changed).toEqual([lateJoiner]);
    // one new out-of-line copy of the config, the late joiner's; the rollout's two agents kept theirs (decision 0435)
    expect(await kit.ds.query(`SELECT count(DISTINCT chunk_id)::int AS n FROM ${toast} WHERE xmin::text = $1`, [xid])).toEqual([{ n: 1 }]);
    const after = await row(byRollout1);
    expect(after).toMatchObject({ assignment_source: 'group', assigned_version_id: version.id, assigned_config_hash: before.assigned_config_hash, assigned_config: before.assigned_config });
    expect(after.assigned_at).toEqual(before.assigned_at);
    expect(await row(byRollout2)).toMatchObject({ assignment_source: 'group', failed_config_hash: null });
    expect(await row(lateJoiner)).toMatchObject({ assignment_source: 'group', assigned_version_id: version.id, assigned_config: before.assigned_config });
    expect((await row(lateJoiner)).assigned_config_hash.trim()).toBe(version.configHash);
    expect(await row(direct)).toMatchObject({ assignment_source: 'direct', assigned_version_id: v1.versionId });
    expect(await kit.ds.query(`SELECT assigned_version_id FROM groups WHERE id = $1`, [group.id])).toEqual([{ assigned_version_id: version.id }]);
  });
});
