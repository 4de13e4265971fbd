#!/usr/bin/env node
// Builds the interop suite's real OpAMP peers (test/interop/): the Collector with the contrib opamp
// extension, the contrib OpAMP Supervisor, the opamp-go load generator and the opamp-go package agent. Each binary goes into a
// cache outside the work tree, keyed by its module's go.mod, go.sum and Go sources and the Go version
// (~/.cache/ampora-interop/<name>-<hash>/<name>), so a second run only hashes files. Prints one line
// per binary ("built" or "cached") and, with --json, a JSON object of the paths on the last line.
// Usable as a module: require('./interop-build').buildPeers() returns the same object.
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const interop = path.join(root, 'test', 'interop');
const SUPERVISOR_PKG = 'github.com/open-telemetry/opentelemetry-collector-contrib/cmd/opampsupervisor';

const PEERS = [
  { name: 'testcol', dir: 'collector', target: '.', env: {} },
  // the wrapper module is never tidied (the Supervisor's tests import contrib's unserved testbed)
  { name: 'opampsupervisor', dir: 'supervisor', target: SUPERVISOR_PKG, env: { GOFLAGS: '-mod=mod' } },
  { name: 'loadgen', dir: 'loadgen', target: '.', env: {} },
  // an opamp-go agent with the package syncer (issue 20 item 4)
  { name: 'pkgagent', dir: 'pkgagent', target: '.', env: {} },
];

/** The go binary: on PATH, else the usual install location. Null when there is none. */
function findGo() {
  const candidates = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/local/go/bin', '/usr/lib/go/bin'];
  for (const dir of candidates) {
    const file = path.join(dir, 'go');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // next
    }
  }
  return null;
}

function goEnv(go) {
  const bin = path.dirname(go);
  return { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, CGO_ENABLED: '0' };
}

function peerHash(go, peer) {
  const dir = path.join(interop, peer.dir);
  const h = crypto.createHash('sha256');
  const version = spawnSync(go, ['version'], { encoding: 'utf8', env: goEnv(go) }).stdout.trim();
  h.update(version);
  for (const file of fs.readdirSync(dir).sort()) {
    if (file === 'go.mod' || file === 'go.sum' || file.endsWith('.go')) {
      h.update(file);
      h.update(fs.readFileSync(path.join(dir, file)));
    }
  }
  return h.digest('hex').slice(0, 16);
}

function cacheRoot() {
  return process.env.AMPORA_INTEROP_CACHE || path.join(os.homedir(), '.cache', 'ampora-interop');
}

/** Builds what is missing from the cache (all peers, or those named in `only`); returns { go, testcol, opampsupervisor, loadgen, pkgagent } (absolute paths). */
function buildPeers({ log = (line) => process.stdout.write(`${line}\n`), only } = {}) {
  const go = findGo();
  if (!go) throw new Error('go is not installed (looked on PATH and in /usr/local/go/bin)');
  const result = { go };
  for (const peer of PEERS.filter((p) => !only || only.includes(p.name))) {
    const hash = peerHash(go, peer);
    const outDir = path.join(cacheRoot(), `${peer.name}-${hash}`);
    const out = path.join(outDir, peer.name);
    if (fs.existsSync(out)) {
      log(`interop: cached ${peer.name} ${out}`);
    } else {
      const started = Date.now();
      fs.mkdirSync(outDir, { recursive: true });
      const tmp = `${out}.tmp-${process.pid}`;
      const res = spawnSync(go, ['build', '-trimpath', '-ldflags=-s -w', '-o', tmp, peer.target], {
        cwd: path.join(interop, peer.dir),
        env: { ...goEnv(go), ...peer.env },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      if (res.status !== 0) {
        fs.rmSync(tmp, { force: true });
        throw new Error(`interop: building ${peer.name} failed:\n${res.stderr}${res.stdout}`);
      }
      fs.renameSync(tmp, out);
      log(`interop: built ${peer.name} ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    result[peer.name] = out;
  }
  return result;
}

module.exports = { buildPeers, findGo };

if (require.main === module) {
  try {
    const paths = buildPeers();
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(paths)}\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
