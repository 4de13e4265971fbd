import { existsSync } from 'node:fs';
import { SourcesService, SweepService } from '@ampora/gitops';
import { freePort } from '@ampora/testing';
import { collectorYaml, GitFixture } from './git-fixture';
import { GitopsKit, startGitopsKit } from './gitops-kit';
import { SSHD, SshServer } from './ssh-server';

/** Sweeps over SSH from a real OpenSSH server on loopback (key auth), and its host key pinned on first use. */
describe('GitOps over SSH', () => {
  let kit: GitopsKit;
  let sshd: SshServer;
  let repo: GitFixture;

  beforeAll(async () => {
    expect(existsSync(SSHD)).toBe(true); // Debian's openssh-server (.ci/run installs it)
    kit = await startGitopsKit();
    sshd = new SshServer(await freePort());
    await sshd.start();
    repo = new GitFixture();
  });
  afterAll(async () => {
    await sshd?.close();
    repo?.close();
    await kit?.close();
  });

  it('imports with an SSH key, never on a command line, and refuses a host whose key changed', async () => {
    const tip = repo.write({ 'over-ssh.yaml': collectorYaml() }).commit();
    const s = await kit.as(() =>
      kit.app.get(SourcesService).create(kit.admin, { name: 'ssh', repositoryUrl: `ssh://${sshd.user}@127.0.0.1:${sshd.port}${repo.dir}`, branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'SshKey', credential: sshd.clientKey, pollIntervalSeconds: 60 }).then((o) => o.source),
    );
    const sweeps = kit.app.get(SweepService);
    kit.spawned.length = 0;

    const first = await sweeps.sweep(s.id, 'manual');
    expect(first).toMatchObject({ outcome: 'success', tipSha: tip });
    expect(first.run).toMatchObject({ filesImported: 1 });
    const keyBody = sshd.clientKey.split('\n')[1]!;
    expect(JSON.stringify(kit.spawned)).not.toContain(keyBody);

    // same server, new host key: the pinned key no longer matches
    await sshd.stop();
    await sshd.start();
    repo.write({ 'over-ssh.yaml': collectorYaml('otlp') }).commit();
    const refused = await sweeps.sweep(s.id, 'manual');
    expect(refused.outcome).toBe('failed');
    expect(refused.run!.failure).toMatch(/host key|Host key verification failed/i);
    expect(refused.run!.failure).not.toContain(keyBody);
  });
});
