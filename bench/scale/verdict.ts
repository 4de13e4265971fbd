/**
 * Figures of bench/scale with their targets (issue 23) and the noise measured in the same run.
 *
 * A figure is the median of its samples (windows of one phase, rounds of a push, instances, client
 * processes); its noise is the largest relative distance of a sample from that median. A figure
 * misses its target when it is worse than the target by more than that noise: for `<=`/`<` targets,
 * value > target × (1 + noise); for `>=`, value < target × (1 − noise). Counts that must be zero
 * (sessions lost, failed pushes) have no noise. A target may apply only from a fleet size on (the
 * 5 s rollout is a figure for 10,000 agents); below it the figure is printed and not judged.
 */
import { fmt } from '../lib/stats';

export interface Target {
  op: '<=' | '<' | '>=' | '==';
  value: number;
  /** The target is judged only when the run has at least this many agents. */
  fromAgents?: number;
}

export interface Figure {
  item: number;
  name: string;
  unit: string;
  samples: number[];
  /** The figure itself when it is not the median of its samples (a p99 over every sample, say). */
  value?: number;
  target?: Target;
  /** A baseline of the same run or the figure before this work, as text. */
  baseline?: string;
  note?: string;
}

export interface Judged extends Figure {
  value: number;
  noise: number;
  verdict: 'pass' | 'MISS' | 'not judged' | 'no target';
}

/** The median; NaN samples (not measured) are left out, infinite ones (timed out) count. */
export function medianOf(samples: number[]): number {
  const s = samples.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : s[m - 1]! === s[m]! ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Largest relative distance of a finite sample from the median (0 with fewer than two of them). */
export function noiseOf(samples: number[]): number {
  const s = samples.filter(Number.isFinite);
  const m = medianOf(s);
  if (s.length < 2 || !m) return 0;
  return Math.max(...s.map((x) => Math.abs(x - m) / Math.abs(m)));
}

export function judge(f: Figure, agents: number): Judged {
  const value = f.value ?? medianOf(f.samples);
  const noise = f.target?.op === '==' ? 0 : noiseOf(f.samples);
  if (!f.target) return { ...f, value, noise, verdict: 'no target' };
  if (f.target.fromAgents && agents < f.target.fromAgents) return { ...f, value, noise, verdict: 'not judged' };
  // no sample and no value: the run left the phase out (`--rounds 0`), which is not a miss
  if (f.value === undefined && f.samples.length === 0) return { ...f, value, noise, verdict: 'not judged' };
  if (!Number.isFinite(value)) return { ...f, value, noise, verdict: 'MISS' };
  const t = f.target.value;
  // noise of 100 % or more says nothing about the target (a rate ≥ 1,000 "passed" at 112/s with
  // ±141 %): such a figure is judged on its value alone
  const slack = noise < 1 ? noise : 0;
  const ok =
    f.target.op === '==' ? value === t : f.target.op === '>=' ? value >= t * (1 - slack) : f.target.op === '<' ? value < t * (1 + slack) : value <= t * (1 + slack);
  return { ...f, value, noise, verdict: ok ? 'pass' : 'MISS' };
}

export function targetText(t: Target | undefined): string {
  if (!t) return '—';
  const op = { '<=': '≤', '<': '<', '>=': '≥', '==': '=' }[t.op];
  return `${op} ${fmt(t.value, t.value < 10 ? 2 : 1)}${t.fromAgents ? ` (from ${t.fromAgents.toLocaleString('en-US')} agents)` : ''}`;
}

/** The figures as a Markdown table (what BENCHMARKS.md shows). */
export function table(judged: Judged[]): string {
  const lines = ['| item | figure | value | target | noise (±) | verdict | baseline / note |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const j of judged) {
    const digits = Math.abs(j.value) < 10 ? 2 : 1;
    const value = j.value !== 0 && Math.abs(j.value) < 0.01 ? j.value.toExponential(2) : fmt(j.value, digits);
    lines.push(`| ${j.item} | ${j.name} | ${value} ${j.unit} | ${targetText(j.target)} | ${(j.noise * 100).toFixed(0)} % (${j.samples.length}) | ${j.verdict} | ${[j.baseline, j.note].filter(Boolean).join('; ')} |`);
  }
  return lines.join('\n');
}
