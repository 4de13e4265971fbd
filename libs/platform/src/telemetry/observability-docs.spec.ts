import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { METRIC_CATALOGUE } from './catalogue';

const DOCS = join(__dirname, '../../../../docs/observability');
const CATALOGUE = METRIC_CATALOGUE as Record<string, { kind: string; labels: readonly string[] }>;

/** A metric a PromQL expression names, resolved to its catalogue entry (histogram series to their family). */
function catalogueName(series: string): string | undefined {
  if (CATALOGUE[series]) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return base !== series && CATALOGUE[base]?.kind === 'histogram' ? base : undefined;
}

/**
 * What is wrong with one PromQL expression against the catalogue: a metric it names that is not in
 * the catalogue, a label matched on a metric that does not carry it, a grouping label (`by`, `on`,
 * `without`, `ignoring`) or a template label (`{{x}}`, `$labels.x`) that not every metric of the
 * expression carries (`le` is allowed when every metric is a histogram's bucket series).
 */
function promqlProblems(expr: string, templates: string[] = []): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b((?:ampora|http_server)_[a-z0-9_]+)\b(\{[^}]*\})?/g)) {
    const name = catalogueName(m[1]!);
    if (!name) {
      problems.push(`${m[1]} is not in the catalogue`);
      continue;
    }
    names.add(name);
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      if (!CATALOGUE[name]!.labels.includes(l[1]!)) problems.push(`${name} has no label ${l[1]}`);
    }
  }
  const buckets = [...expr.matchAll(/\b((?:ampora|http_server)_[a-z0-9_]+)\b/g)].every((m) => m[1]!.endsWith('_bucket'));
  const grouping = [...expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()).filter(Boolean));
  for (const label of [...grouping, ...templates]) {
    if (label === 'le' && buckets) continue;
    for (const name of names) if (!CATALOGUE[name]!.labels.includes(label)) problems.push(`${name} has no label ${label} (used as ${templates.includes(label) ? 'a template label' : 'a grouping label'})`);
  }
  return [...new Set(problems)];
}

const templateLabels = (text: string | undefined) => [...(text ?? '').matchAll(/\{\{\s*\$?(?:labels\.)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);

describe('docs/observability: every metric and label they use is in the catalogue', () => {
  it('finds a wrong metric or label (the check can fail)', () => {
    expect(promqlProblems('sum by (tenant) (rate(ampora_opamp_frames_rejected_total{reason="oversize"}[5m]))')).toEqual([]);
    expect(promqlProblems('rate(ampora_opamp_frames_dropped_total[5m])')).toEqual(['ampora_opamp_frames_dropped_total is not in the catalogue']);
    expect(promqlProblems('sum by (agent_id) (ampora_dispatch_local_total{tenant="a"})')).toEqual(['ampora_dispatch_local_total has no label agent_id (used as a grouping label)']);
    expect(promqlProblems('ampora_rollout_gate_fired_total{rollout_id="x"}')).toEqual(['ampora_rollout_gate_fired_total has no label rollout_id']);
    expect(promqlProblems('sum by (tenant) (ampora_db_pool_open_connections)')).toEqual(['ampora_db_pool_open_connections has no label tenant (used as a grouping label)']);
    expect(promqlProblems('ampora_live_bus_dropped_total', ['gate'])).toEqual(['ampora_live_bus_dropped_total has no label gate (used as a template label)']);
    expect(promqlProblems('histogram_quantile(0.9, sum by (le) (rate(ampora_dispatch_envelope_age_seconds_bucket[5m])))')).toEqual([]);
  });

  it('the alerting rules', () => {
    const doc = parse(readFileSync(join(DOCS, 'ampora-alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string; annotations?: Record<string, string> }> }> };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(8);
    const problems = rules.flatMap((r) => promqlProblems(r.expr, Object.values(r.annotations ?? {}).flatMap(templateLabels)).map((p) => `${r.alert}: ${p}`));
    expect(problems).toEqual([]);
    // the list: sessions, frame rejections by reason, no-session rate, envelope age, bus drops, gate firings, CRL publish age, DB pool saturation
    const all = rules.map((r) => r.expr).join('\n');
    for (const m of ['ampora_opamp_active_sessions', 'ampora_opamp_frames_rejected_total', 'ampora_dispatch_no_session_total', 'ampora_dispatch_envelope_age_seconds', 'ampora_live_bus_dropped_total', 'ampora_rollout_gate_fired_total', 'ampora_pki_crl_publish_duration_seconds', 'ampora_db_pool_busy_connections']) expect(all).toContain(m);
  });

  it('the Grafana dashboard', () => {
    const dashboard = JSON.parse(readFileSync(join(DOCS, 'ampora-dashboard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string; legendFormat?: string }> }>;
      templating: { list: Array<{ name: string; query: string | Record<string, unknown> }> };
    };
    const problems = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => promqlProblems(t.expr, templateLabels(t.legendFormat)).map((x) => `${p.title}: ${x}`)));
    for (const v of dashboard.templating.list) {
      const m = typeof v.query === 'string' ? /label_values\(([a-z0-9_]+),\s*([a-z_]+)\)/.exec(v.query) : null;
      if (m) problems.push(...promqlProblems(`sum by (${m[2]}) (${m[1]})`).map((x) => `variable ${v.name}: ${x}`));
    }
    expect(problems).toEqual([]);
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(12);
  });
});
