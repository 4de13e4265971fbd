#!/usr/bin/env node
// Runs every jest tier and ends with one plain line: "N passed, N failed".
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, '.test-results', 'jest.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.rmSync(out, { force: true });

// The interop tier (real Collectors and Supervisors) needs Go: found on PATH or in /usr/local/go/bin
// (then put on PATH for the tests), else that tier is left out, and the run says so.
const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() };
const extra = [];
const go = findGo();
if (go) {
  env.PATH = `${path.dirname(go)}${path.delimiter}${env.PATH ?? ''}`;
} else if (process.argv.includes('--selectProjects') && process.argv.includes('interop')) {
  process.stdout.write('interop: cannot run the interop tests: no go on PATH or in /usr/local/go/bin (install Go 1.26)\n0 passed, 1 failed\n');
  process.exit(1);
} else {
  // after the caller's arguments and in the = form, so it takes no path or project name of theirs
  extra.push('--ignoreProjects=interop');
}
const SKIPPED = 'interop: SKIPPED the interop tests (real OpenTelemetry Collectors): no go on PATH or in /usr/local/go/bin\n';
if (!go) process.stdout.write(SKIPPED);

// --forceExit: a leaked handle must fail a test, never hang the run
const args = ['--json', `--outputFile=${out}`, '--maxWorkers=2', '--forceExit', ...process.argv.slice(2), ...extra];
const result = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], { cwd: root, stdio: 'inherit', env });

function findGo() {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/local/go/bin'];
  for (const dir of dirs) {
    try {
      fs.accessSync(path.join(dir, 'go'), fs.constants.X_OK);
      return path.join(dir, 'go');
    } catch {
      // next
    }
  }
  return null;
}

let passed = 0;
let failed = 0;
try {
  const report = JSON.parse(fs.readFileSync(out, 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numRuntimeErrorTestSuites || 0);
} catch {
  failed = 1;
}
if (result.status !== 0 && failed === 0) failed = 1;
if (!go) process.stdout.write(SKIPPED);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 && result.status === 0 ? 0 : 1);
