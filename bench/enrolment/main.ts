/**
 * bench/enrolment — what one bootstrap-token redemption costs (issue 23 item 5, decision 0415), small
 * and focused: a server in this process against a fresh database, then
 *
 *  A. the redemption alone, against a baseline measured in the same run: the seven-statement
 *     transaction enrolment used before decision 0415 (START TRANSACTION, the token FOR UPDATE, the uid
 *     check, the agent INSERT … RETURNING, the token UPDATE, the audit INSERT, COMMIT; replayed here as
 *     raw SQL in that order) and the product's attach of a first frame with a bootstrap token (the
 *     authenticator port: admission gate, one-statement redemption with governance's audit part, the
 *     work after it), alternating in rounds, each with as many at once as the admission gate allows
 *     (`AMPORA_DB_POOL_MAX / 2`);
 *  B. first connections end to end with this code only (WebSocket, token lookup, redemption, first
 *     reply; the lease and the assignment read follow it), `--in-flight` at once.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/enrolment/main.ts [--agents 300] [--rounds 6] [--in-flight 50]
 */
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { closeStorage, hashToken, mintToken, startTelemetry } from '@ampora/platform';
import { createTestDatabase, TestAgent, testEnv } from '@ampora/testing';
import { AGENT_AUTHENTICATOR, AgentAuthenticator, uidToString } from '@ampora/opamp';
import globalSetup from '../../libs/testing/src/global-setup';
import { createServer } from '../../apps/server/src/server.factory';
import { fmt, loadAverage, machine, percentile } from '../lib/stats';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const AGENTS = option('agents', 300);
const ROUNDS = option('rounds', 6);
const IN_FLIGHT = option('in-flight', 50);
const POOL_MAX = 10;
const GATE = POOL_MAX / 2;
const median = (xs: number[]) => percentile(xs, 50);

