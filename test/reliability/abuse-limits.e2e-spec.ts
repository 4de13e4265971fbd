import { randomBytes } from 'node:crypto';
import { mintToken } from '@ampora/platform';
import { metricValue, scrape, TestAgent } from '@ampora/testing';
import { Answer, httpAttempt, restAttempt, tally, wsAttempt } from './support/abuse-drivers';
import { Figures, FULL, scaled } from './support/figures';
import { Heartbeaters } from './support/fuzz-drivers';
import { bootstrapTokens, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §7 (decision 0290): a brute force of guessed bootstrap tokens (WebSocket and HTTP mixed)
 * and of REST bearer tokens from one source address is answered 429 with Retry-After once the
 * source's refused credentials pass AMPORA_LIMITS_AUTH_FAILURES_PER_IP, without the guesses being
 * looked up; the agents and the operator already working from that same address are not held up,
 * and a new agent from another address enrols; the session cap refuses a tenant's N+1th session.
 */
const GUESSES = scaled(1000, 120);
const REST_GUESSES = scaled(300, 60);
const FAILURES_PER_IP = 20;
const WINDOW_SECONDS = 600;
const LEGIT = 5;
const ATTACKER = '127.0.0.1';
const CLEAN = '127.0.0.3';
const REST_ATTACKER = '127.0.0.4';

const windowOf = (ms: number) => Math.floor(ms / (WINDOW_SECONDS * 1000));

describe('reliability: abuse limits', () => {
  jest.setTimeout(FULL ? 600_000 : 120_000);
  let server: ServerProcess;
  const figures = new Figures('abuse-limits');
  const created: string[] = [];
  const open: TestAgent[] = [];
  let heartbeaters: Heartbeaters | undefined;
  /** Sessions of the default tenant when the session cap is probed: the heartbeaters, the reconnected agent and the clean enrolment. */
  const SESSIONS_BEFORE_CAP = LEGIT + 2;
  const CAP = SESSIONS_BEFORE_CAP + 2;

  beforeAll(async () => {
    server = await startServerProcess({
      AMPORA_LIMITS_AUTH_FAILURES_PER_IP: String(FAILURES_PER_IP),
      AMPORA_LIMITS_ENROLMENTS_PER_IP: '40',
      AMPORA_LIMITS_WINDOW_SECONDS: String(WINDOW_SECONDS),
      AMPORA_LIMITS_SESSIONS_PER_TENANT: String(CAP),
    });
  });

  afterAll(async () => {
    await Promise.all(open.map((a) => a.close()));
    await heartbeaters?.close();
    figures.exact('secrets in the server log', `${server.output().length} lines`, 0, secretsInOutput(server.output(), [server.adminToken, server.env.AMPORA_MASTER_KEY!, ...created]).length);
    figures.publish();
    await server.stop();
  });

  it('throttles a brute force of bootstrap and REST tokens from one source; its enrolled agents and other sources go on', async () => {
    const tokens = await bootstrapTokens(server, LEGIT + 3, 'abuse');
    created.push(...tokens);
    heartbeaters = await Heartbeaters.connect(server.wsUrl, tokens.slice(0, LEGIT));
    const returning = await wsAttempt(server.wsUrl, tokens[LEGIT]!, ATTACKER);
    expect(returning.status).toBe(101);
    const before = await scrape(server.base);
    const startedAt = Date.now();
    heartbeaters.start(250);

    const guesses: Answer[] = [];
    for (let i = 0; i < GUESSES; i++) {
      const guess = mintToken('amp-bs');
      guesses.push(i % 2 === 0 ? await wsAttempt(server.wsUrl, guess, ATTACKER) : await httpAttempt(server.wsUrl.replace('ws:', 'http:'), guess, ATTACKER));
    }
    // the enrolled agent reconnects from the throttled address with its token and uid
    await returning.agent!.close();
    const reconnect = await wsAttempt(server.wsUrl, tokens[LEGIT]!, ATTACKER, returning.agent!.uid);
    if (reconnect.agent) open.push(reconnect.agent);
    const newFromAttacker = await wsAttempt(server.wsUrl, tokens[LEGIT + 1]!, ATTACKER);
    const newFromClean = await wsAttempt(server.wsUrl, tokens[LEGIT + 2]!, CLEAN);
    if (newFromClean.agent) open.push(newFromClean.agent);

    const rest: Answer[] = [];
    let adminRefused = 0;
    for (let i = 0; i < REST_GUESSES; i++) {
      rest.push(await restAttempt(`${server.base}/api/agents`, mintToken('amp-pat'), REST_ATTACKER));
      if (i % 10 === 9 && (await server.api('GET', '/api/agents?limit=1')).status !== 200) adminRefused++;
    }
    await heartbeaters.stop();
    const windows = windowOf(Date.now()) - windowOf(startedAt) + 1;
    const after = await scrape(server.base);

    const sent = `${GUESSES} guessed bootstrap tokens from ${ATTACKER} (WS and HTTP), limit ${FAILURES_PER_IP} per ${WINDOW_SECONDS} s: ${JSON.stringify(tally(guesses))}`;
    const counts = tally(guesses);
    figures.exact('guesses looked up after the limit (401 beyond the limit)', sent, 0, Math.max(0, (counts['401'] ?? 0) - FAILURES_PER_IP * windows));
    figures.exact('guesses answered other than 401 or 429', sent, 0, guesses.filter((g) => g.status !== 401 && g.status !== 429).length);
    figures.exact('429 answers without Retry-After', sent, 0, guesses.filter((g) => g.status === 429 && !(g.retryAfter! > 0)).length);
    figures.exact('guesses admitted', sent, 0, guesses.filter((g) => g.status === 101 || g.status === 200).length);
    figures.exact('heartbeats of enrolled agents refused or unanswered during the brute force', `${LEGIT} agents from ${ATTACKER}, every 250 ms: ${heartbeaters.latencies.length} heartbeats`, 0, heartbeaters.failures);
    figures.exact('reconnects of an enrolled agent from the throttled source refused', `1 reconnect from ${ATTACKER} (token used there before)`, 0, reconnect.status === 101 ? 0 : 1);
    figures.exact('new enrolments from the throttled source admitted', `1 new token from ${ATTACKER}`, 0, newFromAttacker.status === 101 ? 1 : 0);
    figures.exact('new enrolments from another source refused', `1 new token from ${CLEAN}`, 0, newFromClean.status === 101 ? 0 : 1);
    if (newFromAttacker.agent) await newFromAttacker.agent.close();

    const restSent = `${REST_GUESSES} guessed REST tokens from ${REST_ATTACKER}: ${JSON.stringify(tally(rest))}`;
    figures.exact('REST guesses looked up after the limit (401 beyond the limit)', restSent, 0, Math.max(0, (tally(rest)['401'] ?? 0) - FAILURES_PER_IP * windows));
    figures.exact('REST 429 answers without Retry-After or code TOO_MANY_REQUESTS', restSent, 0, rest.filter((r) => r.status === 429 && (!(r.retryAfter! > 0) || r.code !== 'TOO_MANY_REQUESTS')).length);
    figures.exact('REST guesses answered other than 401 or 429', restSent, 0, rest.filter((r) => r.status !== 401 && r.status !== 429).length);
    figures.exact('Admin calls from 127.0.0.1 refused during the REST brute force', `${Math.floor(REST_GUESSES / 10)} calls`, 0, adminRefused);
    const throttled = guesses.filter((g) => g.status === 429).length + rest.filter((r) => r.status === 429).length + (newFromAttacker.status === 429 ? 1 : 0);
    const delta = metricValue(after, 'ampora_abuse_limited_total', { scope: 'ip' }) - metricValue(before, 'ampora_abuse_limited_total', { scope: 'ip' });
    figures.exact('ampora_abuse_limited_total{scope="ip"} delta', `${throttled} answers 429 by a limit`, throttled, delta);
    expect(figures.failures()).toEqual([]);
  });

  it('refuses the N+1th session of a tenant at AMPORA_LIMITS_SESSIONS_PER_TENANT, and admits one when a session ends', async () => {
    const tokens = await bootstrapTokens(server, CAP - SESSIONS_BEFORE_CAP + 2, 'cap');
    created.push(...tokens);
    const admitted: TestAgent[] = [];
    for (const token of tokens.slice(0, CAP - SESSIONS_BEFORE_CAP)) {
      const a = await wsAttempt(server.wsUrl, token, CLEAN);
      if (a.agent) admitted.push(a.agent);
    }
    const extra = await wsAttempt(server.wsUrl, tokens[CAP - SESSIONS_BEFORE_CAP]!, CLEAN);
    if (extra.agent) admitted.push(extra.agent);
    await admitted[0]!.close();
    let afterEnd: Answer & { agent?: TestAgent } = { status: 0 };
    for (let i = 0; i < 40 && afterEnd.status !== 101; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      afterEnd = await wsAttempt(server.wsUrl, tokens[CAP - SESSIONS_BEFORE_CAP + 1]!, CLEAN, randomBytes(16));
    }
    if (afterEnd.agent) admitted.push(afterEnd.agent);
    open.push(...admitted.slice(1));
    const sent = `cap ${CAP}; ${SESSIONS_BEFORE_CAP} sessions open, ${CAP - SESSIONS_BEFORE_CAP + 1} new agents, then one ends`;
    figures.exact('sessions admitted up to the cap', sent, CAP - SESSIONS_BEFORE_CAP, admitted.length - (extra.agent ? 1 : 0) - (afterEnd.agent ? 1 : 0));
    figures.exact('the N+1th session answered 429 with Retry-After', sent, 1, extra.status === 429 && extra.retryAfter! > 0 ? 1 : 0);
    figures.exact('a new session admitted after one ended', sent, 1, afterEnd.status === 101 ? 1 : 0);
    expect(figures.failures()).toEqual([]);
  });
});
