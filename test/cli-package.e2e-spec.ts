import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

const run = promisify(execFile);

/**
 * The standalone package (decision 0350): `npm run pack:cli` makes a tarball that installs in an
 * empty directory with only its own dependencies, offline (the two are packed from the repository's
 * node_modules: a fresh machine's npm cache holds the tarballs `npm ci` fetched, not the registry's
 * metadata that a by-name install asks for), and the installed
 * `ampora` talks to a real server; the admin commands say they need the server's installation.
 */
describe('the ampora-cli package', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'ampora-pkg-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server.close();
  });

  it('packs, installs elsewhere with commander and yaml only, and lists configurations from the server as JSON', async () => {
    const tarball = (await run(process.execPath, [join(REPO_ROOT, 'scripts', 'pack-cli.js')], { cwd: REPO_ROOT })).stdout.trim();
    expect(tarball).toMatch(/dist\/packages\/ampora-cli-\d+\.\d+\.\d+\.tgz$/);
    const deps: string[] = [];
    for (const name of ['commander', 'yaml']) {
      const packed = (await run('npm', ['pack', '--silent', '--pack-destination', dir, join(REPO_ROOT, 'node_modules', name)], { cwd: dir })).stdout.trim().split('\n').pop()!;
      deps.push(join(dir, packed));
    }
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...deps], { cwd: dir });
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', 'ampora-cli', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['commander', 'yaml']);

    await server.as().post('/api/configurations').send({ name: 'from-the-package' }).expect(201);
    const env = { PATH: process.env.PATH ?? '', HOME: dir, AMPORA_URL: server.url, AMPORA_TOKEN: server.adminToken };
    const bin = join(dir, 'node_modules', '.bin', 'ampora');
    const listed = await run(bin, ['get', 'configurations', '-o', 'json'], { cwd: dir, env });
    expect((JSON.parse(listed.stdout) as { items: Array<{ name: string }> }).items.map((c) => c.name)).toContain('from-the-package');

    const admin = await run(bin, ['migrate'], { cwd: dir, env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(admin.code).toBe(1);
    expect(admin.stderr).toContain('this command needs the database');
  }, 180_000);
});
