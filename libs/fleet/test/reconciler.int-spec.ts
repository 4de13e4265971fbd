import { AgentActionsService, GroupReconciler, GroupsService } from '@ampora/fleet';
import { FleetKit, MINIMAL_YAML, startFleetKit } from './fleet-test-kit';

interface Row {
  id: string;
  group_id: string | null;
  group_pinned: boolean;
  assignment_source: string | null;
  assigned_version_id: string | null;
}

describe('dynamic groups: the reconciler', () => {
  let kit: FleetKit;
  let groups: GroupsService;
  let reconciler: GroupReconciler;
  let actions: AgentActionsService;

  beforeAll(async () => {
    kit = await startFleetKit();
    groups = kit.app.get(GroupsService);
    reconciler = kit.app.get(GroupReconciler);
    actions = kit.app.get(AgentActionsService);
  });
  afterAll(() => kit.close());

  const rows = async (ids: string[]): Promise<Map<string, Row>> => {
    const r: Row[] = await kit.ds.query(`SELECT id, group_id, group_pinned, assignment_source, assigned_version_id FROM agents WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(r.map((x) => [x.id, x]));
  };
  const group = (name: string, selector: string | undefined, priority = 0) =>
    kit.as(() => groups.create(kit.operator, { name, kind: selector === undefined ? 'Static' : 'Dynamic', selector, priority }));

  it('puts matching agents into the right group; a tie goes to the higher priority, then the older group', async () => {
    const eu = await group('eu', 'region = "eu-central-1"', 0);
    const checkout = await group('checkout', 'service.name = "checkout"', 10);
    const euAgain = await group('eu-again', 'starts-with(region, "eu-")', 0);
    const [euAgent, checkoutEu, usAgent, bare, euWest] = await kit.insertAgents([
      { region: 'eu-central-1', 'service.name': 'cart' },
      { region: 'eu-central-1', 'service.name': 'checkout' },
      { region: 'us-east-1', 'service.name': 'cart' },
      {},
      { region: 'eu-west-1' },
    ]);
    const stats = await reconciler.reconcileTenant(kit.tenantId);
    expect(stats).toMatchObject({ groups: 3, moved: 3, evaluated: 5 });
    // the bare agent fails closed on every selector (missing labels)
    expect(stats.failed.missing).toBeGreaterThanOrEqual(3);
    const r = await rows([euAgent!, checkoutEu!, usAgent!, bare!, euWest!]);
    expect(r.get(euAgent!)!.group_id).toBe(eu.id); // eu and eu-again tie on priority 0: the older wins
    expect(r.get(checkoutEu!)!.group_id).toBe(checkout.id); // matches eu, eu-again and checkout: priority 10 wins
    expect(r.get(euWest!)!.group_id).toBe(euAgain.id);
    expect(r.get(usAgent!)!.group_id).toBeNull();
    expect(r.get(bare!)!.group_id).toBeNull();
    expect([...r.values()].every((x) => !x.group_pinned)).toBe(true);

    // a second pass changes nothing
    expect((await reconciler.reconcileTenant(kit.tenantId)).moved).toBe(0);
    // raising eu-again above eu moves its matches over
    await kit.as(() => groups.update(kit.operator, euAgain.id, { priority: 5 }));
    await reconciler.reconcileTenant(kit.tenantId);
    expect((await rows([euAgent!])).get(euAgent!)!.group_id).toBe(euAgain.id);
    await kit.as(() => groups.delete(kit.operator, euAgain.id));
    await kit.as(() => groups.delete(kit.operator, eu.id));
    await kit.as(() => groups.delete(kit.operator, checkout.id));
  });

  it('materialises the group\'s version on joining and drops it on leaving; labels changing move agents', async () => {
    const v = await kit.publishedConfig();
    const prod = await group('prod', 'environment = "prod"');
    await kit.as(() => groups.setAssignment(kit.operator, prod.id, { configurationId: v.configurationId, version: v.number }));
    const [a] = await kit.insertAgents([{ environment: 'prod' }]);
    await reconciler.reconcileTenant(kit.tenantId);
    expect((await rows([a!])).get(a!)).toMatchObject({ group_id: prod.id, assignment_source: 'group', assigned_version_id: v.versionId });
    await kit.ds.query(`UPDATE agents SET labels = '{"environment": "dev"}' WHERE id = $1`, [a]);
    await reconciler.reconcileTenant(kit.tenantId);
    expect((await rows([a!])).get(a!)).toMatchObject({ group_id: null, assignment_source: null, assigned_version_id: null });
    const audit: Array<{ action: string; actor: string; additional: { addedCount: number; removedCount: number } }> = await kit.ds.query(
      `SELECT action, actor, additional FROM audit_events WHERE entity_id = $1 AND action = 'MembershipReconciled' ORDER BY occurred_at`,
      [prod.id],
    );
    expect(audit.map((e) => [e.actor, e.additional.addedCount, e.additional.removedCount])).toEqual([
      ['system', 1, 0],
      ['system', 0, 1],
    ]);
    await kit.as(() => groups.delete(kit.operator, prod.id));
  });

  it('never moves an agent an operator placed, and an agent is never in two groups under concurrent moves', async () => {
    const v1 = await kit.publishedConfig();
    const v2 = await kit.publishedConfig(MINIMAL_YAML.replace('traces', 'logs'));
    const s1 = await group('static-1', undefined);
    const s2 = await group('static-2', undefined);
    const d1 = await group('dyn-eu', 'region = "eu"', 1);
    const d2 = await group('dyn-edge', 'tier = "edge" or region = "eu"', 5);
    for (const g of [s1, d1]) await kit.as(() => groups.setAssignment(kit.operator, g.id, { configurationId: v1.configurationId, version: v1.number }));
    for (const g of [s2, d2]) await kit.as(() => groups.setAssignment(kit.operator, g.id, { configurationId: v2.configurationId, version: v2.number }));
    const labels = Array.from({ length: 300 }, (_, i) => ({ region: i % 2 ? 'eu' : 'us', tier: i % 3 ? 'core' : 'edge' }));
    const ids = await kit.insertAgents(labels);
    await reconciler.reconcileTenant(kit.tenantId);

    const pick = (n: number) => [...ids].sort(() => Math.random() - 0.5).slice(0, n);
    const work: Array<Promise<unknown>> = [];
    for (let i = 0; i < 8; i++) work.push(reconciler.reconcileTenant(kit.tenantId, { pageSize: 50 }));
    for (let i = 0; i < 16; i++) work.push(kit.as(() => actions.bulkMove(kit.operator, pick(40), [s1.id, s2.id, null][i % 3]!)));
    for (let i = 0; i < 6; i++) {
      const v = i % 2 ? v1 : v2;
      work.push(kit.as(() => groups.setAssignment(kit.operator, [s1, d2][i % 2]!.id, { configurationId: v.configurationId, version: v.number })));
    }
    for (let i = 0; i < 10; i++) {
      // agents describing themselves anew (as the state writer records it, rows locked in id order)
      work.push(
        kit.ds.transaction(async (m) => {
          const batch = pick(20);
          await m.query(`SELECT id FROM agents WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [batch]);
          await m.query(`UPDATE agents SET labels = jsonb_build_object('region', CASE WHEN random() < 0.5 THEN 'eu' ELSE 'us' END, 'tier', 'core') WHERE id = ANY($1::uuid[])`, [batch]);
        }),
      );
    }
    const settled = await Promise.allSettled(work);
    expect(settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason))).toEqual([]);
    await reconciler.reconcileTenant(kit.tenantId);

    const all = [...(await rows(ids)).values()];
    const groupRows: Array<{ id: string; kind: string; assigned_version_id: string | null }> = await kit.ds.query(`SELECT id, kind, assigned_version_id FROM groups WHERE id = ANY($1::uuid[])`, [[s1.id, s2.id, d1.id, d2.id]]);
    const byId = new Map(groupRows.map((g) => [g.id, g]));
    const labelsNow: Array<{ id: string; labels: { region: string; tier: string } }> = await kit.ds.query(`SELECT id, labels FROM agents WHERE id = ANY($1::uuid[])`, [ids]);
    const labelOf = new Map(labelsNow.map((l) => [l.id, l.labels]));
    for (const a of all) {
      const g = a.group_id ? byId.get(a.group_id)! : null;
      // pinned ⇔ in a static group; unpinned agents are where their labels send them now
      if (a.group_pinned) expect(g?.kind).toBe('Static');
      else {
        const l = labelOf.get(a.id)!;
        const expected = l.tier === 'edge' || l.region === 'eu' ? d2.id : null;
        expect(a.group_id).toBe(expected);
      }
      // the materialised assignment is the current group's version, never a stale one
      expect(a.assignment_source).toBe(g?.assigned_version_id ? 'group' : null);
      expect(a.assigned_version_id).toBe(g?.assigned_version_id ?? null);
    }
    // members counted per group add up to the agents that have a group
    const counts = await groups.describe([s1, s2, d1, d2]);
    expect(counts.reduce((n, g) => n + g.memberCount, 0)).toBe(all.filter((a) => a.group_id).length);
  });
});
