import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourcesService, SweepService } from '@ampora/gitops';
import { RequestContext } from '@ampora/platform';
import { ApprovalRuleService, ApprovalService, Role } from '@ampora/governance';
import { captureLogs, defaultTenantCaller, freePort, LogCapture } from '@ampora/testing';
import { GitopsKit, startGitopsKit } from './gitops-kit';

const PAT = 'ghp_Sup3rS3cretT0kenValue1234567890';
const SSH_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACBGitOpsTestKeyMaterialNotARealKey0000000000000000AAAA\n-----END OPENSSH PRIVATE KEY-----\n';

/**
 * Credentials never on a git command line, in a stored remote, in the database in the clear, in a
 * run or in a log line; they reach git through its environment (recorded for every spawned process).
 */
describe('GitOps credentials', () => {
  let kit: GitopsKit;
  let logs: LogCapture;
  let sources: SourcesService;
  let sweeps: SweepService;
  let http: Server;
  const requests: IncomingHttpHeaders[] = [];
  let httpPort: number;

  beforeAll(async () => {
    logs = captureLogs('Debug');
    kit = await startGitopsKit();
    sources = kit.app.get(SourcesService);
    sweeps = kit.app.get(SweepService);
    http = createServer((req, res) => {
      requests.push(req.headers);
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    httpPort = (http.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => http.close(resolve));
    await kit.close();
  });

  function everything(): string {
    return JSON.stringify(kit.spawned.map((s) => s.args)) + logs.lines.join('\n');
  }

  it('gives a PAT to git only through its environment and never keeps it in the clear', async () => {
    const port = await freePort();
    const s = await kit.as(() => sources.create(kit.admin, { name: 'pat-source', repositoryUrl: `https://127.0.0.1:${port}/acme/configs.git`, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'Pat', credential: PAT, pollIntervalSeconds: 60 }).then((o) => o.source));
    kit.spawned.length = 0;
    const result = await sweeps.sweep(s.id, 'manual');

    expect(result.outcome).toBe('failed');
    const fetch = kit.spawned.find((i) => i.args.includes('fetch'))!;
    expect(fetch.args).toContain(`https://127.0.0.1:${port}/acme/configs.git`);
    expect(fetch.env.GIT_CONFIG_VALUE_1).toBe(`Authorization: Basic ${Buffer.from(`x-access-token:${PAT}`).toString('base64')}`);
    expect(everything()).not.toContain(PAT);
    expect(JSON.stringify(result.run)).not.toContain(PAT);
    const [row] = (await kit.ds.query(`SELECT credential_sealed FROM gitops_sources WHERE id = $1`, [s.id])) as Array<{ credential_sealed: Buffer }>;
    expect(row!.credential_sealed.includes(Buffer.from(PAT))).toBe(false);
    const audit = JSON.stringify(await kit.ds.query(`SELECT * FROM audit_events WHERE entity_id = $1`, [s.id]));
    expect(audit).not.toContain(PAT);
    // the cache's config names no remote: the URL is given on each fetch
    expect(readFileSync(join(kit.dataDir, 'gitops', `${s.id}.git`, 'config'), 'utf8')).not.toMatch(/remote|127\.0\.0\.1/);
  });

  it('seals the PAT of a creation an approval rule holds for the id the source will have, and git gets it once another Admin approves (decision 0403)', async () => {
    const rules = kit.app.get(ApprovalRuleService);
    const rule = await kit.as(() => rules.create(kit.admin, { name: 'held sources', operation: 'gitops.source.edit', condition: 'source.name = "held-pat"' }));
    try {
      const port = await freePort();
      const held = await kit.as(() => sources.create(kit.admin, { name: 'held-pat', repositoryUrl: `https://127.0.0.1:${port}/acme/held.git`, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'Pat', credential: PAT, pollIntervalSeconds: 60 }));
      expect(held.approvalId).toEqual(expect.any(String));
      expect(await kit.ds.query(`SELECT id FROM gitops_sources WHERE id = $1`, [held.source.id])).toHaveLength(0);
      const [pending] = (await kit.ds.query(`SELECT kind, input, credential_sealed FROM gitops_source_edits WHERE source_id = $1`, [held.source.id])) as Array<{ kind: string; input: unknown; credential_sealed: Buffer }>;
      expect(pending!.kind).toBe('Create');
      expect(pending!.credential_sealed.includes(Buffer.from(PAT))).toBe(false);
      expect(JSON.stringify(pending!.input)).not.toContain(PAT);
      expect(JSON.stringify(await kit.ds.query(`SELECT * FROM approval_requests WHERE id = $1`, [held.approvalId]))).not.toContain(PAT);

      const approver = (await defaultTenantCaller(kit.ds, Role.Admin, 'other-admin')).principal;
      await RequestContext.run({ principal: approver, tenantId: approver.tenantId }, () => kit.app.get(ApprovalService).approve(approver, held.approvalId!));
      expect(await kit.ds.query(`SELECT source_id FROM gitops_source_edits WHERE source_id = $1`, [held.source.id])).toHaveLength(0);
      kit.spawned.length = 0;
      const result = await sweeps.sweep(held.source.id, 'manual');
      expect(result.outcome).toBe('failed');
      const fetch = kit.spawned.find((i) => i.args.includes('fetch'))!;
      expect(fetch.env.GIT_CONFIG_VALUE_1).toBe(`Authorization: Basic ${Buffer.from(`x-access-token:${PAT}`).toString('base64')}`);
      expect(everything()).not.toContain(PAT);
      expect(JSON.stringify(await kit.ds.query(`SELECT * FROM audit_events WHERE entity_id IN ($1, $2)`, [held.source.id, held.approvalId]))).not.toContain(PAT);
    } finally {
      await kit.as(() => rules.delete(kit.admin, rule.id));
    }
  });

  it('makes the real git send the PAT as an Authorization header (plumbing checked against a local HTTP server)', async () => {
    const { GitCli } = await import('../src/git/git-cli');
    const { baseGitEnvironment, gitAccessEnvironment } = await import('../src/domain/git-access');
    const env = { ...baseGitEnvironment(kit.dataDir), GIT_ALLOW_PROTOCOL: 'http', ...gitAccessEnvironment({ kind: 'Pat', secret: PAT }) };
    await expect(new GitCli('git').run(['ls-remote', `http://127.0.0.1:${httpPort}/acme/configs.git`], { env, timeoutMs: 10000, redact: [PAT] })).rejects.toThrow(/ls-remote failed/);
    expect(requests.some((h) => h.authorization === `Basic ${Buffer.from(`x-access-token:${PAT}`).toString('base64')}`)).toBe(true);
  });

  it('gives an SSH key through a temporary 0600 file named in GIT_SSH_COMMAND, removed after the sweep', async () => {
    const port = await freePort();
    const s = await kit.as(() => sources.create(kit.admin, { name: 'ssh-source', repositoryUrl: `ssh://git@127.0.0.1:${port}/acme/configs.git`, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'SshKey', credential: SSH_KEY, pollIntervalSeconds: 60 }).then((o) => o.source));
    kit.spawned.length = 0;
    const result = await sweeps.sweep(s.id, 'manual');

    expect(result.outcome).toBe('failed');
    const fetch = kit.spawned.find((i) => i.args.includes('fetch'))!;
    const keyFile = /-i '([^']+)'/.exec(fetch.env.GIT_SSH_COMMAND!)![1]!;
    expect(fetch.env.GIT_SSH_COMMAND).toContain('StrictHostKeyChecking=accept-new');
    expect(fetch.env.GIT_SSH_COMMAND).toContain(`UserKnownHostsFile='${join(kit.dataDir, 'gitops', `${s.id}.known_hosts`)}'`);
    expect(existsSync(keyFile)).toBe(false);
    expect(everything()).not.toContain('GitOpsTestKeyMaterial');
    expect(JSON.stringify(kit.spawned.map((i) => i.env))).not.toContain('GitOpsTestKeyMaterial');
  });

  it('refuses credentials inside the repository URL and credentials that do not fit the URL', async () => {
    await expect(kit.as(() => sources.create(kit.admin, { name: 'bad-1', repositoryUrl: `https://bot:${PAT}@github.com/acme/x.git`, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'None', pollIntervalSeconds: 60 }).then((o) => o.source))).rejects.toMatchObject({ code: 'GIT_SOURCE_INVALID' });
    await expect(kit.as(() => sources.create(kit.admin, { name: 'bad-2', repositoryUrl: 'git@github.com:acme/x.git', branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'Pat', credential: PAT, pollIntervalSeconds: 60 }).then((o) => o.source))).rejects.toMatchObject({ code: 'GIT_SOURCE_INVALID' });
    expect(logs.lines.join('\n')).not.toContain(PAT);
  });
});
