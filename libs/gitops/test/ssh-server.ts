import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Debian's OpenSSH server on a loopback port, key authentication only, started and stopped by a test. */
export class SshServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'ampora-sshd-'));
  readonly user = userInfo().username;
  private child?: ChildProcess;
  /** The client's private key (OpenSSH format), allowed in authorized_keys. */
  readonly clientKey: string;

  constructor(readonly port: number) {
    keygen(join(this.dir, 'client'));
    this.clientKey = readFileSync(join(this.dir, 'client'), 'utf8');
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(join(this.dir, 'client.pub')));
  }

  /** Starts sshd with a new host key (a restart with a new key is a host whose key changed). */
  async start(): Promise<void> {
    const hostKey = join(this.dir, `host-${Date.now()}`);
    keygen(hostKey);
    writeFileSync(
      join(this.dir, 'sshd_config'),
      [
        `Port ${this.port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        'PidFile none',
        `AllowUsers ${this.user}`,
      ].join('\n') + '\n',
    );
    mkdirSync('/run/sshd', { recursive: true });
    this.child = spawn(SSHD, ['-D', '-e', '-f', join(this.dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.resume();
    for (let i = 0; i < 100; i++) {
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not listen on ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ampora-test', '-f', file]);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
