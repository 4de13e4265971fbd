#!/usr/bin/env node
// Builds the three apps (nest build, tsc builder) and the web console (Vite) and stamps dist/ so `npm start` knows it is current.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const nest = path.join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
for (const app of ['server', 'worker', 'cli']) {
  execFileSync(process.execPath, [nest, 'build', app], { cwd: root, stdio: 'inherit' });
}
// the web console (apps/console, Vite) into dist/console, which the server serves at / (decision 0340)
execFileSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'apps/console/vite.config.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_ENV: 'production' },
});
fs.writeFileSync(path.join(root, 'dist', '.build-stamp'), new Date().toISOString());
