/**
 * Governance's push-time check for one rollout step, without the database (BENCHMARKS.md, "Policies
 * at a rollout step"): `PolicyPushCheck.check` for N agents shaped like bench/rollout's, with the 20
 * bench policies + both built-ins against none, alternating — evaluation, metrics and the span, i.e.
 * everything the check adds to a step besides its two reads. The policy store, tenant lookup and
 * audit writer are in-memory stand-ins (the database is not what this measures).
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/rollout/policy-check.ts [--agents 10000] [--rounds 5]
 */
import { parse } from 'yaml';
import { AuditService, DEFAULT_POLICY_SETTINGS, PolicyPushCheck, TenantService } from '@ampora/governance';

type PolicyRepository = ConstructorParameters<typeof PolicyPushCheck>[0];
import { median } from './figures';
import { BENCH_POLICIES, benchYaml } from './policies';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('agents', 10_000);
const rounds = arg('rounds', 5);
const TENANT = '00000000-0000-4000-8000-00000000b0b0';

let on = false;
const rows = BENCH_POLICIES.map((expression, i) => ({ id: `p${i}`, name: `bench-${i}`, expression }));
const repository = {
  settings: async () => (on ? { ...DEFAULT_POLICY_SETTINGS } : { ...DEFAULT_POLICY_SETTINGS, exporterSwap: false, insecureTlsExporter: false }),
  active: async () => (on ? rows : []),
} as unknown as PolicyRepository;
const tenants = { findById: async (id: string) => ({ id, name: 'default', displayName: 'default', createdAt: new Date(0) }) } as unknown as TenantService;
const audit = { record: async () => undefined } as unknown as AuditService;
const check = new PolicyPushCheck(repository, audit, tenants);

const config = parse(benchYaml(1));
const current = parse(benchYaml(0));
const targets = Array.from({ length: count }, (_x, i) => {
  const host = `bench-${String(i).padStart(5, '0')}`;
  return { agent: { id: `a${i}`, description: { 'host.name': host }, capabilities: ['AcceptsRemoteConfig', 'ReportsEffectiveConfig'], group: 'bench', labels: { 'host.name': host } }, currentConfig: current };
});

async function once(policies: boolean): Promise<number> {
  on = policies;
  const started = performance.now();
  const result = await check.check({ tenantId: TENANT, path: 'rollout-step', config, targets, versionId: 'v', rolloutId: 'r' });
  if (result.denied.size) throw new Error(`${result.denied.size} agents denied: the bench policies must allow every push`);
  return performance.now() - started;
}

async function main(): Promise<void> {
  await once(true); // warm-up
  const times = { none: [] as number[], policies: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    times.none.push(await once(false));
    times.policies.push(await once(true));
  }
  const fmt = (xs: number[]) => `${Math.round(median(xs))} ms (${xs.map(Math.round).join(', ')})`;
  // eslint-disable-next-line no-console
  console.log(`PolicyPushCheck.check, ${count} agents, ${rounds} rounds, medians:\n  none:                         ${fmt(times.none)}\n  20 policies + 2 built-ins:    ${fmt(times.policies)}`);
}

void main();
