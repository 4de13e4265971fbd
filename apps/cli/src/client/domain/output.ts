import { stringify } from 'yaml';

/** How `get` prints: a table (wide adds columns), or the API's objects as JSON or YAML. */
export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'wide', 'json', 'yaml'];

export interface Column<T = Record<string, unknown>> {
  header: string;
  value: (item: T, now: number) => string;
  /** Only with -o wide. */
  wide?: boolean;
}

export function parseOutputFormat(value: string | undefined): OutputFormat | undefined {
  const v = (value ?? 'table') as OutputFormat;
  return OUTPUT_FORMATS.includes(v) ? v : undefined;
}

/** `5s`, `3m`, `2h`, `4d` since `iso` (empty for none). */
export function age(iso: unknown, now: number): string {
  if (typeof iso !== 'string' || iso === '') return '';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (Number.isNaN(s)) return '';
  if (s < 120) return `${s}s`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)}m`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function renderTable<T>(items: readonly T[], columns: readonly Column<T>[], wide: boolean, now: number): string {
  const cols = columns.filter((c) => wide || !c.wide);
  const rows = [cols.map((c) => c.header), ...items.map((i) => cols.map((c) => oneLine(c.value(i, now))))];
  const widths = cols.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
  return rows.map((r) => r.map((cell, k) => (k === cols.length - 1 ? cell : cell.padEnd(widths[k]!))).join('   ').trimEnd()).join('\n') + '\n';
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ');

/** A list as the API answers it (`{ items }`) in JSON or YAML; a single object as itself. */
export function renderData(data: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(data, null, 2) + '\n' : stringify(data, { lineWidth: 0 });
}

export function render<T>(items: readonly T[], columns: readonly Column<T>[], format: OutputFormat, now: number): string {
  if (format === 'json' || format === 'yaml') return renderData({ items }, format);
  if (items.length === 0) return 'No resources found.\n';
  return renderTable(items, columns, format === 'wide', now);
}

/** `key=value,key=value` of a label map. */
export function labelText(labels: unknown): string {
  if (!labels || typeof labels !== 'object') return '';
  return Object.entries(labels as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(',');
}
