/** CPU time from /proc (Linux): who used the two cores during a phase. */
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ: clock ticks per second in /proc

/** utime + stime of a process, in seconds (NaN once it is gone). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return NaN;
  }
}

/** Busy CPU seconds of the whole machine (every core, everything but idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return (total - v[3]! - (v[4] ?? 0)) / TICKS;
}

export interface CpuSample {
  server: number;
  worker: number;
  agents: number;
  /** Per PostgreSQL backend of the benchmark's database (pid → seconds). */
  postgres: Map<number, number>;
  machine: number;
}

export function cpuSample(pids: { server: number; worker: number; agents: number[]; postgres: number[] }): CpuSample {
  return {
    server: processCpuSeconds(pids.server),
    worker: processCpuSeconds(pids.worker),
    agents: pids.agents.reduce((n, p) => n + processCpuSeconds(p), 0),
    postgres: new Map(pids.postgres.map((p) => [p, processCpuSeconds(p)])),
    machine: machineBusySeconds(),
  };
}

export interface CpuUsed {
  server: number;
  worker: number;
  agents: number;
  postgres: number;
  machine: number;
  /** The rest of the machine: PostgreSQL's own processes, Redis, this coordinator, anything else running. */
  others: number;
}

/** CPU seconds used between two samples (a backend that appeared in between counts from zero). */
export function cpuUsed(a: CpuSample, b: CpuSample): CpuUsed {
  let postgres = 0;
  for (const [pid, v] of b.postgres) {
    const before = a.postgres.get(pid) ?? 0;
    if (Number.isFinite(v) && Number.isFinite(before)) postgres += v - before;
  }
  const d = { server: b.server - a.server, worker: b.worker - a.worker, agents: b.agents - a.agents, postgres, machine: b.machine - a.machine };
  return { ...d, others: d.machine - d.server - d.worker - d.agents - d.postgres };
}
