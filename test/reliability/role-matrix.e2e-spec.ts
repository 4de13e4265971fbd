import { TestAgent } from '@ampora/testing';
import { Figures, FULL } from './support/figures';
import { call, Caller, concretePath, expected, Operation, operationsOf, refusal } from './support/role-matrix';
import { bootstrapTokens, cliLog, otherTenantAdmin, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §4 and §6: every operation of /openapi.json called by every kind of caller against its
 * declared least role; every resource read and written by id from another tenant; one audit event
 * per change the matrix made; no secret in the log or in a later answer.
 */
const CALLERS: Caller[] = ['no token', 'malformed token', 'expired token', 'revoked token', 'Viewer', 'Operator', 'Admin', "another tenant's Admin"];
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

describe('reliability: the role matrix and the tenant walls', () => {
  jest.setTimeout(FULL ? 300_000 : 120_000);
  let server: ServerProcess;
  const figures = new Figures('role-matrix');
  const tokens: Record<Caller, string | undefined> = {} as Record<Caller, string | undefined>;
  const secrets: string[] = [];
  let ops: Operation[] = [];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = await startServerProcess();
    const make = async (role: string, extra: Record<string, unknown> = {}) => {
      const res = await server.api('POST', '/api/tokens', { name: `matrix-${role.toLowerCase()}-${Math.random().toString(36).slice(2, 7)}`, role, ...extra });
      if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
      secrets.push(res.body.token as string);
      return res.body as { id: string; token: string };
    };
    tokens['no token'] = undefined;
    tokens['malformed token'] = 'amp-pat.NOT-A-TOKEN.x';
    const expiresAt = new Date(Date.now() + 3000);
    tokens['expired token'] = (await make('Admin', { expiresAt: expiresAt.toISOString() })).token;
    const revoked = await make('Admin');
    tokens['revoked token'] = revoked.token;
    expect((await server.api('DELETE', `/api/tokens/${revoked.id}`)).status).toBe(204);
    tokens.Viewer = (await make('Viewer')).token;
    const viewer = await make('Viewer');
    ids.tokens = viewer.id;
    tokens.Operator = (await make('Operator')).token;
    tokens.Admin = (await make('Admin')).token;
    tokens["another tenant's Admin"] = await otherTenantAdmin(server, 'other');
    secrets.push(tokens["another tenant's Admin"]!);

    // one resource of each kind in the default tenant, for the walls
    const config = await server.api('POST', '/api/configurations', { name: 'walled' });
    ids.configurations = config.body.id as string;
    const yaml = 'receivers:\n  otlp: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n';
    await server.api('POST', `/api/configurations/${ids.configurations}/versions`, { yaml });
    await server.api('POST', `/api/configurations/${ids.configurations}/versions/1/publish`);
    ids.groups = (await server.api('POST', '/api/groups', { name: 'walled', kind: 'Static' })).body.id as string;
    ids.rollouts = (await server.api('POST', '/api/rollouts', { name: 'walled', configurationId: ids.configurations, version: 1, groupId: ids.groups, strategy: { type: 'Percentage', steps: [100] } })).body.id as string;
    const [bootstrap] = await bootstrapTokens(server, 1, 'walled');
    secrets.push(bootstrap!);
    const agent = new TestAgent({ url: server.wsUrl, token: bootstrap });
    await agent.connect();
    agent.hello();
    await agent.next(10_000);
    await agent.close();
    ids.agents = ((await server.api('GET', '/api/agents')).body.items as Array<{ id: string }>)[0]!.id;
    ids['bootstrap-tokens'] = ((await server.api('GET', '/api/bootstrap-tokens')).body.items as Array<{ id: string }>)[0]!.id;
    ops = operationsOf((await fetch(`${server.base}/openapi.json`).then((r) => r.json())) as never);
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() + 500 - Date.now())));
  });

  afterAll(async () => {
    if (!server) return;
    figures.exact('secrets in the server log', `${server.output().length} lines`, 0, secretsInOutput(server.output(), [server.adminToken, server.env.AMPORA_MASTER_KEY!, ...secrets]).length);
    figures.exact('secrets in the CLI\'s log (stderr)', `${cliLog.length} lines of 2 CLI runs`, 0, secretsInOutput(cliLog, [server.adminToken, server.env.AMPORA_MASTER_KEY!, ...secrets]).length);
    figures.publish();
    await server.stop();
  });

  it('every operation × every caller: 0 unexpected allows, 0 unexpected denials, every route declares its role', async () => {
    const undeclared = ops.filter((op) => !op.isPublic && !op.minRole);
    const since = new Date(Date.now() - 1).toISOString();
    const changes: Record<'default' | 'other', number> = { default: 0, other: 0 };
    let allows = 0;
    let denials = 0;
    let serverErrors = 0;
    let notProblems = 0;
    const examples: string[] = [];
    const changed: string[] = [];
    for (const op of ops) {
      const path = concretePath(op);
      const answers = await Promise.all(CALLERS.map((caller) => call(server.base, op.method, path, tokens[caller], op.hasBody ? {} : undefined)));
      answers.forEach((answer, i) => {
        const caller = CALLERS[i]!;
        const want = expected(op, caller);
        const got = refusal(answer);
        if (answer.status >= 500 && !op.declared.includes(String(answer.status))) {
          serverErrors++;
          examples.push(`${op.method} ${op.path} as ${caller}: ${answer.status}`);
        }
        if (answer.status >= 400 && !(answer.contentType.startsWith('application/problem+json') && answer.code)) notProblems++;
        if (want !== 'allowed' && got !== want) {
          allows++;
          examples.push(`${op.method} ${op.path} as ${caller}: ${answer.status}, expected ${want}`);
        }
        if (want === 'allowed' && got !== undefined) {
          denials++;
          examples.push(`${op.method} ${op.path} as ${caller}: ${answer.status} ${answer.code}, expected allowed`);
        }
        // a public POST (OCSP) is a query, not a change
        if (MUTATING.has(op.method) && !op.isPublic && answer.status < 300) {
          changes[caller === "another tenant's Admin" ? 'other' : 'default']++;
          changed.push(`${op.method} ${op.path} as ${caller}: ${answer.status}`);
        }
      });
    }
    const sent = `${ops.length} operations × ${CALLERS.length} callers`;
    figures.exact('operations without a declared role', `${ops.length} operations of /openapi.json`, 0, undeclared.length);
    figures.exact('unexpected allows', sent, 0, allows);
    figures.exact('unexpected denials', sent, 0, denials);
    figures.exact('5xx the operation does not declare', sent, 0, serverErrors);
    figures.exact('errors that are not problem+json with a code', sent, 0, notProblems);

    // §6: one audit event per change the matrix made, each with actor, role and trace id
    const audit = async (token: string) => ((await server.api('GET', `/api/audit/events?since=${encodeURIComponent(since)}&limit=500`, undefined, token)).body.items ?? []) as Array<Record<string, unknown>>;
    const events = [...(await audit(tokens.Admin!)), ...(await audit(tokens["another tenant's Admin"]!))];
    figures.exact('audit events of the matrix run', `${changes.default + changes.other} successful changes`, changes.default + changes.other, events.length);
    figures.exact('audit events without actor, role or trace id', `${events.length} events`, 0, events.filter((e) => !e.actor || !e.actorRole || !e.traceId).length);
    if (examples.length) process.stdout.write(`role matrix, first differences:\n${examples.slice(0, 20).join('\n')}\n`);
    if (events.length !== changed.length) process.stdout.write(`changes:\n${changed.join('\n')}\naudit events:\n${events.map((e) => `${e.action} ${e.entityType} by ${e.actor}`).join('\n')}\n`);
    expect(undeclared.map((op) => `${op.method} ${op.path}`)).toEqual([]);
    expect(figures.failures()).toEqual([]);
  });

  it("another tenant's Admin reads and writes every resource by id: 0 leaks (the answer of an unknown id)", async () => {
    const other = tokens["another tenant's Admin"]!;
    const byId = ops.filter((op) => !op.isPublic && op.params.length > 0);
    const order = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    byId.sort((a, b) => order.indexOf(a.method) - order.indexOf(b.method));
    let leaks = 0;
    let probed = 0;
    const skipped = new Set<string>();
    const examples: string[] = [];
    for (const op of byId) {
      const collection = op.path.split('/')[2]!;
      const real: Record<string, string> = {};
      for (const p of op.params) {
        const value = p.name === 'agentId' ? ids.agents : p.integer || p.name === 'n' ? '1' : ids[collection];
        if (value) real[p.name] = value;
      }
      if (Object.keys(real).length !== op.params.length) {
        skipped.add(collection);
        continue;
      }
      probed++;
      const body = op.hasBody ? {} : undefined;
      const [onReal, onUnknown] = await Promise.all([call(server.base, op.method, concretePath(op, real), other, body), call(server.base, op.method, concretePath(op), other, body)]);
      if (onReal.status < 300 || onReal.status === 403 || onReal.status !== onUnknown.status || onReal.code !== onUnknown.code) {
        leaks++;
        examples.push(`${op.method} ${op.path}: ${onReal.status} ${onReal.code} on the real id, ${onUnknown.status} ${onUnknown.code} on an unknown one`);
      }
    }
    const still = await Promise.all(['agents', 'configurations', 'groups', 'rollouts'].map((c) => server.api('GET', `/api/${c}/${ids[c]}`)));
    const sent = `${probed} operations by id (${[...skipped].join(', ') || 'none'} without a resource made)`;
    figures.exact("cross-tenant answers that differ from an unknown id's (leaks)", sent, 0, leaks);
    figures.exact('resources changed or gone after the cross-tenant writes', '4 resources', 0, still.filter((r) => r.status !== 200).length);
    // §6: no answer after creation carries a secret: every list and every read by id, as Admin
    const reads = ops.filter((op) => op.method === 'GET' && !op.isPublic && !op.path.startsWith('/api/live'));
    let carrying = 0;
    for (const op of reads) {
      const real: Record<string, string> = {};
      for (const p of op.params) real[p.name] = p.name === 'agentId' ? ids.agents! : p.integer || p.name === 'n' ? '1' : (ids[op.path.split('/')[2]!] ?? '');
      const res = await fetch(`${server.base}${concretePath(op, real)}`, { headers: { authorization: `Bearer ${tokens.Admin}` } });
      if (secretsInOutput([await res.text()], [server.adminToken, server.env.AMPORA_MASTER_KEY!, ...secrets]).length) carrying++;
    }
    figures.exact('API answers after creation that carry a secret', `${reads.length} reads as Admin`, 0, carrying);
    if (examples.length) process.stdout.write(`tenant walls, leaks:\n${examples.join('\n')}\n`);
    expect(figures.failures()).toEqual([]);
  });
});
