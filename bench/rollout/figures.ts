/** bench/rollout's figures: a phase's measurements, what rollout_targets says of a rollout, and their report lines. */
import { cpus } from 'node:os';
import { Client } from 'pg';
import { fmt, percentile } from '../lib/stats';
import { CpuUsed } from './cpu';

/** An engine push → Applied longer than this was not caught by the agent's status event. */
export const LATE_MS = 2000;

/** The median (the mean of the two middle values for an even count: two baselines around a rollout). */
export function median(xs: number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export interface EngineFigures {
  targets: Record<string, number>;
  /** rollout_targets.applied_at − pushed_at. */
  pushToAppliedMs: { p50: number; p99: number; max: number };
  /** Targets whose Applied was recorded more than LATE_MS after their push (not by their status event). */
  lateApplied: number;
  /** When those late Applied were recorded (ms after the start call): min, max. */
  lateRecordedMs: { min: number; max: number };
  startedAtMs: number;
  firstPushMs: number;
  lastPushMs: number;
  lastAppliedMs: number;
  stepSettledMs: number;
  /** The push loop, chunk by chunk (medians): see chunkBreakdown. */
  chunks: ChunkBreakdown;
}

export interface ChunkBreakdown {
  size: number;
  count: number;
  cycleMs: number;
  beforeFirstReceiptMs: number;
  receiptSpreadMs: number;
  afterLastReceiptMs: number;
  pushesPerSecond: number;
}

export interface Phase {
  kind: 'assignment' | 'rollout';
  index: number;
  version: number;
  /** The start call (PUT assignment / POST start): its answer, and how long it took. */
  callMs: number;
  call: unknown;
  /** Agents that received the version, and when (ms after the start call was sent). */
  received: number;
  receivedMs: { first: number; p50: number; p99: number; last: number };
  /** Agents reached per second between the first and the last receipt. */
  reachPerSecond: number;
  /** Every agent row in PostgreSQL says APPLIED for the version's hash (polled every 100 ms). */
  allAppliedInDbMs: number;
  /** Server-side push → APPLIED, from the histogram (estimate within its buckets). */
  serverPushToApplied: { count: number; p50Ms: number; p99Ms: number };
  /** Rollout only. */
  completedMs?: number;
  completedSeenByApiMs?: number;
  apiGetMs?: { p50: number; max: number; calls: number };
  finalState?: string;
  engine?: EngineFigures;
  /** CPU seconds used from the start call until everything was done. */
  cpu: CpuUsed & { wallSeconds: number };
  /** The phase on the monotonic clock (µs), as in CPU profiles: `profile-summary.ts --from-us … --to-us …`. */
  windowUs: { from: number; to: number };
  timedOut: boolean;
  /** --policies: the Active custom policies (plus the two built-ins) during this rollout, 0 for none. */
  policies?: number;
}

/** What rollout_targets says about the run, and where the push loop's time went, chunk by chunk. */
export async function engineFigures(pg: Client, rolloutId: string, t0: number, receivedAt: Map<string, number>, startedAtMs: number, stepSettledMs: number): Promise<EngineFigures> {
  const { rows } = await pg.query<{ agent_id: string; state: string; position: number; pushed: number | null; applied: number | null }>(
    `SELECT agent_id, state, position, extract(epoch FROM pushed_at) * 1000 AS pushed, extract(epoch FROM applied_at) * 1000 AS applied FROM rollout_targets WHERE rollout_id = $1 ORDER BY position`,
    [rolloutId],
  );
  const targets: Record<string, number> = {};
  for (const x of rows) targets[x.state] = (targets[x.state] ?? 0) + 1;
  const pushed = rows.filter((x) => x.pushed !== null).map((x) => Number(x.pushed) - t0);
  const appliedAt = rows.filter((x) => x.applied !== null).map((x) => Number(x.applied) - t0);
  const latency = rows.filter((x) => x.pushed !== null && x.applied !== null).map((x) => Number(x.applied) - Number(x.pushed));
  const late = rows.filter((x) => x.pushed !== null && x.applied !== null && Number(x.applied) - Number(x.pushed) > LATE_MS).map((x) => Number(x.applied) - t0);
  // the chunk size: most targets share their chunk's recorded push time
  const sharing = new Map<number, number>();
  for (const x of rows) if (x.pushed !== null) sharing.set(Number(x.pushed), (sharing.get(Number(x.pushed)) ?? 0) + 1);
  const sizes = new Map<number, number>();
  for (const n of sharing.values()) sizes.set(n, (sizes.get(n) ?? 0) + 1);
  const size = [...sizes].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 1;
  const cycles: number[] = [];
  const before: number[] = [];
  const spread: number[] = [];
  const after: number[] = [];
  let previous = startedAtMs;
  for (let i = 0; i < rows.length; i += size) {
    const chunk = rows.slice(i, i + size);
    const recorded = Math.max(...chunk.map((x) => (x.pushed === null ? -Infinity : Number(x.pushed) - t0)));
    const got = chunk.map((x) => receivedAt.get(x.agent_id)).filter((v): v is number => v !== undefined);
    if (!Number.isFinite(recorded) || got.length === 0) continue;
    cycles.push(recorded - previous);
    before.push(Math.min(...got) - previous);
    spread.push(Math.max(...got) - Math.min(...got));
    after.push(recorded - Math.max(...got));
    previous = recorded;
  }
  return {
    targets,
    pushToAppliedMs: { p50: percentile(latency, 50), p99: percentile(latency, 99), max: Math.max(...latency) },
    lateApplied: late.length,
    lateRecordedMs: { min: Math.min(...late), max: Math.max(...late) },
    startedAtMs,
    firstPushMs: Math.min(...pushed),
    lastPushMs: Math.max(...pushed),
    lastAppliedMs: Math.max(...appliedAt),
    stepSettledMs,
    chunks: {
      size,
      count: cycles.length,
      cycleMs: median(cycles),
      beforeFirstReceiptMs: median(before),
      receiptSpreadMs: median(spread),
      afterLastReceiptMs: median(after),
      pushesPerSecond: pushed.length / ((Math.max(...pushed) - Math.min(...pushed)) / 1000),
    },
  };
}

export function report(p: Phase): void {
  const s = (ms: number) => `${fmt(ms / 1000, 2)} s`;
  console.log(
    `    ${p.received} agents got it: first ${s(p.receivedMs.first)}, p50 ${s(p.receivedMs.p50)}, p99 ${s(p.receivedMs.p99)}, last ${s(p.receivedMs.last)} (${fmt(p.reachPerSecond)}/s); every row APPLIED at ${s(p.allAppliedInDbMs)}` +
      `; server push → APPLIED p50 ≈ ${fmt(p.serverPushToApplied.p50Ms)} ms, p99 ≈ ${fmt(p.serverPushToApplied.p99Ms)} ms (${p.serverPushToApplied.count}); start call ${fmt(p.callMs)} ms ${JSON.stringify(p.call)}`,
  );
  const c = p.cpu;
  console.log(`    CPU seconds over ${fmt(c.wallSeconds, 1)} s: server ${fmt(c.server, 1)}, worker ${fmt(c.worker, 1)}, PostgreSQL ${fmt(c.postgres, 1)}, agents ${fmt(c.agents, 1)}, rest of the machine ${fmt(c.others, 1)} (machine busy ${fmt(c.machine, 1)} of ${fmt(cpus().length * c.wallSeconds, 1)} core-seconds); monotonic µs ${p.windowUs.from}–${p.windowUs.to}`);
  const e = p.engine;
  if (e) {
    console.log(
      `    rollout ${p.finalState} at ${s(p.completedMs ?? NaN)} (seen by GET at ${s(p.completedSeenByApiMs ?? NaN)}); started_at ${s(e.startedAtMs)}, pushes recorded ${s(e.firstPushMs)} → ${s(e.lastPushMs)}, last Applied recorded ${s(e.lastAppliedMs)}, step settled ${s(e.stepSettledMs)}\n` +
        `    engine push → Applied p50 ${fmt(e.pushToAppliedMs.p50)} ms, p99 ${fmt(e.pushToAppliedMs.p99)} ms, max ${fmt(e.pushToAppliedMs.max)} ms (${e.lateApplied} later than ${LATE_MS / 1000} s, recorded between ${s(e.lateRecordedMs.min)} and ${s(e.lateRecordedMs.max)}); targets ${JSON.stringify(e.targets)}\n` +
        `    push loop: ${e.chunks.count} chunks of ${e.chunks.size}, one every ${fmt(e.chunks.cycleMs)} ms: ${fmt(e.chunks.beforeFirstReceiptMs)} ms to its first agent, ${fmt(e.chunks.receiptSpreadMs)} ms first → last agent, ${fmt(e.chunks.afterLastReceiptMs)} ms last agent → recorded; GET p50 ${fmt(p.apiGetMs?.p50 ?? NaN)} ms`,
    );
  }
}
