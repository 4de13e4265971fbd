import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { decodeServerToAgent, encodeAgentToServer, TestAgent } from '@ampora/testing';
import { apiClient, collectorYaml, createStaticGroup, publishVersions } from '../support/rollout-kit';
import { Figures, FULL, scaled } from './support/figures';
import { bootstrapTokens, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §2: races on one object through the public API. 100 first connections with one
 * single-use bootstrap token (WebSocket and HTTP mixed) make exactly one agent; 50 concurrent
 * publishes, rollout creations, rollout starts and assignments give one winner and clean 409s.
 */
const FIRST_CONNECTIONS = scaled(100, 100);
const CONCURRENT = scaled(50, 50);

type Outcome = 'enrolled' | 'refused' | 'server error';

function hello(uid: Buffer): Record<string, unknown> {
  return {
    instance_uid: uid,
    sequence_num: 1,
    capabilities: 0x3007,
    agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'io.opentelemetry.collector' } }] },
  };
}

async function firstConnectionWs(url: string, token: string): Promise<Outcome> {
  const agent = new TestAgent({ url, token, instanceUid: randomBytes(16) });
  try {
    await agent.connect();
    agent.ws!.on('error', () => undefined);
    agent.send(hello(agent.uid));
    const reply = await Promise.race([agent.next(10_000), agent.closed(10_000).then((code) => ({ closed: code }))]);
    if ('closed' in reply) return reply.closed === 1011 ? 'server error' : 'refused';
    return reply.error_response ? 'refused' : 'enrolled';
  } catch (error) {
    const status = (error as { status?: number }).status ?? 0;
    return status >= 500 ? 'server error' : 'refused';
  } finally {
    await agent.close();
  }
}

function firstConnectionHttp(url: string, token: string): Promise<Outcome> {
  const body = encodeAgentToServer(hello(randomBytes(16)));
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}`, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 500) return resolve('server error');
        if (status !== 200) return resolve('refused');
        resolve(decodeServerToAgent(Buffer.concat(chunks)).error_response ? 'refused' : 'enrolled');
      });
    });
    req.on('error', () => resolve('server error'));
    req.end(body);
  });
}

describe('reliability: races', () => {
  jest.setTimeout(FULL ? 300_000 : 90_000);
  let server: ServerProcess;
  const figures = new Figures('races');
  const tokens: string[] = [];

  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    if (server) {
      figures.exact('secrets in the server log', `${server.output().length} lines`, 0, secretsInOutput(server.output(), [server.adminToken, server.env.AMPORA_MASTER_KEY!, ...tokens]).length);
      figures.publish();
      await server.stop();
    }
  });

  it('one single-use bootstrap token, 100 first connections at once (WS and HTTP): exactly one agent', async () => {
    const [token] = await bootstrapTokens(server, 1, 'race');
    tokens.push(token!);
    const outcomes = await Promise.all(
      Array.from({ length: FIRST_CONNECTIONS }, (_, i) => (i % 2 === 0 ? firstConnectionWs(server.wsUrl, token!) : firstConnectionHttp(`${server.base}/v1/opamp`, token!))),
    );
    const agents = await server.api('GET', '/api/agents?limit=500');
    const sent = `${FIRST_CONNECTIONS} first connections (${FIRST_CONNECTIONS / 2} WS, ${FIRST_CONNECTIONS / 2} HTTP), one token`;
    figures.exact('agents enrolled', sent, 1, (agents.body.items as unknown[]).length);
    figures.exact('connections answered as enrolled', sent, 1, outcomes.filter((o) => o === 'enrolled').length);
    figures.exact('5xx / 1011 answers', sent, 0, outcomes.filter((o) => o === 'server error').length);
    expect(figures.failures()).toEqual([]);
  });

  it('50 concurrent publishes, rollout creations, rollout starts and assignments: one winner, clean 409s', async () => {
    const api = apiClient(server.base, server.adminToken);
    const config = (await api('POST', '/api/configurations', { name: `race-${randomBytes(3).toString('hex')}` })).body;
    const draft = (await api('POST', `/api/configurations/${config.id}/versions`, { yaml: collectorYaml('race') })).body;
    const [v1, v2] = await publishVersions(api, [collectorYaml('one'), collectorYaml('two')]);
    const group = await createStaticGroup(api);
    await api('PUT', `/api/groups/${group.id}/assignment`, { configurationId: v1!.configurationId, version: v1!.number });

    const race = async (name: string, call: (i: number) => Promise<{ status: number; body: unknown; contentType: string }>, winners: number[], losers: number[]) => {
      const answers = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => call(i)));
      const won = answers.filter((a) => winners.includes(a.status)).length;
      const clean = answers.filter((a) => losers.includes(a.status) && a.contentType.startsWith('application/problem+json') && typeof (a.body as { code?: unknown }).code === 'string').length;
      const sent = `${CONCURRENT} concurrent ${name}`;
      figures.exact(`${name}: winners`, sent, losers.length ? 1 : CONCURRENT, won);
      figures.exact(losers.length ? `${name}: answers neither the winner nor a clean ${losers.join('/')} problem` : `${name}: answers other than ${winners.join('/')}`, sent, 0, CONCURRENT - won - clean);
      figures.exact(`${name}: 5xx`, sent, 0, answers.filter((a) => a.status >= 500).length);
      return answers;
    };

    await race('publishes of one Draft', () => api('POST', `/api/configurations/${config.id}/versions/${draft.number}/publish`), [200], [409]);
    const creations = await race(
      'rollout creations on one group',
      (i) => api('POST', '/api/rollouts', { name: `race-${i}`, configurationId: v2!.configurationId, version: v2!.number, groupId: group.id, strategy: { type: 'Percentage', steps: [100] } }),
      [201],
      [409],
    );
    const rollout = creations.find((a) => a.status === 201)?.body as { id: string } | undefined;
    if (rollout) await race('starts of one rollout', () => api('POST', `/api/rollouts/${rollout.id}/start`), [200], [409]);
    // assignments are last-writer-wins: every one succeeds, and the group ends on one of them
    const other = await createStaticGroup(api);
    const versions = [v1!, v2!];
    await race('assignments of one group', (i) => api('PUT', `/api/groups/${other.id}/assignment`, { configurationId: versions[i % 2]!.configurationId, version: versions[i % 2]!.number }), [200], []);
    const final = (await api('GET', `/api/groups/${other.id}`)).body as { assignment?: { version?: number } };
    figures.exact('assignments of one group: final version not one that was sent', `${CONCURRENT} concurrent assignments`, 0, [1, 2].includes(Number(final.assignment?.version)) ? 0 : 1);
    expect(figures.failures()).toEqual([]);
  });
});
