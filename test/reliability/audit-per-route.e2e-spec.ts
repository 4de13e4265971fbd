import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentCapability, RunningProcess, startProcess, TestAgent } from '@ampora/testing';
import { Answer, PROVEN_ELSEWHERE, RECIPES, RecipeContext, Request } from './support/audit-recipes';
import { Figures, FULL } from './support/figures';
import { bootstrapTokens, callApi, jsonBody, processOutput, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §6: every mutating operation of /openapi.json, called with a valid body so it succeeds,
 * writes exactly one audit event (a route declared `x-ampora-audit: compound` at least one) carrying
 * actor, role and the call's trace id. The operations are read from the document: a new mutating
 * route without a recipe (support/audit-recipes.ts) fails the probe, and so does one that writes no
 * event or two.
 */
const MUTATING = ['post', 'put', 'patch', 'delete'];
const ACCEPTS_PACKAGES = 0x8;
const REPORTS_PACKAGE_STATUSES = 0x10;

interface AuditEvent {
  actor?: string;
  actorRole?: string | null;
  traceId?: string | null;
  action: string;
  entityType: string;
}

type DocOperation = { 'x-ampora-public'?: boolean; 'x-ampora-audit'?: 'none' | 'compound' };

describe('reliability: one audit event per mutating call', () => {
  jest.setTimeout(FULL ? 240_000 : 180_000);
  let server: ServerProcess;
  let worker: RunningProcess | undefined;
  const figures = new Figures('audit-per-route');
  const agents: TestAgent[] = [];
  const secrets: string[] = [];

  beforeAll(async () => {
    // a TLS listener that requires client certificates: token agents that take connection settings are offered one (revoke-cert needs it)
    server = await startServerProcess({ AMPORA_ROLLOUT_TICK_MS: '500', AMPORA_OPAMP_TLS_PORT: '0', AMPORA_OPAMP_REQUIRE_MTLS: 'true', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' });
    // the rollout's steps and the bulk pushes are the worker's (a process of its own, as deployed)
    worker = startProcess('worker', { ...server.env, AMPORA_INSTANCE_ID: 'audit-worker' });
    await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 120_000);
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    await worker?.stop('SIGTERM');
    if (!server) return;
    const workerLines = worker ? processOutput(worker) : [];
    figures.exact('secrets in the logs of the server and the worker', `${server.output().length} + ${workerLines.length} lines`, 0, secretsInOutput([...server.output(), ...workerLines], [server.adminToken, server.env.AMPORA_MASTER_KEY!, ...secrets]).length);
    figures.publish();
    await server.stop();
  });

  it('every mutating operation of /openapi.json writes exactly one audit event with actor, role and trace id', async () => {
    const doc = (await fetch(`${server.base}/openapi.json`).then((r) => r.json())) as { paths: Record<string, Record<string, DocOperation>> };
    const declared = new Map<string, DocOperation>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of MUTATING) {
        const op = item[method];
        // a public POST (OCSP, the Git webhook) is not an operator's change; a read-only POST writes nothing
        if (op && !op['x-ampora-public'] && op['x-ampora-audit'] !== 'none') declared.set(`${method.toUpperCase()} ${path}`, op);
      }
    }
    const recipes = new Set([...RECIPES.map((r) => r.op), ...PROVEN_ELSEWHERE.map((p) => p.op)]);
    const withoutRecipe = [...declared.keys()].filter((op) => !recipes.has(op));
    const stale = [...recipes].filter((op) => !declared.has(op));
    // an operation that needs a paired peer: its two-deployment test must exist and call it
    const root = join(__dirname, '..', '..');
    const unproven = PROVEN_ELSEWHERE.filter((p) => !existsSync(join(root, p.test)) || !readFileSync(join(root, p.test), 'utf8').includes(p.mentions)).map((p) => `${p.op} (${p.test})`);

    // six agents: one to act on, one to move about, two to delete, two for the rollout
    const tokens = await bootstrapTokens(server, 6, 'audit');
    secrets.push(...tokens);
    // the first two take connection settings (an endpoint offer, a certificate) and packages
    const capable = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.ReportsRemoteConfig | AgentCapability.ReportsEffectiveConfig | AgentCapability.ReportsHeartbeat | AgentCapability.AcceptsOpAMPConnectionSettings | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES;
    const agentIds: string[] = [];
    // each agent by its id (the capable ones are offered a certificate when they first connect)
    const byId = new Map<string, TestAgent>();
    for (const [i, token] of tokens.entries()) {
      const agent = new TestAgent({ url: server.wsUrl, token, capabilities: i < 2 ? capable : undefined, autoApply: true });
      await agent.connect();
      agent.ws!.on('error', () => undefined);
      agent.hello();
      await agent.next(15_000);
      agents.push(agent);
      const listed = (await server.api('GET', '/api/agents?limit=10')).body.items as Array<{ id: string }>;
      agentIds.push(listed.map((a) => a.id).find((x) => !agentIds.includes(x))!);
      byId.set(agentIds[i]!, agent);
    }
    const ids: Record<string, string> = { agent: agentIds[0]!, agent2: agentIds[1]!, agent3: agentIds[2]!, agent4: agentIds[3]!, agent5: agentIds[4]!, agent6: agentIds[5]! };
    const ctx: RecipeContext = {
      ids,
      api: async (method, path, body, token) => server.api(method, path, body, token),
      secondAdmin: () => {
        if (!ids.secondAdmin) throw new Error('the second Admin is made by the POST /api/tokens recipe');
        return ids.secondAdmin;
      },
      connectWithCertificate: async (key) => {
        const first = byId.get(ids[key]!);
        const offer = first?.connectionSettings.map((c) => c.opamp?.certificate).find((c) => c?.cert && c.private_key);
        if (!first || !offer) throw new Error(`agent ${key} was offered no certificate when it first connected`);
        const agent = new TestAgent({ url: tlsUrl(server), capabilities: capable, instanceUid: first.uid, autoApply: true, wsOptions: { cert: offer.cert, key: offer.private_key, rejectUnauthorized: false } });
        await agent.connect();
        agent.ws!.on('error', () => undefined);
        agent.hello();
        await agent.next(15_000);
        agents.push(agent);
      },
    };

    const since = new Date(Date.now() - 1000).toISOString();
    const calls: Array<{ op: string; answer: Answer }> = [];
    const failed: string[] = [];
    for (const recipe of RECIPES) {
      if (!declared.has(recipe.op)) continue;
      let answer: Answer;
      try {
        answer = await send(server, recipe.op, await recipe.request(ctx));
      } catch (error) {
        answer = { status: 0, body: { error: String(error) } };
      }
      calls.push({ op: recipe.op, answer });
      if (answer.status < 200 || answer.status >= 300) failed.push(`${recipe.op}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 1500)}`);
      else recipe.after?.(ctx, answer);
      if (recipe.op === 'POST /api/tokens' && typeof answer.body.token === 'string') secrets.push(answer.body.token);
      if (recipe.op === 'POST /api/bootstrap-tokens' && typeof answer.body.token === 'string') secrets.push(answer.body.token);
    }

    // what a call starts in the background (a force push, a sync) has had time to write its events
    await new Promise((r) => setTimeout(r, 3000));
    const events = await auditEvents(server, since);
    const byTrace = new Map<string, AuditEvent[]>();
    for (const e of events) if (e.traceId) byTrace.set(e.traceId, [...(byTrace.get(e.traceId) ?? []), e]);
    const wrong: string[] = [];
    const incomplete: string[] = [];
    const consequences: string[] = [];
    let callEvents = 0;
    let audited = 0;
    for (const { op, answer } of calls) {
      if (answer.status < 200 || answer.status >= 300) continue;
      audited++;
      // the call's own events: what a job or the rollout engine does as the system (system,
      // system:rollout-engine: a rollback that completes at once), or what an agent does in answer to
      // what the call sent it (a certificate it asks for: agent:<id>), carries the trace id too but is
      // not the caller's change
      const traced = answer.traceId ? (byTrace.get(answer.traceId) ?? []) : [];
      const written = traced.filter((e) => !/^(system($|:)|agent:)/.test(String(e.actor)));
      for (const e of traced.filter((x) => !written.includes(x))) consequences.push(`${op}: ${e.entityType}.${e.action} by ${e.actor}`);
      const compound = declared.get(op)!['x-ampora-audit'] === 'compound';
      if (compound ? written.length < 1 : written.length !== 1) wrong.push(`${op}: ${written.length} events (${written.map((e) => `${e.entityType}.${e.action}`).join(', ')})`);
      callEvents += written.length;
      for (const e of written.filter((x) => !x.actor || !x.actorRole || !x.traceId)) incomplete.push(`${op}: ${e.entityType}.${e.action} actor ${e.actor} role ${e.actorRole} trace ${e.traceId}`);
    }
    const discipline = server.output().filter((line) => line.includes('audit events instead of'));

    const sent = `${declared.size} mutating operations of /openapi.json, ${calls.length} calls with valid bodies`;
    figures.exact('mutating operations without a valid call (recipe)', `${declared.size} mutating operations of /openapi.json`, 0, withoutRecipe.length);
    figures.exact(
      'operations needing a peer whose two-deployment test is missing',
      `${PROVEN_ELSEWHERE.length} (${PROVEN_ELSEWHERE.map((p) => p.op).join(', ')})`,
      0,
      unproven.length,
    );
    figures.exact('valid calls not answered 2xx', sent, 0, failed.length);
    figures.exact('successful calls that wrote other than one audit event (a compound route: none)', `${audited} successful calls`, 0, wrong.length);
    figures.exact('audit events of those calls without actor, role or trace id', `${callEvents} events`, 0, incomplete.length);
    figures.exact('audit discipline Error lines of the server', `${server.output().length} lines`, 0, discipline.length);
    const report = [
      withoutRecipe.length ? `without a recipe:\n  ${withoutRecipe.join('\n  ')}` : '',
      unproven.length ? `needing a peer, with no test that calls them:\n  ${unproven.join('\n  ')}` : '',
      stale.length ? `recipes of operations no longer in /openapi.json:\n  ${stale.join('\n  ')}` : '',
      failed.length ? `not answered 2xx:\n  ${failed.join('\n  ')}` : '',
      wrong.length ? `not one audit event:\n  ${wrong.join('\n  ')}` : '',
      incomplete.length ? `without actor, role or trace id:\n  ${incomplete.join('\n  ')}` : '',
      discipline.length ? `discipline:\n  ${discipline.slice(0, 10).join('\n  ')}` : '',
    ].filter(Boolean);
    if (report.length) process.stdout.write(`audit per route:\n${report.join('\n')}\n`);
    if (consequences.length) process.stdout.write(`events the calls' consequences wrote (not counted):\n  ${consequences.join('\n  ')}\n`);
    expect(stale).toEqual([]);
    expect(figures.failures()).toEqual([]);
  });
});

