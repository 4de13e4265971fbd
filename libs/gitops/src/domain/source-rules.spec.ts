import { credentialFits, isValidBranch, repositoryTransport } from './source-rules';

describe('repositoryTransport', () => {
  it('knows https, ssh (URL and scp-like) and file URLs', () => {
    expect(repositoryTransport('https://github.com/acme/configs.git')).toEqual({ ok: true, transport: 'https' });
    expect(repositoryTransport('ssh://git@git.example:2222/acme/configs.git')).toEqual({ ok: true, transport: 'ssh' });
    expect(repositoryTransport('git@github.com:acme/configs.git')).toEqual({ ok: true, transport: 'ssh' });
    expect(repositoryTransport('file:///srv/git/configs.git')).toEqual({ ok: true, transport: 'file' });
  });

  it('refuses credentials inside the URL, other schemes, option-like and spaced URLs', () => {
    for (const bad of ['https://user:secret@github.com/a.git', 'https://token@github.com/a.git', 'ssh://git:pw@host/a.git', 'http://host/a.git', 'ext::sh -c touch% /tmp/x', '-uhttps://x', 'file://host/path', 'git://host/a.git', 'https://host/a b.git']) {
      expect(repositoryTransport(bad)).toMatchObject({ ok: false });
    }
  });
});

describe('credentialFits', () => {
  it('takes a PAT for HTTPS only and a key for SSH only', () => {
    expect(credentialFits('https', 'Pat')).toBe(true);
    expect(credentialFits('ssh', 'Pat')).toBe(false);
    expect(credentialFits('ssh', 'SshKey')).toBe(true);
    expect(credentialFits('file', 'SshKey')).toBe(false);
    expect(credentialFits('file', 'None')).toBe(true);
  });
});

describe('isValidBranch', () => {
  it('accepts ordinary branch names and refuses what git refuses', () => {
    for (const good of ['main', 'release/2026.1', 'feature_x-y']) expect(isValidBranch(good)).toBe(true);
    for (const bad of ['', '-f', 'a..b', 'a b', 'a:b', 'a~1', 'x.lock', '.hidden', 'a/.b', 'a//b', 'a@{1}', 'trailing/']) expect(isValidBranch(bad)).toBe(false);
  });
});
