#!/usr/bin/env node
// npm run pack:cli: the standalone `ampora` package (the REST client only; decision 0350) as a
// tarball in dist/packages/, installable anywhere with `npm install ./ampora-cli-<version>.tgz`.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stage = path.join(root, 'dist', 'cli-package');
const dest = path.join(root, 'dist', 'packages');
const rootPkg = require(path.join(root, 'package.json'));

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(path.join(stage, 'bin'), { recursive: true });
fs.mkdirSync(dest, { recursive: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'apps', 'cli', 'tsconfig.package.json')], { cwd: root, stdio: 'inherit' });
// the client must not have pulled in server code: only the client's own files are in lib/
const stray = listFiles(path.join(stage, 'lib')).filter((f) => !/^(main\.js|client\/)/.test(f));
if (stray.length) throw new Error(`the ampora package would carry server code: ${stray.join(', ')}`);

const deps = ['commander', 'yaml'];
fs.writeFileSync(
  path.join(stage, 'package.json'),
  JSON.stringify(
    {
      name: 'ampora-cli',
      version: rootPkg.version,
      description: 'ampora: the command line of the Ampora control plane (a client of its REST API)',
      license: rootPkg.license,
      engines: rootPkg.engines,
      bin: { ampora: 'bin/ampora.js' },
      files: ['bin', 'lib', 'README.md'],
      dependencies: Object.fromEntries(deps.map((d) => [d, rootPkg.dependencies[d]])),
    },
    null,
    2,
  ) + '\n',
);
fs.writeFileSync(path.join(stage, 'bin', 'ampora.js'), "#!/usr/bin/env node\nrequire('../lib/main.js');\n", { mode: 0o755 });
fs.writeFileSync(
  path.join(stage, 'README.md'),
  '# ampora\n\nThe command line of Ampora, a client of its REST API: `ampora --help`.\nAdmin commands that open the database (migrate, tenants, tokens create) run only where the server is installed.\n',
);
const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: stage, encoding: 'utf8' }).trim().split('\n').pop();
process.stdout.write(path.join(dest, out) + '\n');

function listFiles(dir, prefix = '') {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}
