/**
 * Label and field selectors in the kubectl form: `env=prod,tier!=web,canary,!legacy` (comma = and).
 * Labels are read from the item's `labels` (and, for agents, `tags`); fields by dotted path.
 */
export type Requirement =
  | { key: string; op: '=' | '!='; value: string }
  | { key: string; op: 'exists' | '!exists' };

export class SelectorError extends Error {}

const KEY = /^[A-Za-z0-9_.\-/]+$/;

export function parseSelector(text: string | undefined): Requirement[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const m = /^([^=!]+?)\s*(==|!=|=)\s*(.*)$/.exec(part);
    if (m) {
      const key = m[1]!.trim();
      if (!KEY.test(key)) throw new SelectorError(`selector: ${JSON.stringify(key)} is not a key`);
      return { key, op: m[2] === '!=' ? '!=' : '=', value: m[3]!.trim() };
    }
    const negated = part.startsWith('!');
    const key = negated ? part.slice(1).trim() : part;
    if (!key || !KEY.test(key)) throw new SelectorError(`selector: cannot read ${JSON.stringify(part)} (use key=value, key!=value, key or !key)`);
    return { key, op: negated ? '!exists' : 'exists' };
  });
}

/** The value at a dotted path (`assignment.version`), or undefined. */
export function fieldValue(item: unknown, path: string): unknown {
  let cur: unknown = item;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

const text = (v: unknown): string => (v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function satisfies(value: unknown, r: Requirement): boolean {
  const present = value !== undefined;
  switch (r.op) {
    case 'exists':
      return present;
    case '!exists':
      return !present;
    case '=':
      return present && text(value) === r.value;
    case '!=':
      return !present || text(value) !== r.value;
  }
}

function labelsOf(item: unknown): Record<string, unknown> {
  const o = (item ?? {}) as { labels?: Record<string, unknown>; tags?: Record<string, unknown> };
  return { ...(o.tags ?? {}), ...(o.labels ?? {}) };
}

export function matchesLabels(item: unknown, reqs: Requirement[]): boolean {
  const labels = labelsOf(item);
  return reqs.every((r) => satisfies(Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined, r));
}

export function matchesFields(item: unknown, reqs: Requirement[]): boolean {
  return reqs.every((r) => satisfies(fieldValue(item, r.key), r));
}

/** A filter for list items from `--selector` and `--field-selector` texts. */
export function selectorFilter(labelSelector?: string, fieldSelector?: string): (item: unknown) => boolean {
  const labels = parseSelector(labelSelector);
  const fields = parseSelector(fieldSelector);
  return (item) => matchesLabels(item, labels) && matchesFields(item, fields);
}
