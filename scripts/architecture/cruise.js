/**
 * Runs dependency-cruiser with the repository's rules (.dependency-cruiser.js) and returns its JSON
 * result. Used by the boundary check (boundaries.spec.ts, check.js) and the graph (graph.js).
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.js');
const CLI = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
/** What the boundary check looks at: the apps, the libs, the end-to-end tests and the benches. */
const SCANNED = ['apps', 'libs', 'test', 'bench'];

/**
 * @param {{ cwd?: string, dirs?: string[], tsConfig?: string }} options
 * @returns {{ modules: Array<{ source: string, dependencies: Array<{ resolved: string }> }>, summary: { violations: Array<{ rule: { name: string }, from: string, to: string }> } }}
 */
function cruise({ cwd = ROOT, dirs = SCANNED, tsConfig } = {}) {
  const args = [CLI, '--config', CONFIG, '--output-type', 'json', ...(tsConfig ? ['--ts-config', tsConfig] : []), ...dirs];
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.error) throw run.error;
  if (!run.stdout.trim().startsWith('{')) throw new Error(`dependency-cruiser failed (status ${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** One line per violation: `rule: from → to`. */
function describeViolations(result) {
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name ?? c).join(' → ')})` : ''}`);
}

module.exports = { ROOT, SCANNED, cruise, describeViolations };
