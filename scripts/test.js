#!/usr/bin/env node
// Runs every jest tier and the web console's Vitest tests, and ends with one plain line: "N passed, N failed".
// Paths under apps/console/ go to Vitest only; with no arguments both run.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, '.test-results', 'jest.json');
const vitestOut = path.join(root, '.test-results', 'vitest.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.rmSync(out, { force: true });
fs.rmSync(vitestOut, { force: true });

const userArgs = process.argv.slice(2);
const consolePaths = userArgs.filter((a) => a.replace(/^\.\//, '').startsWith('apps/console'));
const jestArgs = userArgs.filter((a) => !consolePaths.includes(a));
const runVitest = userArgs.length === 0 || consolePaths.length > 0;
// only console paths (and options): Jest has nothing to run
const runJest = consolePaths.length === 0 || jestArgs.some((a) => !a.startsWith('-'));

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

const result = runJest ? runJestPhases() : { status: 0 };

// the console's component and hook tests (jsdom); their counts join Jest's in the final line and in
// .test-results/vitest.json, which .ci/run adds to jest.json's
let vitestStatus = 0;
if (runVitest) {
  const filters = consolePaths.map((p) => p.replace(/^\.\//, '').replace(/^apps\/console\/?/, '')).filter(Boolean);
  const vitestArgs = ['run', '--config', 'apps/console/vite.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestOut}`, ...filters];
  vitestStatus = spawnSync(process.execPath, [path.join(root, 'node_modules', 'vitest', 'vitest.mjs'), ...vitestArgs], { cwd: root, stdio: 'inherit' }).status ?? 1;
}

/**
 * Jest in two phases: every selected test file but the measured ones (test/measured.js: they judge
 * time or memory) two at a time, then the selected measured ones one at a time on a machine no other
 * test is loading (decision 0422). One report in .test-results/jest.json covers both.
 */
function runJestPhases() {
  const jest = require.resolve('jest/bin/jest');
  const measuredFiles = require(path.join(root, 'test', 'measured.js')).map((f) => path.join(root, f));
  const listed = spawnSync(process.execPath, [jest, '--listTests', '--json', ...jestArgs, ...extra], { cwd: root, env, encoding: 'utf8' });
  let selected = [];
  try {
    selected = JSON.parse(listed.stdout);
  } catch {
    // jest says what is wrong with the arguments in the first phase below
  }
  const measured = measuredFiles.filter((f) => selected.includes(f));
  const others = selected.length === 0 || selected.some((f) => !measuredFiles.includes(f));
  const reports = [];
  let status = 0;
  const phase = (file, args, phaseEnv) => {
    fs.rmSync(file, { force: true });
    // --forceExit: a leaked handle must fail a test, never hang the run
    const r = spawnSync(process.execPath, [jest, '--json', `--outputFile=${file}`, '--forceExit', ...args], { cwd: root, stdio: 'inherit', env: phaseEnv });
    if (r.status !== 0) status = r.status ?? 1;
    reports.push(file);
  };
  if (others) phase(out, ['--maxWorkers=2', ...jestArgs, ...extra], { ...env, AMPORA_TEST_SKIP_MEASURED: '1' });
  if (measured.length > 0) {
    process.stdout.write(`measured: ${measured.length} file(s) that judge time or memory, one at a time with nothing else running\n`);
    phase(out.replace(/\.json$/, '-measured.json'), ['--runInBand', '--selectProjects', 'e2e', '--runTestsByPath', ...measured], env);
  }
  // one report of both phases where .ci/run and the final line read it
  const merged = { numPassedTests: 0, numFailedTests: 0, numRuntimeErrorTestSuites: 0, numTotalTests: 0, testResults: [], success: status === 0 };
  for (const file of reports) {
    let r;
    try {
      r = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      merged.numRuntimeErrorTestSuites += 1;
      continue;
    }
    for (const k of ['numPassedTests', 'numFailedTests', 'numRuntimeErrorTestSuites', 'numTotalTests']) merged[k] += r[k] || 0;
    merged.testResults.push(...(r.testResults || []));
    merged.success = merged.success && r.success;
  }
  fs.writeFileSync(out, JSON.stringify(merged));
  return { status };
}

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
for (const [file, ran, status] of [
  [out, runJest, result.status],
  [vitestOut, runVitest, vitestStatus],
]) {
  if (!ran) continue;
  let f = 0;
  try {
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    f = report.numFailedTests + (report.numRuntimeErrorTestSuites || 0);
  } catch {
    f = 1;
  }
  if (status !== 0 && f === 0) f = 1;
  failed += f;
}
if (!go) process.stdout.write(SKIPPED);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 && result.status === 0 && vitestStatus === 0 ? 0 : 1);
