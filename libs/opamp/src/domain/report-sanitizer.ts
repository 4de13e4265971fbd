import type { AgentReport } from '../ports';
import type { HealthJson, JsonValue } from '../protocol/codec';
import type { ConfigFiles } from '../protocol/config-hash';

/**
 * What an agent reports is untrusted text that ends up in PostgreSQL, in API responses, on the live
 * bus and in labels. PostgreSQL refuses a NUL in text and `\u0000` or an unpaired surrogate escape in
 * jsonb, so one such string would fail a whole batched write. Every string of a report therefore
 * passes through here once, before it becomes agent state: NUL and unpaired UTF-16 surrogates become
 * U+FFFD (invalid UTF-8 already did when the frame was decoded), over-long strings are cut, and
 * collections and nesting are bounded. Config file bodies are bytes and are left alone.
 */
export interface ReportLimits {
  /** Attribute keys, map keys, file names (UTF-16 code units). */
  keyChars: number;
  /** Attribute values, statuses, content types, capability names. */
  valueChars: number;
  /** Error messages (health last_error, remote config and connection settings errors). */
  messageChars: number;
  /** Entries of one map, list or array. */
  entries: number;
  /** Nesting of arrays and key-value lists in attribute values, and of component health. */
  depth: number;
}

export const REPORT_LIMITS: ReportLimits = { keyChars: 256, valueChars: 4096, messageChars: 8192, entries: 1000, depth: 16 };

/** Why a string or an entry was changed. */
export type NeutralisedReason = 'nul' | 'surrogate' | 'truncated' | 'dropped';

export type NeutralisedTally = Record<NeutralisedReason, number>;

export interface SanitizedReport {
  report: AgentReport;
  /** How many strings (or entries) were changed, by reason; all zero for an ordinary report. */
  tally: NeutralisedTally;
}

const REPLACEMENT = '\uFFFD';
const ELLIPSIS = '\u2026';

function emptyTally(): NeutralisedTally {
  return { nul: 0, surrogate: 0, truncated: 0, dropped: 0 };
}

/** Replaces every unpaired surrogate with U+FFFD; undefined when there is none (the common case). */
function pairSurrogates(s: string): string | undefined {
  let out: string[] | undefined;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    (out ??= []).push(s.slice(from, i), REPLACEMENT);
    from = i + 1;
  }
  if (!out) return undefined;
  out.push(s.slice(from));
  return out.join('');
}

/**
 * One string made safe to store: NUL → U+FFFD, unpaired surrogates → U+FFFD, at most `max` code
 * units (then cut, never inside a surrogate pair, and marked with an ellipsis). Counts into `tally`.
 */
export function neutraliseText(s: string, max: number, tally: NeutralisedTally = emptyTally()): string {
  let out = s;
  if (out.includes('\0')) {
    tally.nul++;
    out = out.replaceAll('\0', REPLACEMENT);
  }
  const paired = pairSurrogates(out);
  if (paired !== undefined) {
    tally.surrogate++;
    out = paired;
  }
  if (out.length > max) {
    tally.truncated++;
    let cut = Math.max(0, max - 1);
    const last = out.charCodeAt(cut - 1);
    if (cut > 0 && last >= 0xd800 && last <= 0xdbff) cut--;
    out = out.slice(0, cut) + ELLIPSIS;
  }
  return out;
}

class Scrubber {
  readonly tally = emptyTally();
  constructor(private readonly limits: ReportLimits) {}

  key(s: string): string {
    return neutraliseText(s, this.limits.keyChars, this.tally);
  }

  value(s: string): string {
    return neutraliseText(s, this.limits.valueChars, this.tally);
  }

  message(s: string): string {
    return neutraliseText(s, this.limits.messageChars, this.tally);
  }

  /** The first `entries` items; the rest are dropped and counted. */
  bounded<T>(items: T[]): T[] {
    if (items.length <= this.limits.entries) return items;
    this.tally.dropped += items.length - this.limits.entries;
    return items.slice(0, this.limits.entries);
  }

  json(v: JsonValue, depth = 0): JsonValue {
    if (typeof v === 'string') return this.value(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= this.limits.depth) {
      this.tally.dropped++;
      return null;
    }
    if (Array.isArray(v)) return this.bounded(v).map((x) => this.json(x, depth + 1));
    return this.record(v, depth);
  }

  record(o: Record<string, JsonValue>, depth = 0): Record<string, JsonValue> {
    // fromEntries defines own properties, so even a key `__proto__` stays data
    return Object.fromEntries(this.bounded(Object.entries(o)).map(([k, x]) => [this.key(k), this.json(x, depth + 1)]));
  }

  health(h: HealthJson, depth = 0): HealthJson {
    const components = depth >= this.limits.depth ? [] : this.bounded(Object.entries(h.components ?? {}));
    return {
      ...h,
      status: this.value(h.status),
      lastError: this.message(h.lastError),
      components: Object.fromEntries(components.map(([k, c]) => [this.key(k), this.health(c, depth + 1)])),
    };
  }

  files(files: ConfigFiles): ConfigFiles {
    // the bodies are bytes (stored base64): only names and content types are text
    return Object.fromEntries(this.bounded(Object.entries(files)).map(([k, f]) => [this.key(k), { body: f.body, contentType: this.value(f.contentType) }]));
  }
}

/**
 * Every string of a decoded status report, neutralised and bounded (see the top of this file). Pure:
 * returns a new report and a tally of what was changed; an ordinary report comes back equal.
 */
export function sanitizeReport(report: AgentReport, limits: ReportLimits = REPORT_LIMITS): SanitizedReport {
  const s = new Scrubber(limits);
  const out: AgentReport = { ...report };
  // spread first: a field added to the report later passes through (and should be neutralised here)
  if (report.description) out.description = { ...report.description, identifying: s.record(report.description.identifying), nonIdentifying: s.record(report.description.nonIdentifying) };
  if (report.health) out.health = s.health(report.health);
  if (report.effectiveConfig) out.effectiveConfig = { ...report.effectiveConfig, files: s.files(report.effectiveConfig.files) };
  if (report.remoteConfigStatus) out.remoteConfigStatus = { ...report.remoteConfigStatus, errorMessage: s.message(report.remoteConfigStatus.errorMessage) };
  if (report.packageStatuses !== undefined) out.packageStatuses = s.json(report.packageStatuses);
  if (report.availableComponents !== undefined) out.availableComponents = s.json(report.availableComponents);
  if (report.connectionSettingsStatus) {
    const c = report.connectionSettingsStatus;
    out.connectionSettingsStatus = { ...c, status: s.value(c.status), hash: s.value(c.hash), errorMessage: s.message(c.errorMessage) };
  }
  if (report.customCapabilities) out.customCapabilities = s.bounded(report.customCapabilities).map((c) => s.value(c));
  return { report: out, tally: s.tally };
}

/** Whether anything was changed. */
export function neutralisedAny(tally: NeutralisedTally): boolean {
  return tally.nul + tally.surrogate + tally.truncated + tally.dropped > 0;
}
