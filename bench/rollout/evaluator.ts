/**
 * The policy evaluation of one rollout step alone, in one process, no database (BENCHMARKS.md,
 * "Policies at a rollout step"): `PushEvaluator.decide` for N agents shaped like bench/rollout's
 * (a distinct `host.name` label each, the same group and capabilities), with no policies and the
 * built-ins off, then the 20 bench policies + both built-ins with the per-agent memo off and on
 * (decision 0367), alternating.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/rollout/evaluator.ts [--agents 10000] [--rounds 5]
 */
import { parse } from 'yaml';
import { configView, DEFAULT_POLICY_SETTINGS as DEFAULT_POLICY_SETTINGS_FOR_BENCH, PushEvaluator } from '@ampora/governance';
import { median } from './figures';
import { BENCH_POLICIES, benchYaml } from './policies';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('agents', 10_000);
const rounds = arg('rounds', 5);

const next = configView(parse(benchYaml(1)));
const current = configView(parse(benchYaml(0)));
const agents = Array.from({ length: count }, (_x, i) => ({ id: `a${i}`, description: { 'host.name': `bench-${String(i).padStart(5, '0')}` }, capabilities: ['AcceptsRemoteConfig', 'ReportsEffectiveConfig'], group: 'bench', labels: { 'host.name': `bench-${String(i).padStart(5, '0')}` } }));
const policies = BENCH_POLICIES.map((expression, i) => ({ id: `p${i}`, name: `bench-${i}`, expression }));
const context = { agent: agents[0]!, config: next, tenant: 'default' };
const now = () => performance.now();

function step(side: 'none' | 'plain' | 'memo'): number {
  const started = performance.now();
  const evaluator =
    side === 'none'
      ? new PushEvaluator({ context, policies: [], settings: { ...DEFAULT_POLICY_SETTINGS_FOR_BENCH, exporterSwap: false, insecureTlsExporter: false }, now })
      : new PushEvaluator({ context, policies, settings: DEFAULT_POLICY_SETTINGS_FOR_BENCH, now, memoizeAgents: side === 'memo' });
  let denied = 0;
  for (const a of agents) if (!evaluator.decide(a, current).allowed) denied++;
  if (denied) throw new Error(`${denied} agents denied: the bench policies must allow every push`);
  return performance.now() - started;
}

const times = { none: [] as number[], plain: [] as number[], memo: [] as number[] };
step('memo'); // warm-up
for (let r = 0; r < rounds; r++) for (const side of ['none', 'plain', 'memo'] as const) times[side].push(step(side));
const fmt = (xs: number[]) => `${Math.round(median(xs))} ms (${xs.map(Math.round).join(', ')})`;
// eslint-disable-next-line no-console
console.log(`${count} agents × ${policies.length} policies + 2 built-ins, ${rounds} rounds, medians:\n  none:        ${fmt(times.none)}\n  memo off:    ${fmt(times.plain)}\n  memo on:     ${fmt(times.memo)}`);
