import { ExitCode } from '../exit-codes';

/** The parts of GET /api/rollouts/{id} the status view draws. */
export interface RolloutCounts {
  pending: number;
  applying: number;
  applied: number;
  failed: number;
  skipped: number;
  disconnectedSincePush: number;
  total: number;
}
export interface RolloutView {
  id: string;
  name: string;
  state: string;
  currentStep: number | null;
  stepCount: number;
  waitingFor: string | null;
  dwellUntil: string | null;
  gates: Record<string, number>;
  gate: { gate: string; observed: number; threshold: number; numerator: number; denominator: number; step: number; at: string } | null;
  counts: RolloutCounts;
  steps: Array<{ index: number; agents: number; settledAt: string | null; counts: RolloutCounts }>;
}

/**
 * The exit code of a rollout that has reached an end a pipeline waits for (decision 0351), or null
 * while it is still running (a rollout an operator paused may be resumed: still running).
 */
export function rolloutExitCode(r: Pick<RolloutView, 'state' | 'gate' | 'currentStep'>): ExitCode | null {
  switch (r.state) {
    case 'Completed':
      return ExitCode.Ok;
    case 'Failed':
      return ExitCode.RolloutFailed;
    case 'RolledBack':
      return ExitCode.RolloutRolledBack;
    case 'Paused':
      return pausedByGate(r) ? ExitCode.RolloutPausedByGate : null;
    default:
      return null;
  }
}

export function pausedByGate(r: Pick<RolloutView, 'state' | 'gate' | 'currentStep'>): boolean {
  return r.state === 'Paused' && r.gate !== null && r.gate.step === r.currentStep;
}

/** `[########------------]` for done/total. */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

const ratio = (n: number, d: number) => (d > 0 ? n / d : 0);
const fixed = (x: number) => x.toFixed(2);

/** Live gate values of the current step against their thresholds (what the gates would judge now). */
export function gateLines(r: RolloutView): string[] {
  const step = r.steps.find((s) => s.index === r.currentStep);
  if (!step) return [];
  const c = step.counts;
  const reached = c.applied + c.failed + c.applying;
  const lines = [
    ['apply-failed', ratio(c.failed, reached), c.failed, reached, r.gates.applyFailedRatio],
    ['disconnect', ratio(c.disconnectedSincePush, reached), c.disconnectedSincePush, reached, r.gates.disconnectRatio],
  ] as const;
  return lines.filter(([, , , , t]) => t !== undefined).map(([name, value, n, d, t]) => `  gate ${name.padEnd(12)} ${fixed(value)} (${n}/${d}) trips above ${fixed(t!)}${value > t! ? '  BREACHED' : ''}`);
}

/** The status block `rollout status` prints (and redraws with --watch). */
export function renderRollout(r: RolloutView, now: number): string {
  const step = r.currentStep === null ? '-' : `${r.currentStep + 1}/${r.stepCount}`;
  const waiting = r.state === 'InProgress' && r.waitingFor ? `  waiting for ${r.waitingFor}${r.waitingFor === 'dwell' && r.dwellUntil ? ` (${Math.max(0, Math.ceil((Date.parse(r.dwellUntil) - now) / 1000))}s left)` : ''}` : '';
  const out = [`rollout ${r.name} (${r.id})  ${r.state}  step ${step}${waiting}`];
  for (let i = 0; i < r.stepCount; i++) {
    const s = r.steps.find((x) => x.index === i);
    if (!s) {
      out.push(`  step ${String(i + 1).padStart(2)} ${progressBar(0, 1)} not started`);
      continue;
    }
    const c = s.counts;
    const state = s.settledAt ? 'settled' : i === r.currentStep ? 'running' : '';
    out.push(`  step ${String(i + 1).padStart(2)} ${progressBar(c.applied + c.failed + c.skipped, c.total)} ${c.applied}/${c.total} applied, ${c.failed} failed, ${c.skipped} skipped, ${c.applying} applying  ${state}`.trimEnd());
  }
  out.push(...gateLines(r));
  if (r.gate) out.push(`  last gate breach: ${r.gate.gate} ${fixed(r.gate.observed)} (${r.gate.numerator}/${r.gate.denominator}) > ${fixed(r.gate.threshold)} in step ${r.gate.step + 1}`);
  return out.join('\n') + '\n';
}
