import { rawRequest } from '../support/raw-http';
import { Figures, FULL, scaled } from './support/figures';
import { concretePath, operationsOf, Operation } from './support/role-matrix';
import { ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §5: hostile REST input on every operation that takes a body and every list: a 50 MB
 * body, 10,000-deep JSON, invalid UTF-8, overlong strings, SQL and template metacharacters in every
 * string field, unknown fields, negative and huge pagination values. 0 5xx; every refusal a
 * problem+json with a stable code.
 */
const HOSTILE_STRINGS = [
  "'; DROP TABLE agents; --",
  '" OR 1=1 --',
  '{{7*7}} ${7*7} <%= 7*7 %> #{7*7} {{constructor.constructor("return process")()}}',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
];
const BIG_BODY_ROUTES = scaled(1000, 3);

type Schema = { type?: string; properties?: Record<string, Schema>; $ref?: string; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[] };
type Doc = { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> }; parameters?: Array<{ name: string; in: string }> }>>; components?: { schemas?: Record<string, Schema> } };

function resolve(doc: Doc, schema: Schema | undefined): Schema | undefined {
  if (schema?.$ref) return doc.components?.schemas?.[schema.$ref.split('/').pop()!];
  return schema;
}

/** Bodies with `value` in every top-level string field (and the unknown field `ampora_unknown`). */
function hostileBodies(doc: Doc, op: Operation): unknown[] {
  const schema = resolve(doc, doc.paths[op.path]?.[op.method.toLowerCase()]?.requestBody?.content?.['application/json']?.schema);
  const props = Object.entries(schema?.properties ?? {});
  const strings = props.filter(([, s]) => resolve(doc, s)?.type === 'string' || (resolve(doc, s)?.anyOf ?? []).some((a) => a.type === 'string')).map(([k]) => k);
  const bodies: unknown[] = [{ ampora_unknown: 1, __proto__: { polluted: true } }];
  for (const value of [...HOSTILE_STRINGS, 'x'.repeat(100_000), '\u0000']) bodies.push(Object.fromEntries(strings.map((k) => [k, value])));
  return bodies;
}

describe('reliability: bad REST input', () => {
  jest.setTimeout(FULL ? 600_000 : 120_000);
  let server: ServerProcess;
  const figures = new Figures('bad-rest-input');

  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    if (!server) return;
    figures.exact('secrets in the server log', `${server.output().length} lines`, 0, secretsInOutput(server.output(), [server.adminToken, server.env.AMPORA_MASTER_KEY!]).length);
    figures.publish();
    await server.stop();
  });

  it('answers every hostile body and query with a problem and a code, never a 5xx', async () => {
    const doc = (await fetch(`${server.base}/openapi.json`).then((r) => r.json())) as Doc;
    const ops = operationsOf(doc as never).filter((op) => !op.isPublic);
    const withBody = ops.filter((op) => op.hasBody);
    const lists = ops.filter((op) => op.method === 'GET' && (doc.paths[op.path]?.get?.parameters ?? []).some((p) => p.in === 'query' && p.name === 'limit'));
    const token = server.adminToken;
    let sent = 0;
    let serverErrors = 0;
    let notProblems = 0;
    const wrong: Record<string, number> = { '413': 0, JSON_TOO_DEEP: 0, INVALID_ENCODING: 0, pagination: 0 };
    const examples: string[] = [];
    const judge = (what: string, res: { status: number; contentType: string; json?: Record<string, unknown> }) => {
      sent++;
      if (res.status >= 500) {
        serverErrors++;
        examples.push(`${what}: ${res.status}`);
      }
      if (res.status >= 400 && !(res.contentType.startsWith('application/problem+json') && typeof res.json?.code === 'string')) {
        notProblems++;
        examples.push(`${what}: ${res.status} ${res.contentType}`);
      }
    };
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const big = Buffer.alloc(50 * 1024 * 1024, 0x20);
    for (const [i, op] of withBody.entries()) {
      const url = `${server.base}${concretePath(op)}`;
      const method = op.method;
      if (i < BIG_BODY_ROUTES) {
        const res = await rawRequest(url, { method, body: big, contentType: 'application/json', token });
        judge(`${method} ${op.path} 50 MB`, res);
        if (res.status !== 413) wrong['413']++;
      }
      const deepRes = await rawRequest(url, { method, body: deep, contentType: 'application/json', token });
      judge(`${method} ${op.path} deep`, deepRes);
      if (deepRes.json?.code !== 'JSON_TOO_DEEP') wrong.JSON_TOO_DEEP++;
      const utf = await rawRequest(url, { method, body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), contentType: 'application/json', token });
      judge(`${method} ${op.path} invalid UTF-8`, utf);
      if (utf.json?.code !== 'INVALID_ENCODING') wrong.INVALID_ENCODING++;
      for (const body of hostileBodies(doc, op)) judge(`${method} ${op.path} hostile strings`, await rawRequest(url, { method, body: JSON.stringify(body), contentType: 'application/json', token }));
    }
    for (const op of lists) {
      for (const query of ['limit=-1', 'limit=0', 'limit=99999999999999999999', 'limit=1e3', 'limit=abc', 'cursor=forged', 'cursor=%00', 'limit=5&limit=6']) {
        const res = await rawRequest(`${server.base}${concretePath(op)}?${query}`, { method: 'GET', body: '', contentType: 'application/json', token });
        judge(`GET ${op.path}?${query}`, res);
        // a list under an unknown id may answer 404 before it reads the query
        if (res.status !== 400 && !(op.params.length && res.status === 404)) {
          wrong.pagination++;
          examples.push(`GET ${op.path}?${query}: ${res.status}`);
        }
      }
    }
    const what = `${withBody.length} operations with a body, ${lists.length} lists: ${sent} requests`;
    figures.exact('5xx', what, 0, serverErrors);
    figures.exact('refusals that are not problem+json with a code', what, 0, notProblems);
    figures.exact('50 MB bodies not answered 413', `${Math.min(BIG_BODY_ROUTES, withBody.length)} bodies of 50 MB`, 0, wrong['413']!);
    figures.exact('10,000-deep JSON not answered JSON_TOO_DEEP', `${withBody.length} bodies`, 0, wrong.JSON_TOO_DEEP!);
    figures.exact('invalid UTF-8 not answered INVALID_ENCODING', `${withBody.length} bodies`, 0, wrong.INVALID_ENCODING!);
    figures.exact('bad pagination values not answered 400 (404 under an unknown id)', `${lists.length * 8} queries`, 0, wrong.pagination!);
    figures.exact('server process crashes (exit)', what, 0, server.alive() ? 0 : 1);
    if (examples.length) process.stdout.write(`bad REST input, first problems:\n${examples.slice(0, 20).join('\n')}\n`);
    expect(figures.failures()).toEqual([]);
  });
});
