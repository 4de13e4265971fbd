const REPLACEMENT = '\uFFFD';

/** Text PostgreSQL can store in text and jsonb: NUL and lone UTF-16 surrogates become U+FFFD. */
export function storableText(s: string): string {
  let out: string[] | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let bad = c === 0;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (out) out.push(s[i]!, s[i + 1]!);
        i++;
        continue;
      }
      bad = true;
    } else if (c >= 0xdc00 && c <= 0xdfff) bad = true;
    if (bad && !out) out = [s.slice(0, i)];
    if (out) out.push(bad ? REPLACEMENT : s[i]!);
  }
  return out ? out.join('') : s;
}

/**
 * A JSON value PostgreSQL can store (keys and strings through `storableText`). Audit events record
 * what requests and agents carried, which edge validation does not always see (a CSR's subject is
 * only there in DER), so the writer makes it storable instead of failing the transaction.
 */
export function storable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storable);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[storableText(k)] = storable(v);
  return out;
}
