/** Small statistics helpers for benchmarks (percentiles over raw samples, no binning). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: number[]) => percentile(samples, 50);

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

export function rssBytes(pid: number): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const status: string = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : NaN;
}

/**
 * CPU seconds (user + system, every thread: JS, GC, libuv) a process has used so far, from
 * /proc/<pid>/stat (clock ticks of 10 ms). The difference of two readings over a phase, divided by the
 * frames handled in it, is the process's CPU time per frame: a figure a busy shared machine bends far
 * less than frames/s, since it does not count the time the process waited for a core.
 */
export function cpuSeconds(pid: number): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const stat: string = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (14th, 15th), USER_HZ = 100
}

/** CPU seconds used so far by every process whose command name (`/proc/<pid>/comm`) is `comm` (PostgreSQL's backends: `postgres`). */
export function cpuSecondsOf(comm: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fs = require('node:fs') as typeof import('node:fs');
  let total = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) total += cpuSeconds(Number(pid));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** The 1-minute load average, to print beside figures taken on a shared machine. */
export function loadAverage(): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:os') as typeof import('node:os')).loadavg()[0]!;
}

export function machine(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const os = require('node:os') as typeof import('node:os');
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}${somaxconn()}`;
}

/** The kernel's cap on a listen backlog (decision 0450): a storm of more connections than this waits on SYN retransmissions. */
function somaxconn(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const value = (require('node:fs') as typeof import('node:fs')).readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim();
    return `, net.core.somaxconn ${value}`;
  } catch {
    return '';
  }
}
