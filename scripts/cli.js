#!/usr/bin/env node
// npm run cli -- <command>: builds if needed, then runs the CLI app with the given arguments.
const { spawnSync } = require('node:child_process');
const { entry, ensureBuilt, root } = require('./dist');

ensureBuilt();
const result = spawnSync(process.execPath, [entry('cli'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
