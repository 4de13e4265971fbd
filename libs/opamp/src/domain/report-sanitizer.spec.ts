import fc from 'fast-check';
import type { AgentReport } from '../ports';
import type { HealthJson } from '../protocol/codec';
import { neutraliseText, REPORT_LIMITS, sanitizeReport } from './report-sanitizer';

const NUL = '\u0000';
const HIGH = '\uD83D';
const LOW = '\uDE00';

/** Every string anywhere in a value (keys included). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) for (const [k, x] of Object.entries(v)) out.push(k), strings(x, out);
  return out;
}

function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** What PostgreSQL refuses in text and jsonb. */
function storable(v: unknown): boolean {
  return strings(v).every((s) => !s.includes(NUL) && wellFormed(s)) && !/\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i.test(JSON.stringify(v));
}

function health(status: string, lastError: string, components: Record<string, HealthJson> = {}): HealthJson {
  return { healthy: false, status, lastError, startTime: null, statusTime: null, components };
}

function hostile(bad: string): AgentReport {
  return {
    description: {
      identifying: { [`service${bad}.name`]: `col${bad}`, nested: [`a${bad}`, { [`k${bad}`]: [`v${bad}`] }] },
      nonIdentifying: { 'host.name': `h${bad}` },
    },
    health: health(`s${bad}`, `e${bad}`, { [`pipeline${bad}`]: health('ok', `inner${bad}`, { [`leaf${bad}`]: health(`x${bad}`, '') }) }),
    effectiveConfig: { files: { [`config${bad}.yaml`]: { body: Buffer.from(`a: "${NUL}"`), contentType: `text/yaml${bad}` } }, contentHash: 'ab' },
    remoteConfigStatus: { status: 'FAILED', hash: 'cd', errorMessage: `failed${bad}` },
    packageStatuses: { packages: { [`p${bad}`]: { agentHasVersion: `1${bad}` } }, errorMessage: `pe${bad}` },
    availableComponents: { hash: '00', components: [`otlp${bad}`], subComponents: { [`r${bad}`]: [`s${bad}`] } },
    connectionSettingsStatus: { status: '3', hash: '', errorMessage: `cs${bad}` },
    customCapabilities: [`io.example${bad}`],
  };
}

describe('neutraliseText', () => {
  it('replaces NUL and unpaired surrogates with U+FFFD and keeps pairs', () => {
    expect(neutraliseText(`a${NUL}b${NUL}`, 100)).toBe('a\uFFFDb\uFFFD');
    expect(neutraliseText(`${HIGH}x${LOW}`, 100)).toBe('\uFFFDx\uFFFD');
    expect(neutraliseText(`${HIGH}${LOW}`, 100)).toBe('😀');
    expect(neutraliseText(`end${HIGH}`, 100)).toBe('end\uFFFD');
  });

  it('cuts long strings to the limit, never inside a surrogate pair', () => {
    const tally = { nul: 0, surrogate: 0, truncated: 0, dropped: 0 };
    const out = neutraliseText('x'.repeat(9) + '😀' + 'y'.repeat(20), 11, tally);
    expect(out.length).toBeLessThanOrEqual(11);
    expect(wellFormed(out)).toBe(true);
    expect(out.endsWith('\u2026')).toBe(true);
    expect(tally.truncated).toBe(1);
    expect(neutraliseText('short', 11)).toBe('short');
  });

  it('always returns a storable string within the limit (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer({ min: 1, max: 200 }), (s, max) => {
        const out = neutraliseText(s, max);
        return out.length <= max && storable(out);
      }),
      { numRuns: 500 },
    );
  });
});

describe('sanitizeReport', () => {
  it('leaves an ordinary report as it is and counts nothing', () => {
    const report = hostile('');
    const { report: out, tally } = sanitizeReport(report);
    expect(out).toEqual(report);
    expect(tally).toEqual({ nul: 0, surrogate: 0, truncated: 0, dropped: 0 });
  });

  it.each([
    ['NUL', NUL],
    ['a lone high surrogate', HIGH],
    ['a lone low surrogate', LOW],
  ])('neutralises %s in every string field of a report', (_name, bad) => {
    const report = hostile(bad);
    expect(storable(report)).toBe(false);
    const { report: out, tally } = sanitizeReport(report);
    expect(storable(out)).toBe(true);
    // each hostile string was turned into the same text with U+FFFD in place of the bad unit
    expect(strings(out)).toEqual(strings(report).map((s) => s.split(bad).join('\uFFFD')));
    expect(tally.nul + tally.surrogate).toBe(strings(report).filter((s) => s.includes(bad)).length);
    expect(out.description!.identifying['service\uFFFD.name']).toBe('col\uFFFD');
    expect(out.health!.components['pipeline\uFFFD']!.components['leaf\uFFFD']!.status).toBe('x\uFFFD');
    expect(out.remoteConfigStatus).toEqual({ status: 'FAILED', hash: 'cd', errorMessage: 'failed\uFFFD' });
    // config bodies are bytes: untouched
    expect(Buffer.from(out.effectiveConfig!.files['config\uFFFD.yaml']!.body).toString()).toBe(`a: "${NUL}"`);
    expect(out.effectiveConfig!.files['config\uFFFD.yaml']!.contentType).toBe('text/yaml\uFFFD');
  });

  it('bounds lengths, entries and nesting', () => {
    const long = 'z'.repeat(REPORT_LIMITS.messageChars * 2);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 40; i++) deep = [deep];
    const many = Object.fromEntries(Array.from({ length: REPORT_LIMITS.entries + 5 }, (_, i) => [`k${i}`, 'v']));
    const { report, tally } = sanitizeReport({
      description: { identifying: { deep: deep as never, ['k'.repeat(1000)]: long }, nonIdentifying: many },
      health: health('ok', long),
      customCapabilities: Array.from({ length: REPORT_LIMITS.entries + 1 }, (_, i) => `c${i}`),
    });
    expect(report.health!.lastError.length).toBe(REPORT_LIMITS.messageChars);
    const [key, value] = Object.entries(report.description!.identifying).find(([k]) => k.startsWith('kk'))!;
    expect(key.length).toBe(REPORT_LIMITS.keyChars);
    expect((value as string).length).toBe(REPORT_LIMITS.valueChars);
    expect(Object.keys(report.description!.nonIdentifying)).toHaveLength(REPORT_LIMITS.entries);
    expect(report.customCapabilities).toHaveLength(REPORT_LIMITS.entries);
    expect(JSON.stringify(report.description!.identifying.deep)).not.toContain('bottom');
    expect(tally.truncated).toBe(3);
    expect(tally.dropped).toBe(5 + 1 + 1);
  });

  it('keeps an attribute named __proto__ as data', () => {
    const identifying = Object.fromEntries([['__proto__', 'x']]);
    const { report } = sanitizeReport({ description: { identifying, nonIdentifying: {} } });
    expect(Object.getPrototypeOf(report.description!.identifying)).toBe(Object.prototype);
    expect(JSON.stringify(report.description!.identifying)).toBe('{"__proto__":"x"}');
  });
});
