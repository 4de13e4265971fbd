#!/usr/bin/env node
// npm start: builds if needed, then runs the server and the worker, forwards their logs, and prints
// where Ampora listens and how to get an operator token.
const { spawn } = require('node:child_process');
const { entry, ensureBuilt, root } = require('./dist');

ensureBuilt();
// eslint-disable-next-line import/no-dynamic-require
const { loadConfigOrExit } = require(require('node:path').join(root, 'dist', 'apps', 'cli', 'libs', 'platform', 'src', 'config', 'load-or-exit.js'));
const config = loadConfigOrExit();

const children = [];
let stopping = false;

function run(app, onLine) {
  const child = spawn(process.execPath, [entry(app)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    process.stdout.write(chunk);
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (onLine) onLine(line);
    }
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`ampora: the ${app} exited (${signal ?? code}); stopping\n`);
      stop(code ?? 1);
    }
  });
  children.push(child);
  return child;
}

function stop(code = 0) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 10000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// embedded storage belongs to one process: the server then runs the worker's jobs too
const embedded = config.storage.mode === 'embedded';
run('server', (line) => {
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    return;
  }
  if (record.category === 'Ampora.Server' && typeof record.Port === 'number') {
    const url = config.http.port === 0 ? `http://localhost:${record.Port}` : config.app.publicUrl;
    process.stderr.write(
      [
        '',
        `  Ampora is running at ${url}`,
        `  API docs:          ${url}/docs`,
        `  OpAMP endpoint:    ${url.replace(/^http/, 'ws')}/v1/opamp`,
        embedded
          ? `  Mode:              embedded (one process; data in ${require('node:path').resolve(config.storage.dataDir)})`
          : `  Operator token:    npm run cli -- tokens create --tenant default --role Admin --name me`,
        '',
        '',
      ].join('\n'),
    );
  }
});
if (!embedded) run('worker');