async function main(): Promise<void> {
  console.log(`bench/enrolment: ${AGENTS} redemptions per variant in ${ROUNDS} alternating rounds, ${GATE} at once; ${AGENTS} first connections, ${IN_FLIGHT} in flight; ${machine()}`);
  await globalSetup();
  const db = await createTestDatabase();
  const { config } = testEnv(db.url, { AMPORA_DB_POOL_MAX: String(POOL_MAX), AMPORA_OPAMP_FLUSH_INTERVAL_MS: '1000', LOG_LEVEL: 'Warning' });
  startTelemetry(config, 'server');
  const app = await createServer(config, []);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  const ds = app.get(DataSource);
  const authenticator = app.get<AgentAuthenticator>(AGENT_AUTHENTICATOR, { strict: false });
  const tenantId = ((await ds.query(`SELECT id FROM tenants WHERE name = 'default'`)) as Array<{ id: string }>)[0]!.id;

  /** `n` fresh tokens: [id, secret]. */
  async function newTokens(n: number): Promise<Array<{ id: string; token: string }>> {
    const secrets = Array.from({ length: n }, () => mintToken('amp-bs'));
    const rows = (await ds.query(
      `INSERT INTO bootstrap_tokens (tenant_id, label, token_hash, created_by, expires_at) SELECT $1, 'bench-enrolment', h, 'bench', now() + interval '1 day' FROM unnest($2::text[]) WITH ORDINALITY AS t(h, n) ORDER BY n RETURNING id`,
      [tenantId, secrets.map(hashToken)],
    )) as Array<{ id: string }>;
    return rows.map((r, i) => ({ id: r.id, token: secrets[i]! }));
  }

  const before = async (tokenId: string) => {
    const uid = uidToString(randomBytes(16))!;
    const runner = ds.createQueryRunner();
    try {
      await runner.startTransaction();
      const [token] = (await runner.query(`SELECT * FROM bootstrap_tokens WHERE id = $1 LIMIT 1 FOR UPDATE`, [tokenId])) as Array<{ tenant_id: string; labels: unknown; redeemed_at: Date | null }>;
      await runner.query(`SELECT id FROM agents WHERE tenant_id = $1 AND instance_uid = $2 LIMIT 1`, [token!.tenant_id, uid]);
      const [agent] = (await runner.query(
        `INSERT INTO agents (tenant_id, instance_uid, identity_kind, bootstrap_token_id, group_id, tags, labels, capabilities) VALUES ($1, $2, 'token', $3, NULL, $4, $4, $5) RETURNING *`,
        [token!.tenant_id, uid, tokenId, JSON.stringify(token!.labels), '4359'],
      )) as Array<{ id: string }>;
      await runner.query(`UPDATE bootstrap_tokens SET redeemed_at = $1, agent_id = $2 WHERE id = $3`, [new Date(), agent!.id, tokenId]);
      await runner.query(
        `INSERT INTO audit_events (tenant_id, actor, actor_role, entity_type, entity_id, action, before, after, source_ip, trace_id, additional) VALUES ($1, $2, NULL, 'BootstrapToken', $3, 'Redeemed', NULL, NULL, NULL, NULL, $4) RETURNING id, occurred_at`,
        [token!.tenant_id, `agent:${uid}`, tokenId, JSON.stringify({ agentId: agent!.id, instanceUid: uid, transport: 'ws', groupId: null })],
      );
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
  };
  // the product's attach of a first frame: the admission gate, the one-statement redemption, the after-commit work
  const after = async (tokenId: string) => {
    const outcome = await authenticator.attach({ credential: { kind: 'bootstrap', tokenId, tenantId }, instanceUid: randomBytes(16), requestNewUid: false, capabilities: 4359n, transport: 'ws' });
    if (!outcome.ok || !outcome.agent.enrolled) throw new Error(`no agent made: ${outcome.ok ? 'not enrolled' : outcome.reason}`);
  };
  /** `ids` redeemed by `GATE` workers; per-second rate and per-redemption milliseconds. */
  async function round(redeem: (id: string) => Promise<void>, ids: string[]): Promise<{ rate: number; ms: number[] }> {
    const queue = [...ids];
    const ms: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: GATE }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          const t = performance.now();
          await redeem(id);
          ms.push(performance.now() - t);
        }
      }),
    );
    return { rate: ids.length / ((performance.now() - t0) / 1000), ms };
  }

  // warm-up: both paths once
  for (const t of await newTokens(2 * GATE)) await (t.id.charCodeAt(0) % 2 ? before : after)(t.id);
  const perRound = Math.ceil(AGENTS / ROUNDS);
  const results = { before: { rates: [] as number[], ms: [] as number[] }, after: { rates: [] as number[], ms: [] as number[] } };
  for (let r = 0; r < ROUNDS; r++) {
    const order: Array<'before' | 'after'> = r % 2 ? ['after', 'before'] : ['before', 'after'];
    for (const variant of order) {
      const ids = (await newTokens(perRound)).map((t) => t.id);
      const out = await round(variant === 'before' ? before : after, ids);
      results[variant].rates.push(out.rate);
      results[variant].ms.push(...out.ms);
    }
    console.log(`  round ${r + 1}: before ${fmt(results.before.rates.at(-1)!)} /s, after ${fmt(results.after.rates.at(-1)!)} /s (load average ${fmt(loadAverage(), 2)})`);
  }
  const b = median(results.before.rates);
  const a = median(results.after.rates);
  console.log(`A. redemption alone, ${GATE} at once: before (7 statements) median ${fmt(b)} /s, p50 ${fmt(median(results.before.ms), 2)} ms; after (1 statement) median ${fmt(a)} /s, p50 ${fmt(median(results.after.ms), 2)} ms; ratio after ÷ before ${fmt(a / b, 2)}`);

  // B. first connections end to end
  const fresh = await newTokens(AGENTS);
  const url = `ws://127.0.0.1:${port}/v1/opamp`;
  const latencies: number[] = [];
  const agents: TestAgent[] = [];
  const queue = [...fresh];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const agent = new TestAgent({ url, token: t.token, instanceUid: randomBytes(16) });
        agents.push(agent);
        const s = performance.now();
        await agent.connect();
        agent.hello();
        const reply = await agent.next(30_000);
        if (reply.error_response) throw new Error(`refused: ${JSON.stringify(reply.error_response)}`);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  console.log(`B. first connections end to end (this code only): ${AGENTS} in ${fmt(seconds, 2)} s = ${fmt(AGENTS / seconds)} agents/s; p50 ${fmt(median(latencies))} ms, p99 ${fmt(percentile(latencies, 99))} ms; load average ${fmt(loadAverage(), 2)}`);
  for (const agent of agents) agent.ws?.terminate();
  await app.close();
  await closeStorage(config);
  await db.drop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
