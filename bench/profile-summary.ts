/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) by self time: the functions, and the files or
 * packages, where a process spent its samples, optionally only inside a window of the monotonic clock
 * (the heartbeat phase `bench:opamp` writes to its results as `heartbeatWindowUs`).
 *
 *   node -r ts-node/register/transpile-only bench/profile-summary.ts <file.cpuprofile> [--results <bench results.json>] [--top 30]
 *     [--from-us N --to-us N]   (a window printed by a bench, e.g. a bench:rollout phase)
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const file = args[0];
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--results results.json] [--top N]');
const top = Number(option('top') ?? 30);
const resultsFile = option('results');
const given = option('from-us') && option('to-us') ? { from: Number(option('from-us')), to: Number(option('to-us')) } : undefined;
const window = given ?? (resultsFile ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { heartbeatWindowUs?: { from: number; to: number } }).heartbeatWindowUs : undefined);

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** Where a frame's code lives: a package under node_modules, one of our files, or Node/V8 itself. */
function place(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1).replace(/^dist\/apps\/\w+\//, '') : url;
}

const self = new Map<number, number>();
let t = profile.startTime;
let total = 0;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0;
  if (window && (t < window.from || t > window.to)) return;
  const dt = profile.timeDeltas[i + 1] ?? 0; // the time until the next sample belongs to this one
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});

const fns = new Map<string, number>();
const places = new Map<string, number>();
for (const [id, us] of self) {
  const f = byId.get(id)!.callFrame;
  const key = `${f.functionName || '(anonymous)'}  ${place(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const p = f.url ? place(f.url) : f.functionName.startsWith('(') ? f.functionName : '(native)';
  places.set(p, (places.get(p) ?? 0) + us);
}

const pct = (us: number) => `${((100 * us) / Math.max(1, total)).toFixed(1).padStart(5)} %`;
const busy = total - (places.get('(idle)') ?? 0);
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled${given ? ' (the window given)' : window ? ' (heartbeat window)' : ''}, busy ${pct(busy)}`);
console.log('\nself time by place (package, file of ours, or V8 category)');
for (const [p, us] of [...places].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${p}`);
console.log('\nself time by function');
for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${f}`);