async function send(server: ServerProcess, op: string, request: Request): Promise<Answer> {
  const [method, template] = op.split(' ') as [string, string];
  let path = template;
  for (const [name, value] of Object.entries(request.params ?? {})) path = path.replace(`{${name}}`, encodeURIComponent(value));
  if (/\{[^}]+\}/.test(path)) throw new Error(`${op}: a path parameter is missing`);
  if (request.query) path += `?${request.query}`;
  const headers: Record<string, string> = { ...request.headers, authorization: `Bearer ${request.token ?? server.adminToken}` };
  let body: string | Buffer | undefined;
  if (request.raw) {
    headers['content-type'] = request.raw.contentType;
    body = request.raw.data;
  } else if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body);
  }
  const res = await fetch(`${server.base}${path}`, { method, headers, body });
  const traceId = /^00-([0-9a-f]{32})-/.exec(res.headers.get('traceresponse') ?? '')?.[1];
  return { status: res.status, body: await jsonBody(res), traceId };
}

/** The OpAMP TLS listener's URL, from the line the server logs when it listens. */
function tlsUrl(server: ServerProcess): string {
  for (const line of server.output()) {
    if (!line.includes('OpAMP TLS listener on port')) continue;
    const port = (JSON.parse(line) as { Port?: number }).Port;
    if (typeof port === 'number') return `wss://127.0.0.1:${port}/v1/opamp`;
  }
  throw new Error('the server logged no OpAMP TLS listener');
}

async function auditEvents(server: ServerProcess, since: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  let cursor: string | null = null;
  do {
    const page = await callApi(server.base, 'GET', `/api/audit/events?since=${encodeURIComponent(since)}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, server.adminToken);
    out.push(...((page.body.items ?? []) as AuditEvent[]));
    cursor = (page.body.nextCursor as string | null | undefined) ?? null;
  } while (cursor);
  return out;
}
