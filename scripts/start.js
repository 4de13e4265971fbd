#!/usr/bin/env node
// npm start: builds if needed, then runs the server and the worker, forwards their logs, and prints
// where Ampora listens and how to get an operator token.
//
// Signals: the children run in their own process group, so a terminal's Ctrl-C (SIGINT to the whole
// foreground group) reaches npm and this script but not them; this script then asks each child to
// stop exactly once (SIGTERM) and waits for them. SIGTERM to this script, or to `npm start` (npm may
// exit without waiting for its script, which would orphan it: this script watches its parent and
// stops when it changes), does the same. The children drain and close on their own; if they are not
// done within AMPORA_SHUTDOWN_DRAIN_SECONDS + AMPORA_SHUTDOWN_TIMEOUT_SECONDS (+5 s), they are killed.
// The children watch this script in turn (AMPORA_STOP_WITH_PARENT): if it is killed outright, they
// shut down gracefully instead of running on.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { entry, ensureBuilt, root } = require('./dist');
const { withProductNodeOptions } = require('./node-options');

ensureBuilt();
// eslint-disable-next-line import/no-dynamic-require
const { loadConfigOrExit } = require(path.join(root, 'dist', 'apps', 'cli', 'libs', 'platform', 'src', 'config', 'load-or-exit.js'));

// the same masking as the server's CLI hint (libs/platform/src/config/database-url.ts)
// eslint-disable-next-line import/no-dynamic-require
const { maskDatabaseUrl } = require(path.join(root, 'dist', 'apps', 'cli', 'libs', 'platform', 'src', 'config', 'database-url.js'));
const config = loadConfigOrExit();

const children = [];
let stopping = false;
const graceMs = (config.shutdown.drainSeconds + config.shutdown.timeoutSeconds + 5) * 1000;

function run(app, onLine) {
  const child = spawn(process.execPath, [entry(app)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: withProductNodeOptions({ ...process.env, AMPORA_STOP_WITH_PARENT: 'true' }), detached: true });
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
      stop(code || 1);
    }
  });
  children.push(child);
  return child;
}

const running = (c) => c.exitCode === null && c.signalCode === null;

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  clearInterval(parentWatch);
  for (const c of children) if (running(c)) c.kill('SIGTERM');
  setTimeout(() => {
    for (const c of children) if (running(c)) c.kill('SIGKILL');
    process.stderr.write('ampora: the processes did not stop in time and were killed\n');
    process.exit(1);
  }, graceMs).unref();
  Promise.all(children.map((c) => (running(c) ? new Promise((r) => c.once('exit', r)) : null))).then(() => {
    const failed = children.some((c) => c.exitCode !== 0 && c.exitCode !== null);
    process.exit(code || (failed ? 1 : 0));
  });
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
process.on('SIGHUP', () => stop(0));
// the parent (npm) went away without telling us: stop rather than run on orphaned
const parent = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid !== parent) stop(0);
}, 250);
parentWatch.unref();

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
        // (in PostgreSQL mode the server prints the CLI line for an operator token, with DATABASE_URL)
        `  Metrics, health:   ${url}/metrics  ${url}/health/ready`,
        embedded ? `  Mode:              embedded (one process; data in ${path.resolve(config.storage.dataDir)})` : `  Mode:              PostgreSQL (${maskDatabaseUrl(config.database.url)}); server and worker`,
        ...workerLines(),
        '',
        '',
      ].join('\n'),
    );
  }
});
/** The worker's address lines (PostgreSQL mode), from the port its log line names. */
let workerPort;
function workerLines() {
  if (embedded) return [];
  if (config.worker.httpPort === 0) return ['  Worker:            health and metrics off (AMPORA_WORKER_HTTP_PORT=0)'];
  const port = workerPort ?? config.worker.httpPort;
  return [`  Worker metrics:    http://localhost:${port}/metrics  http://localhost:${port}/health/ready`];
}
if (!embedded) {
  run('worker', (line) => {
    try {
      const record = JSON.parse(line);
      if (record.category === 'Ampora.Worker.Http' && typeof record.Port === 'number') workerPort = record.Port;
    } catch {
      // not a log line
    }
  });
}

