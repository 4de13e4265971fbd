/** "3 min ago" style, for timestamps in tables (the full time is in the title). */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (Number.isNaN(s)) return '—';
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function labelsText(labels: Record<string, unknown>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

export function percent(n: number, total: number): number {
  return total > 0 ? Math.round((n / total) * 100) : 0;
}
