import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '@ampora/testing';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free loopback port), so
 * a probe can stop and restart a real PostgreSQL without touching the shared one on 5432 that every
 * other test uses. PostgreSQL refuses to run as root: under root (CI) the cluster belongs to the
 * `postgres` user and is driven through `runuser`.
 */
export class PrivatePostgres {
  private readonly dir = mkdtempSync(join(tmpdir(), 'ampora-pg-'));
  private readonly data = join(this.dir, 'data');
  private readonly bin = postgresBin();
  private readonly asRoot = userInfo().uid === 0;
  port = 0;

  /** The URL of database `name` on this cluster (user postgres, trust authentication on loopback). */
  url(name: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${name}`;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    if (this.asRoot) {
      chmodSync(this.dir, 0o755);
      const { uid, gid } = await postgresUser();
      chownSync(this.dir, uid, gid);
    }
    await this.pg('initdb', ['-D', this.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  }

  async start(): Promise<void> {
    // fsync stays on: what was acknowledged must survive an immediate stop
    const options = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c max_connections=100 -c shared_buffers=32MB`;
    await this.pg('pg_ctl', ['-D', this.data, '-o', options, '-l', join(this.dir, 'server.log'), '-w', '-t', '120', 'start']);
  }

  /**
   * Stops the cluster: `immediate` is a crash (no checkpoint, connections cut; recovery replays the
   * WAL on the next start), `fast` an orderly shutdown.
   */
  async stop(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    if (!existsSync(join(this.data, 'postmaster.pid'))) return;
    await this.pg('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '120', 'stop']);
  }

  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  async close(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async pg(tool: string, args: string[]): Promise<void> {
    const file = join(this.bin, tool);
    if (this.asRoot) await run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd: this.dir });
    else await run(file, args, { cwd: this.dir });
  }
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((bin) => existsSync(join(bin, 'pg_ctl')));
  if (!found) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql/*/bin');
  return found;
}

async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['postgres']);
  const uid = /uid=(\d+)/.exec(stdout);
  const gid = /gid=(\d+)/.exec(stdout);
  if (!uid || !gid) throw new Error(`no postgres user: ${stdout}`);
  return { uid: Number(uid[1]), gid: Number(gid[1]) };
}
