import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@ampora/testing';

/**
 * The reliability suite's scale knob (decision 0240): `AMPORA_RELIABILITY_FULL=1` runs the counts of
 * issue 16 (what RELIABILITY.md reports); the default run inside `npm test` uses small counts that
 * still assert every property.
 */
export const FULL = process.env.AMPORA_RELIABILITY_FULL === '1';

/** The full count, or the quick one of the default run. */
export function scaled(full: number, quick: number): number {
  return FULL ? full : quick;
}

/** One row of the table: a probe, what was sent, what the count must be, and what was measured. */
export interface Figure {
  probe: string;
  sent: string;
  must: string;
  measured: string;
  ok: boolean;
}

/**
 * The table a reliability file prints (and writes to .test-results/reliability/<name>.json): one
 * row per probe; `failures()` lists the rows whose measured count is not what it must be.
 */
export class Figures {
  readonly rows: Figure[] = [];
  constructor(readonly name: string) {}

  /** A count that must be exactly `expected` (0 for "none"). */
  exact(probe: string, sent: string, expected: number, measured: number): void {
    this.rows.push({ probe, sent, must: expected === 0 ? '0' : `= ${fmt(expected)}`, measured: fmt(measured), ok: measured === expected });
  }

  /** A measurement that must not exceed `limit` (in `unit`). */
  atMost(probe: string, sent: string, limit: number, measured: number, unit = ''): void {
    this.rows.push({ probe, sent, must: `≤ ${fmt(limit)}${unit}`, measured: `${fmt(measured)}${unit}`, ok: measured <= limit });
  }

  /** A measurement that must be at least `limit`. */
  atLeast(probe: string, sent: string, limit: number, measured: number, unit = ''): void {
    this.rows.push({ probe, sent, must: `≥ ${fmt(limit)}${unit}`, measured: `${fmt(measured)}${unit}`, ok: measured >= limit });
  }

  /**
   * A latency bound (a count of late answers, a p99) that is not judged while the machine is
   * oversubscribed by others (decision 0241): the row then says so and shows what was measured.
   */
  timing(kind: 'exact' | 'atMost', probe: string, sent: string, bound: number, measured: number, unit = ''): void {
    if (kind === 'exact') this.exact(probe, sent, bound, measured);
    else this.atMost(probe, sent, bound, measured, unit);
    const load = machineLoad();
    if (load.overloaded) {
      const row = this.rows[this.rows.length - 1]!;
      if (!row.ok) row.measured += ` (not judged: load average ${load.average.toFixed(1)} on ${load.cores} cores)`;
      row.ok = true;
    }
  }

  failures(): Figure[] {
    return this.rows.filter((r) => !r.ok);
  }

  /** Prints the table (Markdown, as in RELIABILITY.md) and keeps it as JSON for the report. */
  publish(): string {
    const date = new Date().toISOString().slice(0, 10);
    const lines = [
      `reliability: ${this.name} (${FULL ? 'full counts' : 'quick counts; AMPORA_RELIABILITY_FULL=1 for the full ones'})`,
      '| probe | sent | must be | measured | date |',
      '| --- | --- | --- | --- | --- |',
      ...this.rows.map((r) => `| ${r.probe} | ${r.sent} | ${r.must} | ${r.measured}${r.ok ? '' : ' ✗'} | ${date} |`),
    ];
    const text = lines.join('\n');
    process.stdout.write(`${text}\n`);
    const dir = join(REPO_ROOT, '.test-results', 'reliability');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.name}.json`), JSON.stringify({ name: this.name, full: FULL, date: new Date().toISOString(), rows: this.rows }, null, 2));
    return text;
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(1);
}

/** The p-th percentile (0–100) of `values` (0 for none). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The one-minute load average per core above which latency bounds are not judged. */
export const OVERLOAD_PER_CORE = 2;

export function machineLoad(): { average: number; cores: number; overloaded: boolean } {
  const average = loadavg()[0]!;
  const cores = cpus().length;
  return { average, cores, overloaded: average / cores > OVERLOAD_PER_CORE };
}
