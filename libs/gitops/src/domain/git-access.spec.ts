import { baseGitEnvironment, gitAccessEnvironment, normaliseSshKey, shellQuote } from './git-access';

describe('gitAccessEnvironment', () => {
  it('gives a PAT as a basic authorization header through GIT_CONFIG_* variables', () => {
    const env = gitAccessEnvironment({ kind: 'Pat', secret: 'ghp_s3cr3t' });
    expect(env.GIT_CONFIG_COUNT).toBe('2');
    expect(env.GIT_CONFIG_KEY_0).toBe('credential.helper');
    expect(env.GIT_CONFIG_VALUE_0).toBe('');
    expect(env.GIT_CONFIG_KEY_1).toBe('http.extraHeader');
    expect(Buffer.from(env.GIT_CONFIG_VALUE_1!.replace('Authorization: Basic ', ''), 'base64').toString()).toBe('x-access-token:ghp_s3cr3t');
  });

  it('keeps a user given with the token', () => {
    const env = gitAccessEnvironment({ kind: 'Pat', secret: 'oauth2:glpat-1' });
    expect(Buffer.from(env.GIT_CONFIG_VALUE_1!.replace('Authorization: Basic ', ''), 'base64').toString()).toBe('oauth2:glpat-1');
  });

  it('points ssh at the key file and the known-hosts policy, never at the key itself', () => {
    const env = gitAccessEnvironment({ kind: 'SshKey', secret: 'PRIVATE KEY BODY', keyFile: "/tmp/k'1/id", knownHostsFile: '/data/kh', strictHostKeys: false });
    expect(env.GIT_SSH_COMMAND).toContain(`-i '/tmp/k'\\''1/id'`);
    expect(env.GIT_SSH_COMMAND).toContain('StrictHostKeyChecking=accept-new');
    expect(env.GIT_SSH_COMMAND).toContain("UserKnownHostsFile='/data/kh'");
    expect(JSON.stringify(env)).not.toContain('PRIVATE KEY BODY');
    expect(gitAccessEnvironment({ kind: 'SshKey', keyFile: '/k', knownHostsFile: '/kh', strictHostKeys: true }).GIT_SSH_COMMAND).toContain('StrictHostKeyChecking=yes');
  });

  it('adds nothing but the disabled credential helper for None', () => {
    expect(gitAccessEnvironment({ kind: 'None' })).toEqual({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.helper', GIT_CONFIG_VALUE_0: '' });
  });
});

describe('baseGitEnvironment', () => {
  it('turns off prompts, user and system config, and protocols other than file, https and ssh', () => {
    const env = baseGitEnvironment('/h');
    expect(env).toMatchObject({ HOME: '/h', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_ALLOW_PROTOCOL: 'file:https:ssh' });
  });
});

describe('helpers', () => {
  it('quotes for the shell and normalises key line ends', () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(normaliseSshKey('  -----BEGIN-----\r\nabc\r\n-----END-----  ')).toBe('-----BEGIN-----\nabc\n-----END-----\n');
  });
});
