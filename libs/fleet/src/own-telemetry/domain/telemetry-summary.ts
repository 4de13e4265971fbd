import type { ComponentKind, Measure, Signal } from './collector-metrics';
import { SIGNALS } from './collector-metrics';

/** What one component did for one signal over a window (pure view of rollup totals). */
export interface ComponentTelemetry {
  kind: ComponentKind;
  component: string;
  signal: Signal;
  accepted: number;
  refused: number;
  dropped: number;
  sent: number;
  sendFailed: number;
  /** The last queue size reported (exporters), or null. */
  queueSize: number | null;
}

/** Per signal, summed over components: counts and rates (per second over the window). */
export interface SignalTelemetry {
  signal: Signal;
  accepted: number;
  refused: number;
  dropped: number;
  sent: number;
  sendFailed: number;
  queueSize: number;
  acceptedPerSecond: number;
  sentPerSecond: number;
  /** sendFailed / (sent + sendFailed), or null without exports. */
  exportFailureRatio: number | null;
  /** dropped / accepted, or null without accepted items. */
  dropRatio: number | null;
}

export interface TotalRow {
  kind: ComponentKind;
  component: string;
  signal: Signal;
  measure: Measure;
  value: number;
}

/** Rollup totals → one row per component and signal. A processor's dropped items include incoming minus outgoing. */
export function componentTelemetry(totals: TotalRow[]): ComponentTelemetry[] {
  const byKey = new Map<string, ComponentTelemetry & { incoming: number; outgoing: number }>();
  for (const t of totals) {
    const key = `${t.kind}\u0000${t.component}\u0000${t.signal}`;
    let row = byKey.get(key);
    if (!row) byKey.set(key, (row = { kind: t.kind, component: t.component, signal: t.signal, accepted: 0, refused: 0, dropped: 0, sent: 0, sendFailed: 0, queueSize: null, incoming: 0, outgoing: 0 }));
    switch (t.measure) {
      case 'send_failed':
        row.sendFailed += t.value;
        break;
      case 'queue_size':
        row.queueSize = (row.queueSize ?? 0) + t.value;
        break;
      default:
        row[t.measure] += t.value;
    }
  }
  return [...byKey.values()]
    .map(({ incoming, outgoing, ...row }) => ({ ...row, dropped: row.dropped + Math.max(0, incoming - outgoing) }))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.component.localeCompare(b.component) || a.signal.localeCompare(b.signal));
}

/** Components → per-signal sums and rates over `windowSeconds`. */
export function signalTelemetry(components: ComponentTelemetry[], windowSeconds: number): SignalTelemetry[] {
  return SIGNALS.map((signal) => {
    const of = components.filter((c) => c.signal === signal);
    const sum = (f: (c: ComponentTelemetry) => number) => of.reduce((n, c) => n + f(c), 0);
    const accepted = sum((c) => c.accepted);
    const sent = sum((c) => c.sent);
    const sendFailed = sum((c) => c.sendFailed);
    const dropped = sum((c) => c.dropped);
    return {
      signal,
      accepted,
      refused: sum((c) => c.refused),
      dropped,
      sent,
      sendFailed,
      queueSize: sum((c) => c.queueSize ?? 0),
      acceptedPerSecond: round(accepted / windowSeconds),
      sentPerSecond: round(sent / windowSeconds),
      exportFailureRatio: sent + sendFailed > 0 ? round(sendFailed / (sent + sendFailed)) : null,
      dropRatio: accepted > 0 ? round(dropped / accepted) : null,
    };
  });
}

function round(n: number): number {
  return Math.round(n * 10000) / 10000;
}
