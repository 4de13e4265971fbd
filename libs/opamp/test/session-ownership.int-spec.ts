import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, loadConfig } from '@ampora/platform';
import { createTestDatabase, TestDatabase } from '@ampora/testing';
import { ACQUIRE_SQL, SessionOwnershipRepository } from '../src/ownership/session-ownership.repository';

/** Session leases against the real PostgreSQL: outcomes, fencing tokens, renewal and release. */
describe('session ownership leases', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let leases: SessionOwnershipRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(buildDataSourceOptions(loadConfig({ DATABASE_URL: db.url }), { entities: [], extra: { max: 4 } }));
    await ds.initialize();
    leases = new SessionOwnershipRepository(ds);
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  async function expire(agentId: string): Promise<void> {
    await ds.query(`UPDATE agent_session_ownership SET lease_expires_at = now() - interval '1 second' WHERE agent_id = $1`, [agentId]);
  }

  it('acquires, keeps the token on the same instance, and draws a larger one on every change of hands', async () => {
    const agent = randomUUID();
    const first = await leases.acquire(agent, 'A', 60);
    expect(first.outcome).toBe('acquired');
    const again = await leases.acquire(agent, 'A', 60);
    expect(again).toEqual({ fencingToken: first.fencingToken, outcome: 'renewed' });
    const b = await leases.acquire(agent, 'B', 60);
    expect(b).toEqual({ fencingToken: expect.any(BigInt), outcome: 'taken_over', previousInstance: 'A' });
    expect(b.fencingToken > first.fencingToken).toBe(true);
    expect(await leases.owner(agent)).toEqual({ agentId: agent, instanceId: 'B', fencingToken: b.fencingToken });
    const back = await leases.acquire(agent, 'A', 60);
    expect(back.outcome).toBe('taken_over');
    expect(back.previousInstance).toBe('B');
    expect(back.fencingToken > b.fencingToken).toBe(true);
  });

  it('treats an expired lease as free: acquired with a new token, and no owner meanwhile', async () => {
    const agent = randomUUID();
    const a = await leases.acquire(agent, 'A', 60);
    await expire(agent);
    expect(await leases.owner(agent)).toBeUndefined();
    const same = await leases.acquire(agent, 'A', 60);
    expect(same.outcome).toBe('acquired');
    expect(same.fencingToken > a.fencingToken).toBe(true);
    await expire(agent);
    const other = await leases.acquire(agent, 'B', 60);
    expect(other).toMatchObject({ outcome: 'acquired' });
    expect(other.previousInstance).toBeUndefined();
  });

  it('releases only with the token it holds: a stale holder cannot drop the new lease', async () => {
    const agent = randomUUID();
    const a = await leases.acquire(agent, 'A', 60);
    const b = await leases.acquire(agent, 'B', 60);
    expect(await leases.release(agent, 'A', a.fencingToken)).toBe(false);
    expect(await leases.release(agent, 'B', a.fencingToken)).toBe(false);
    expect((await leases.owner(agent))?.instanceId).toBe('B');
    expect(await leases.release(agent, 'B', b.fencingToken)).toBe(true);
    expect(await leases.owner(agent)).toBeUndefined();
    const c = await leases.acquire(agent, 'C', 60);
    expect(c.outcome).toBe('acquired');
    expect(c.fencingToken > b.fencingToken).toBe(true); // tokens never repeat, even after a delete
  });

  it('reports a conflict when another instance acquired the same agent at the same moment', async () => {
    const agent = randomUUID();
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      const held = await other.query<{ token: string }>(ACQUIRE_SQL, [[agent], 'A', 60]);
      // B's statement starts while A's insert is uncommitted: it cannot see A's row, then meets it
      const racing = leases.acquire(agent, 'B', 60);
      await new Promise((r) => setTimeout(r, 200));
      await other.query('COMMIT');
      const b = await racing;
      expect(b.outcome).toBe('conflict');
      expect(b.fencingToken > BigInt(held.rows[0]!.token)).toBe(true);
      expect((await leases.owner(agent))?.instanceId).toBe('B');
    } finally {
      await other.end();
    }
  });

  it('takes many leases in one statement, each with the outcome it would have had alone', async () => {
    const [free, mine, theirs, expired] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const held = await leases.acquire(mine, 'M', 60);
    const other = await leases.acquire(theirs, 'O', 60);
    await leases.acquire(expired, 'O', 60);
    await expire(expired);
    const counted = jest.spyOn(ds, 'query');
    const got = await leases.acquireMany([theirs, free, expired, mine, free], 'M', 60);
    expect(counted).toHaveBeenCalledTimes(1);
    counted.mockRestore();
    expect(got.size).toBe(4);
    expect(got.get(free)).toMatchObject({ outcome: 'acquired' });
    expect(got.get(mine)).toEqual({ fencingToken: held.fencingToken, outcome: 'renewed' });
    expect(got.get(theirs)).toMatchObject({ outcome: 'taken_over', previousInstance: 'O' });
    expect(got.get(theirs)!.fencingToken > other.fencingToken).toBe(true);
    expect(got.get(expired)).toMatchObject({ outcome: 'acquired' });
    for (const id of [free, mine, theirs, expired]) expect(await leases.owner(id)).toEqual({ agentId: id, instanceId: 'M', fencingToken: got.get(id)!.fencingToken });
    // every token that changed hands is new and distinct
    const tokens = [got.get(free)!, got.get(theirs)!, got.get(expired)!].map((a) => a.fencingToken);
    expect(new Set(tokens).size).toBe(3);
  });

  it('renews every lease of an instance in one statement and answers which it still holds', async () => {
    const agents = Array.from({ length: 500 }, () => randomUUID());
    for (const a of agents) await leases.acquire(a, 'R', 5);
    const lost = agents[7]!;
    const taken = await leases.acquire(lost, 'S', 60);
    await ds.query(`UPDATE agent_session_ownership SET lease_expires_at = now() + interval '1 second' WHERE instance_id = 'R'`);
    const spy = jest.spyOn(ds, 'query');
    try {
      const held = await leases.renewAll('R', 60);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(held.size).toBe(499);
      expect(held.has(lost)).toBe(false);
    } finally {
      spy.mockRestore();
    }
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM agent_session_ownership WHERE instance_id = 'R' AND lease_expires_at > now() + interval '50 seconds'`);
    expect(n).toBe(499);
    expect((await leases.owner(lost))?.fencingToken).toBe(taken.fencingToken);
  });

  it('tells which renewed leases had lapsed before the renewal (nobody took them meanwhile)', async () => {
    const [fresh, lapsed, taken] = [randomUUID(), randomUUID(), randomUUID()];
    for (const agent of [fresh, lapsed, taken]) await leases.acquire(agent, 'L', 60);
    await expire(lapsed);
    await expire(taken);
    await leases.acquire(taken, 'M', 60);
    const held = await leases.renewAll('L', 60);
    expect([...held.keys()].sort()).toEqual([fresh, lapsed].sort());
    expect(held.lapsed).toEqual([lapsed]);
    expect(await leases.owner(lapsed)).toMatchObject({ instanceId: 'L' });
    expect((await leases.renewAll('L', 60)).lapsed).toEqual([]);
  });

  it('releases several leases by token, and all of an instance at once', async () => {
    const [x, y, z] = [randomUUID(), randomUUID(), randomUUID()];
    const lx = await leases.acquire(x, 'Q', 60);
    const ly = await leases.acquire(y, 'Q', 60);
    await leases.acquire(z, 'Q', 60);
    // y moved on: its old token no longer releases it
    const ly2 = await leases.acquire(y, 'P', 60);
    expect(await leases.releaseMany('Q', new Map([[x, lx.fencingToken], [y, ly.fencingToken]]))).toBe(1);
    expect(await leases.owner(x)).toBeUndefined();
    expect((await leases.owner(y))?.fencingToken).toBe(ly2.fencingToken);
    expect(await leases.releaseAll('Q')).toBe(1);
    expect(await leases.owner(z)).toBeUndefined();
    expect(await leases.owner(y)).toBeDefined();
  });
});
