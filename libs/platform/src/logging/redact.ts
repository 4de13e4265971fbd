const SENSITIVE_KEYS = new Set([
  'token',
  'password',
  'passwd',
  'secret',
  'authorization',
  'privatekey',
  'masterkey',
  'previousmasterkey',
  'pin',
  'cookie',
  'setcookie',
  'credential',
  'credentials',
  'apikey',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'bootstraptoken',
  'clientsecret',
  'key',
]);

export const REDACTED = '[REDACTED]';

/** True when a property name says its value is a secret (token, password, private key, ...). */
export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SENSITIVE_KEYS.has(k) || k.endsWith('secret') || k.endsWith('password') || k.endsWith('privatekey');
}

const PATTERNS: Array<[RegExp, string]> = [
  [/amp-(pat|bs)\.[A-Z2-7]{4,}(?:\.[A-Z2-7]*)?/g, 'amp-$1.[REDACTED]'],
  [/-----BEGIN ((?:[A-Z]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g, '[REDACTED PRIVATE KEY]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED]'],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[REDACTED JWT]'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/\s]+@/gi, '$1:[REDACTED]@'],
];

/** Removes anything that looks like a secret from free text. */
export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** Deep copy of a value with sensitive keys replaced and secret-looking strings scrubbed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSensitiveKey(k) && v !== null && v !== undefined ? REDACTED : redactValue(v, depth + 1);
  }
  return out;
}
