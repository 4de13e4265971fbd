/**
 * A small, typed reader over an environment map. Every variable is read through one of these
 * helpers so that a single pass can collect every problem and report them together.
 */
export interface EnvIssue {
  variable: string;
  problem: string;
}

export class EnvReader {
  readonly issues: EnvIssue[] = [];

  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly secretNames: ReadonlySet<string> = new Set(),
  ) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  isSet(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.fail(name, `expected an integer between ${min} and ${max}`, value);
      return fallback;
    }
    const n = Number(value);
    if (n < min || n > max) {
      this.fail(name, `expected an integer between ${min} and ${max}`, value);
      return fallback;
    }
    return n;
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    return this.raw(name) === undefined ? undefined : this.int(name, min, min, max);
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const v = value.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    this.fail(name, 'expected true or false', value);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (!match) {
      this.fail(name, `expected one of ${allowed.join(', ')}`, value);
      return fallback;
    }
    return match;
  }

  url(name: string, protocols: readonly string[], fallback: string): string;
  url(name: string, protocols: readonly string[]): string | undefined;
  url(name: string, protocols: readonly string[], fallback?: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
        this.fail(name, `expected a URL with scheme ${protocols.join(' or ')}`, value);
        return fallback;
      }
      return value;
    } catch {
      this.fail(name, 'expected a URL', value);
      return fallback;
    }
  }

  /** A base64 value that must decode to exactly `bytes` bytes. */
  base64Key(name: string, bytes: number): Buffer | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const decoded = /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : Buffer.alloc(0);
    if (decoded.length !== bytes) {
      this.fail(name, `expected ${bytes} random bytes, base64-encoded`, value);
      return undefined;
    }
    return decoded;
  }

  require(name: string, why: string): void {
    if (!this.isSet(name)) this.issues.push({ variable: name, problem: `is required ${why}` });
  }

  fail(name: string, problem: string, value?: string): void {
    const shown = value === undefined || this.secretNames.has(name) ? '' : ` (got "${truncate(value)}")`;
    this.issues.push({ variable: name, problem: `${problem}${shown}` });
  }
}

function truncate(value: string): string {
  return value.length > 60 ? `${value.slice(0, 57)}...` : value;
}
