import { randomUUID } from 'node:crypto';
import { stateUpdateStatement } from '../src/agents/agent-state.statement';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/**
 * Decision 0446: the state writer's batch travels as one array per column (`unnest`), not as a
 * `VALUES` list. Arrays have their own literal syntax (quotes, backslashes, braces, NULL), so the
 * values an agent reports must come back exactly as they went.
 */
describe('agent state writer: a batch as arrays', () => {
  let kit: FleetKit;
  beforeAll(async () => {
    kit = await startFleetKit();
  });
  afterAll(() => kit.close());

  it('writes hostile strings, JSON, NULLs and the word NULL exactly, and skips an agent that is not there', async () => {
    const [id] = await kit.insertAgents([{ 'host.name': 'hostile' }]);
    const weird = `a "quoted" \\ back\\slash, {braces}, commas, and NULL`;
    const health = { healthy: false, last_error: weird, nested: [1, '{x}', null, { '"k"': '\\' }] };
    const { sql, params } = stateUpdateStatement(
      ['agent_type', 'agent_version', 'health', 'remote_config_error', 'last_seen_at'],
      [
        [id!, { agent_type: weird, agent_version: 'NULL', health, remote_config_error: null, last_seen_at: new Date('2026-12-07T10:00:00Z') }],
        [randomUUID(), { agent_type: 'absent', agent_version: '1', health: null, remote_config_error: null, last_seen_at: new Date() }],
      ],
      'test-instance',
    );
    await kit.ds.query(sql, params);
    const [row] = await kit.ds.query(`SELECT agent_type, agent_version, health, remote_config_error, last_seen_at FROM agents WHERE id = $1`, [id]);
    expect(row).toEqual({ agent_type: weird, agent_version: 'NULL', health, remote_config_error: null, last_seen_at: new Date('2026-12-07T10:00:00Z') });
  });
});
