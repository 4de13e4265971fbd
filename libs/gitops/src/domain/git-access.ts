/**
 * How a git process reaches a repository without any secret on its command line or on disk in a
 * remote URL: HTTPS tokens travel as an `http.extraHeader` given through GIT_CONFIG_* environment
 * variables; SSH keys are a temporary 0600 file named in GIT_SSH_COMMAND. Pure: the caller writes the
 * key file and spawns git with exactly this environment.
 */
export interface GitAccessInput {
  kind: 'None' | 'Pat' | 'SshKey';
  /** The opened credential: a PAT (`token` or `user:token`) or an OpenSSH private key. */
  secret?: string;
  /** For SshKey: where the key file is written. */
  keyFile?: string;
  /** For SshKey: the known_hosts file and whether an unknown host is refused (yes) or pinned on first use. */
  knownHostsFile?: string;
  strictHostKeys?: boolean;
}

/** Environment every git process of a sweep runs with (no user or system config, no prompts). */
export function baseGitEnvironment(home: string): Record<string, string> {
  return {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: 'false',
    SSH_ASKPASS: 'false',
    GIT_ALLOW_PROTOCOL: 'file:https:ssh',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
  };
}

/** The extra environment for the credential; never anything for the argument list. */
export function gitAccessEnvironment(input: GitAccessInput): Record<string, string> {
  const env: Record<string, string> = {};
  let configs: Array<[string, string]> = [['credential.helper', '']];
  if (input.kind === 'Pat') {
    if (!input.secret) throw new Error('a Pat source has no credential');
    const basic = input.secret.includes(':') ? input.secret : `x-access-token:${input.secret}`;
    configs.push(['http.extraHeader', `Authorization: Basic ${Buffer.from(basic, 'utf8').toString('base64')}`]);
  }
  if (input.kind === 'SshKey') {
    if (!input.keyFile || !input.knownHostsFile) throw new Error('an SshKey source needs its key and known_hosts files');
    env.GIT_SSH_COMMAND = [
      'ssh',
      `-i ${shellQuote(input.keyFile)}`,
      '-o IdentitiesOnly=yes',
      '-o IdentityAgent=none',
      '-o BatchMode=yes',
      '-o PasswordAuthentication=no',
      `-o StrictHostKeyChecking=${input.strictHostKeys ? 'yes' : 'accept-new'}`,
      `-o UserKnownHostsFile=${shellQuote(input.knownHostsFile)}`,
    ].join(' ');
  }
  configs = configs.filter(([key]) => key);
  env.GIT_CONFIG_COUNT = String(configs.length);
  configs.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** Single-quotes a path for the shell git runs GIT_SSH_COMMAND with. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** An OpenSSH/PEM private key as ssh reads it: trimmed, LF line ends, one final newline. */
export function normaliseSshKey(key: string): string {
  return `${key.replace(/\r\n?/g, '\n').trim()}\n`;
}
