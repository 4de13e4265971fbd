/** The values an expression works with: JSON's, nothing else. */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

export type ValueKind = 'string' | 'number' | 'boolean' | 'null' | 'list' | 'map' | 'unsupported';

/** What kind of value `v` is; anything that is not plain JSON (functions, Dates, NaN, ...) is `unsupported`. */
export function kindOf(v: unknown): ValueKind {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isFinite(v) ? 'number' : 'unsupported';
    case 'object': {
      if (Array.isArray(v)) return 'list';
      const proto = Object.getPrototypeOf(v) as unknown;
      return proto === Object.prototype || proto === null ? 'map' : 'unsupported';
    }
    default:
      return 'unsupported';
  }
}

/** An own property of a plain map (never the prototype chain: `constructor`, `__proto__`, ...). */
export function ownKey(map: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key);
}

export function show(v: unknown): string {
  const k = kindOf(v);
  if (k === 'string') {
    const s = v as string;
    return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
  }
  if (k === 'number' || k === 'boolean' || k === 'null') return String(v);
  return k === 'unsupported' ? 'an unsupported value' : `a ${k}`;
}
