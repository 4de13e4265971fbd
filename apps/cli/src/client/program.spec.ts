import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, commandTree, Io, runAmpora } from './program';
import type { CommandNode } from './domain/completion';
import { configPath, loadContexts, resolveTarget, saveContexts } from './context';

/** The program without a server: usage, help, contexts, completion and the admin hand-off. */
describe('ampora program', () => {
  let home: string;
  let out: string;
  let err: string;
  let adminCalls: string[][];
  const io = (env: Record<string, string | undefined> = {}): Io => ({
    env: { HOME: home, XDG_CONFIG_HOME: join(home, 'cfg'), ...env },
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    stdin: async () => 'amp-pat.SECRET\n',
    isTty: false,
    admin: async (argv) => (adminCalls.push(argv), 0),
  });
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'ampora-prog-'));
    out = '';
    err = '';
    adminCalls = [];
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('exits 2 on usage errors, 0 on --help; every command has an example in its help', async () => {
    expect(await runAmpora([], io())).toBe(2);
    expect(await runAmpora(['get'], io())).toBe(2);
    expect(err).toContain("missing required argument 'resource'");
    expect(await runAmpora(['get', 'agents', '-o', 'xml'], io())).toBe(2);
    expect(await runAmpora(['nonsense'], io())).toBe(2);
    const paths = (n: CommandNode, prefix: string[]): string[][] => n.children.flatMap((c) => [[...prefix, c.name], ...paths(c, [...prefix, c.name])]);
    const all = paths(commandTree(buildProgram(io(), { code: 0 }, [])), []).filter((p) => !['migrate', 'tenants', 'tokens'].includes(p[0]!));
    expect(all.length).toBeGreaterThan(15);
    for (const cmd of all) {
      out = '';
      expect(await runAmpora([...cmd, '--help'], io())).toBe(0);
      expect(`${cmd.join(' ')}: ${out}`).toMatch(/Example:\n {2}\$ .*ampora /);
    }
  });

  it('without a server to talk to: exit 2 naming AMPORA_URL; an unknown resource or a bad selector is usage too', async () => {
    expect(await runAmpora(['get', 'agents'], io())).toBe(2);
    expect(err).toContain('set AMPORA_URL');
    expect(await runAmpora(['get', 'widgets'], io({ AMPORA_URL: 'http://127.0.0.1:9' }))).toBe(2);
    expect(err).toContain('unknown resource "widgets"');
  });

  it('a document error is a validation error (3) before anything is sent', async () => {
    const file = join(home, 'bad.yaml');
    writeFileSync(file, 'kind: Policy\nname: p\n');
    expect(await runAmpora(['apply', '-f', file], io({ AMPORA_URL: 'http://127.0.0.1:9' }))).toBe(3);
    expect(err).toContain('Policy p needs expression');
  });

  it('contexts: switch with context use; the token comes from an env var or a file; AMPORA_URL and AMPORA_TOKEN win', async () => {
    const env = io().env;
    saveContexts(env, {
      currentContext: 'a',
      contexts: [
        { name: 'a', url: 'https://a.example/', tokenEnv: 'A_TOKEN' },
        { name: 'b', url: 'https://b.example', tenant: 'acme', tokenFile: join(home, 'b-token') },
      ],
    });
    writeFileSync(join(home, 'b-token'), 'tok-b\n');
    expect(resolveTarget({ ...env, A_TOKEN: 'tok-a' })).toEqual({ url: 'https://a.example', token: 'tok-a', tenant: undefined, context: 'a' });
    expect(await runAmpora(['context', 'use', 'b'], io())).toBe(0);
    expect(loadContexts(env).currentContext).toBe('b');
    expect(resolveTarget(env)).toMatchObject({ url: 'https://b.example', token: 'tok-b', tenant: 'acme' });
    expect(resolveTarget({ ...env, AMPORA_URL: 'http://ci:4320', AMPORA_TOKEN: 'tok-ci' })).toMatchObject({ url: 'http://ci:4320', token: 'tok-ci' });
    expect(await runAmpora(['context', 'use', 'zzz'], io())).toBe(2);
    out = '';
    await runAmpora(['context', 'list'], io());
    expect(out).toBe(`  a\thttps://a.example/\t\t$A_TOKEN\n* b\thttps://b.example\tacme\t${join(home, 'b-token')}\n`);
    expect(configPath(env)).toBe(join(home, 'cfg', 'ampora', 'config.yaml'));
    expect(statSync(configPath(env)).mode & 0o777).toBe(0o600);
  });

  it('login keeps a token from stdin in a 0600 file, never in config.yaml, and fails (1) when the server cannot be reached', async () => {
    expect(await runAmpora(['login', 'http://127.0.0.1:9', '--name', 'ci', '--token-stdin'], io())).toBe(1);
    expect(err).toContain('cannot reach http://127.0.0.1:9');
    const env = io().env;
    expect(readFileSync(configPath(env), 'utf8')).not.toContain('SECRET');
    const ctx = loadContexts(env).contexts[0]!;
    expect(readFileSync(ctx.tokenFile!, 'utf8')).toBe('amp-pat.SECRET\n');
    expect(statSync(ctx.tokenFile!).mode & 0o777).toBe(0o600);
  });

  it('prints completion scripts and completes from the command tree', async () => {
    expect(await runAmpora(['completion', 'bash'], io())).toBe(0);
    expect(out).toContain('complete -o default -F _ampora_complete ampora');
    out = '';
    expect(await runAmpora(['completion', 'zsh'], io())).toBe(0);
    expect(out).toContain('compdef _ampora ampora');
    expect(await runAmpora(['completion', 'fish'], io())).toBe(2);
    out = '';
    await runAmpora(['__complete', 'rollout'], io());
    expect(out.trim().split('\n')).toEqual(['start', 'pause', 'resume', 'advance', 'abort', 'rollback', 'status']);
    out = '';
    await runAmpora(['__complete', 'get'], io());
    expect(out).toContain('configurations\n');
    expect(out).toContain('--field-selector\n');
  });

  it('hands the admin commands their arguments as written (they open the database)', async () => {
    expect(await runAmpora(['tokens', 'create', '--tenant', 'default', '--role', 'Admin', '--name', 'me'], io())).toBe(0);
    expect(await runAmpora(['migrate'], io())).toBe(0);
    expect(adminCalls).toEqual([['tokens', 'create', '--tenant', 'default', '--role', 'Admin', '--name', 'me'], ['migrate']]);
  });
});
