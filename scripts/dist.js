// Shared by the launcher scripts: where the built apps are, and whether dist/ is older than the code.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function entry(app) {
  return path.join(root, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
}

function newestSource(dir) {
  let newest = 0;
  // an image (or any install) that ships dist/ without the sources: nothing to compare
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(full));
    // .tsx and .css: the web console's sources (apps/console)
    else if (/\.(ts|tsx|css)$/.test(e.name) && !/(spec|test)\.tsx?$/.test(e.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Whether dist/ holds the apps and is no older than any source file. */
function isBuilt(apps = ['server', 'worker', 'cli']) {
  const stamp = path.join(root, 'dist', '.build-stamp');
  const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
  const sources = Math.max(newestSource(path.join(root, 'apps')), newestSource(path.join(root, 'libs')));
  const consoleBuilt = fs.existsSync(path.join(root, 'dist', 'console', 'index.html'));
  return built >= sources && consoleBuilt && apps.every((a) => fs.existsSync(entry(a)));
}

/** Builds when dist/ is missing or older than any source file. */
function ensureBuilt() {
  if (isBuilt()) return;
  process.stderr.write('ampora: building (npm run build)...\n');
  execFileSync(process.execPath, [path.join(__dirname, 'build.js')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

module.exports = { root, entry, ensureBuilt, isBuilt };
