import { Client } from 'pg';
import { eventually, S2A, TestAgent } from '@ampora/testing';
import { Figures, FULL, scaled } from './support/figures';
import { bootstrapTokens, Deployment, ServerProcess, startDeployment } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §2, two instances racing for one agent's lease: the same agent opens a connection to each
 * of two server instances at the same moment (a flapping network, a load balancer retrying). Each
 * round must end with one lease, held by the instance whose connection stays open, the other
 * connection closed (superseded, 4002); a push issued afterwards through the losing instance is
 * forwarded and lands once on the owner's connection and never on the loser's.
 */
const ROUNDS = scaled(100, 15);

function marker(m: S2A): string | undefined {
  const files = m.remote_config?.config?.config_map ?? {};
  const body = Object.values(files)[0]?.body;
  return body ? /# round (\d+)/.exec(Buffer.from(body).toString('utf8'))?.[1] : undefined;
}

describe('reliability: lease race between two instances', () => {
  jest.setTimeout(FULL ? 600_000 : 180_000);
  let a: ServerProcess;
  let b: ServerProcess;
  let pg: Client;
  let deployment: Deployment;
  let adminToken: string;
  const figures = new Figures('lease-race');
  const tokens: string[] = [];

  beforeAll(async () => {
    deployment = await startDeployment(['race-a', 'race-b'], { AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '15' });
    [a, b] = deployment.instances as [ServerProcess, ServerProcess];
    adminToken = deployment.adminToken;
    pg = new Client({ connectionString: deployment.db.url });
    await pg.connect();
  }, 180_000);

  afterAll(async () => {
    for (const s of [a, b]) if (s) figures.exact(`secrets in the log of ${s.env.AMPORA_INSTANCE_ID}`, `${s.output().length} lines`, 0, secretsInOutput(s.output(), [adminToken, s.env.AMPORA_MASTER_KEY!, ...tokens]).length);
    figures.publish();
    await pg?.end();
    await deployment?.stop();
  });

  it('one owner, a closed loser, and a push that lands once on the owner only', async () => {
    const [token] = await bootstrapTokens({ ...a, api: (m, p, body) => deployment.api(a, m, p, body) }, 1, 'race');
    tokens.push(token!);
    const first = new TestAgent({ url: a.wsUrl, token });
    await first.connect();
    first.hello();
    await first.next(10_000);
    const uid = first.uid;
    const agentId = await eventually(async () => ((await deployment.api(a, 'GET', `/api/agents?text=${uid.toString('hex').slice(0, 8)}`)).body.items as Array<{ id: string }>)[0]?.id, 15_000);
    await first.close();

    const deliveries: Record<string, number> = {};
    const counts = { owners: 0, ownerNotOpen: 0, loserOpen: 0, loserPushes: 0, ownerPushesNot1: 0, assignNotDelivered: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const pair = [a, b].map((s) => new TestAgent({ url: s.wsUrl, token, instanceUid: uid }));
      const pushes = pair.map(() => 0);
      pair.forEach((agent, i) => (agent.onRemoteConfig = (m) => void (marker(m) === String(round) && pushes[i]++)));
      await Promise.all(pair.map((agent) => agent.connect()));
      pair.forEach((agent) => agent.ws!.on('error', () => undefined));
      pair.forEach((agent) => agent.hello());
      // settled: one lease, held by an instance whose connection is the one still open
      const owner = await eventually(async () => {
        const row = (await pg.query<{ instance_id: string }>('SELECT instance_id FROM agent_session_ownership WHERE agent_id = $1 AND lease_expires_at > now()', [agentId])).rows;
        const open = pair.map((agent) => agent.closeCode === undefined);
        return row.length === 1 && open.filter(Boolean).length === 1 ? row[0]!.instance_id : undefined;
      }, 15_000).catch(() => undefined);
      if (!owner) {
        counts.ownerNotOpen++;
        pair.forEach((agent) => void agent.close());
        continue;
      }
      counts.owners++;
      const winner = owner === 'race-a' ? 0 : 1;
      if (pair[winner]!.closeCode !== undefined) counts.ownerNotOpen++;
      if (pair[1 - winner]!.closeCode === undefined) counts.loserOpen++;
      // the push goes through the instance that lost, so it is forwarded to the owner
      const via = winner === 0 ? b : a;
      const assigned = await deployment.api(via, 'POST', `/api/agents/${agentId}/assign`, { yaml: `receivers:\n  otlp: {}\n# round ${round}\n` });
      if (assigned.body.delivery !== 'delivered') {
        counts.assignNotDelivered++;
        deliveries[String(assigned.body.delivery ?? assigned.status)] = (deliveries[String(assigned.body.delivery ?? assigned.status)] ?? 0) + 1;
      }
      await pair[winner]!.nextMatching((m) => marker(m) === String(round), 10_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200)); // a second copy, if any, would arrive by now
      if (pushes[winner] !== 1) counts.ownerPushesNot1++;
      counts.loserPushes += pushes[1 - winner]!;
      await Promise.all(pair.map((agent) => agent.close()));
      await eventually(async () => (await pg.query('SELECT 1 FROM agent_session_ownership WHERE agent_id = $1 AND lease_expires_at > now()', [agentId])).rowCount === 0, 15_000).catch(() => undefined);
    }
    const sent = `${ROUNDS} rounds: one agent (one token, one uid) connecting to race-a and race-b at once, then a push through the losing instance`;
    figures.exact('rounds that settled with one lease and one open connection', sent, ROUNDS, counts.owners);
    figures.exact('rounds where the lease holder\'s connection was not the open one', sent, 0, counts.ownerNotOpen);
    figures.exact('losing connections still open once the lease settled', sent, 0, counts.loserOpen);
    figures.exact('pushes that landed on a losing connection', sent, 0, counts.loserPushes);
    figures.exact('pushes not delivered exactly once to the owner', sent, 0, counts.ownerPushesNot1);
    figures.exact('assignments not answered delivered', `${sent}; otherwise ${JSON.stringify(deliveries)}`, 0, counts.assignNotDelivered);
    figures.exact('server process crashes (exit)', sent, 0, [a, b].filter((s) => !s.alive()).length);
    expect(figures.failures()).toEqual([]);
  });
});
