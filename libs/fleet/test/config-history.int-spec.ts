import { AgentStateWriter } from '@ampora/fleet';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/** The state writer keeps an agent's remote-config history and last failure (decision 0111), in real PostgreSQL. */
describe('remote-config history', () => {
  let kit: FleetKit;
  let writer: AgentStateWriter;
  beforeAll(async () => {
    kit = await startFleetKit();
    writer = kit.app.get(AgentStateWriter);
  });
  afterAll(() => kit.close());

  const h = (n: number) => n.toString(16).padStart(64, '0');
  const events = (agentId: string) =>
    kit.ds.query(`SELECT kind, config_hash, message FROM agent_config_events WHERE agent_id = $1 ORDER BY at DESC, id DESC`, [agentId]) as Promise<Array<{ kind: string; config_hash: string; message: string | null }>>;

  it('records pushes and statuses without repeats, and keeps the last failure after a later APPLIED of another hash', async () => {
    const [id] = await kit.insertAgents([{}]);
    const agent = { agentId: id!, tenantId: kit.tenantId };
    const t = (s: number) => new Date(Date.parse('2026-12-05T10:00:00Z') + s * 1000);
    writer.remoteConfigSent(agent, h(2), t(0));
    writer.remoteConfigSent(agent, h(2), t(1)); // a re-offer: no new entry
    writer.report(agent, { remoteConfigStatus: { status: 'APPLYING', hash: h(2), errorMessage: '' } }, t(2));
    writer.report(agent, { remoteConfigStatus: { status: 'FAILED', hash: h(2), errorMessage: 'unknown receiver zipkin' } }, t(3));
    writer.report(agent, { remoteConfigStatus: { status: 'APPLIED', hash: h(1), errorMessage: '' } }, t(4));
    writer.report(agent, { remoteConfigStatus: { status: 'APPLIED', hash: h(1), errorMessage: '' } }, t(5)); // full state repeats it
    await writer.flush();
    expect((await events(id!)).map((e) => `${e.kind} ${Number.parseInt(e.config_hash, 16)} ${e.message ?? ''}`.trim())).toEqual([
      'APPLIED 1',
      'FAILED 2 unknown receiver zipkin',
      'APPLYING 2',
      'PUSHED 2',
    ]);
    const [row] = await kit.ds.query(`SELECT remote_config_status, remote_config_hash, remote_config_error, remote_config_at, last_failure_hash, last_failure_message, last_failure_at FROM agents WHERE id = $1`, [id]);
    expect(row).toMatchObject({ remote_config_status: 'APPLIED', remote_config_hash: h(1), remote_config_error: '', last_failure_hash: h(2), last_failure_message: 'unknown receiver zipkin' });
    expect(new Date(row.last_failure_at).toISOString()).toBe(t(3).toISOString());
    expect(new Date(row.remote_config_at).toISOString()).toBe(t(5).toISOString());
  });

  it('lists entries of the same millisecond in the order they came (decision 0448), a millisecond apart', async () => {
    const ids = await kit.insertAgents(Array.from({ length: 20 }, () => ({})));
    const same = new Date('2026-12-05T12:00:00.000Z');
    for (const id of ids) {
      const agent = { agentId: id, tenantId: kit.tenantId };
      writer.remoteConfigSent(agent, h(3), same);
      writer.report(agent, { remoteConfigStatus: { status: 'APPLYING', hash: h(3), errorMessage: '' } }, same);
      writer.report(agent, { remoteConfigStatus: { status: 'FAILED', hash: h(3), errorMessage: 'broken' } }, same);
    }
    await writer.flush();
    for (const id of ids) expect((await events(id)).map((e) => e.kind)).toEqual(['FAILED', 'APPLYING', 'PUSHED']);
    const times: Array<{ at: Date }> = await kit.ds.query(`SELECT at FROM agent_config_events WHERE agent_id = $1 ORDER BY at`, [ids[0]]);
    expect(times.map((r) => new Date(r.at).getTime() - same.getTime())).toEqual([0, 1, 2]);
  });

  it('keeps the newest 200 entries per agent', async () => {
    const [id, other] = await kit.insertAgents([{}, {}]);
    writer.remoteConfigSent({ agentId: other!, tenantId: kit.tenantId }, h(9), new Date());
    for (let i = 0; i < 230; i++) writer.remoteConfigSent({ agentId: id!, tenantId: kit.tenantId }, h(i), new Date(Date.parse('2026-12-05T11:00:00Z') + i));
    await writer.flush();
    const kept = await events(id!);
    expect(kept).toHaveLength(200);
    expect(Number.parseInt(kept[0]!.config_hash, 16)).toBe(229);
    expect(Number.parseInt(kept[199]!.config_hash, 16)).toBe(30);
    expect(await events(other!)).toHaveLength(1);
  });
});
